"""Where the authors' released per-baseline outputs on OV-MERD are, and loading them.

Moving them into the results store (and store files back out to their format) is
:mod:`ovmer.store.authors_npz`'s job; the npz readers are :mod:`ovmer.data.name_values`'.
"""

from __future__ import annotations

from ovmer.assets import asset_path
from ovmer.data.name_values import read_description_npz, read_openset_npz
from ovmer.errors import OvmerError
from ovmer.registry import Registry
from ovmer.settings import Setting

RELEASED_BASELINES: tuple[str, ...] = (
    "Chat-UniVi",
    "LLaMA-VID",
    "Otter",
    "Qwen-Audio",
    "SALMONN",
    "Video-ChatGPT",
    "Video-LLaVA",
    "VideoChat",
    "VideoChat2",
    "mPLUG-Owl",
)
# Baseline -> the folder of its released files (manifest paths).
RELEASED_FOLDERS: Registry[str] = Registry("released baseline")
for _baseline in RELEASED_BASELINES:
    RELEASED_FOLDERS.register(_baseline, f"results-ovmerd/{_baseline}", lazy=False)

__all__ = [
    "RELEASED_BASELINES",
    "RELEASED_FOLDERS",
    "load_released_descriptions",
    "load_released_labels",
    "read_description_npz",
    "read_openset_npz",
    "released_file",
]


def released_file(baseline: str, setting: Setting | str, kind: str = "openset") -> str:
    """Manifest path of a released file; ``kind`` is ``description`` or ``openset``."""
    folder = RELEASED_FOLDERS.get(baseline)
    if kind not in ("description", "openset"):
        raise OvmerError(f"kind must be 'description' or 'openset', got {kind!r}")
    suffix = "-openset" if kind == "openset" else ""
    return f"{folder}/output-reason-7b-{Setting.parse(setting).value}-eng{suffix}.npz"


def load_released_descriptions(baseline: str, setting: Setting | str) -> dict[str, str]:
    return read_description_npz(asset_path(released_file(baseline, setting, "description")))


def load_released_labels(baseline: str, setting: Setting | str) -> dict[str, str]:
    return read_openset_npz(asset_path(released_file(baseline, setting, "openset")))
