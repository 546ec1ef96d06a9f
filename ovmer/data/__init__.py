"""Datasets and their readers: OV-MERD, the authors' released outputs, the MER2025 layout,
the emotion-wheel assets (:mod:`ovmer.data.wheels`) and name -> value files
(:mod:`ovmer.data.name_values`)."""

from ovmer.data.name_values import NameValueSpec, read_name_values
from ovmer.data.ovmerd import OVMERD, load_ovmerd
from ovmer.data.released import (
    RELEASED_BASELINES,
    load_released_descriptions,
    load_released_labels,
    released_file,
)
from ovmer.data.wheels import WheelAssets, load_wheel_assets

__all__ = [
    "OVMERD",
    "RELEASED_BASELINES",
    "NameValueSpec",
    "WheelAssets",
    "load_ovmerd",
    "load_released_descriptions",
    "load_released_labels",
    "load_wheel_assets",
    "read_name_values",
    "released_file",
]
