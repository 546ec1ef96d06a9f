"""Datasets: the OV-MERD test set, the authors' released outputs, the MER2025 layout."""

from ovmer.data.ovmerd import OVMERD, load_ovmerd
from ovmer.data.released import (
    RELEASED_BASELINES,
    load_released_descriptions,
    load_released_labels,
    released_file,
)

__all__ = [
    "OVMERD",
    "RELEASED_BASELINES",
    "load_ovmerd",
    "load_released_descriptions",
    "load_released_labels",
    "released_file",
]
