"""The authors' released per-baseline outputs on OV-MERD."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ovmer.assets import asset_path, load_pickled_npz
from ovmer.errors import OvmerError
from ovmer.settings import Setting

RELEASED_BASELINES: tuple[str, ...] = (
    "Chat-UniVi",
    "LLaMA-VID",
    "Otter",
    "Qwen-Audio",
    "SALMONN",
    "Video-LLaVA",
    "VideoChat",
    "mPLUG-Owl",
)


def released_file(baseline: str, setting: Setting | str, kind: str = "openset") -> str:
    """Manifest path of a released file; ``kind`` is ``description`` or ``openset``."""
    if baseline not in RELEASED_BASELINES:
        import difflib

        close = difflib.get_close_matches(baseline, RELEASED_BASELINES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise OvmerError(f"no released outputs for baseline {baseline!r}{hint}")
    if kind not in ("description", "openset"):
        raise OvmerError(f"kind must be 'description' or 'openset', got {kind!r}")
    suffix = "-openset" if kind == "openset" else ""
    return f"results-ovmerd/{baseline}/output-reason-7b-{Setting.parse(setting).value}-eng{suffix}.npz"


def read_description_npz(path: str | Path, trust: bool = False) -> dict[str, str]:
    data = load_pickled_npz(path, trust=trust)
    if "name2reason" not in data or not isinstance(data["name2reason"], dict):
        raise OvmerError(f"{path}: expected key 'name2reason' holding a dict, found {sorted(data)}")
    return {str(k): str(v) for k, v in data["name2reason"].items()}


def read_openset_npz(path: str | Path) -> dict[str, str]:
    """name -> the raw label-list string (parse with :func:`ovmer.labels.parse_labels`)."""
    with np.load(path, allow_pickle=False) as archive:
        if set(archive.files) != {"filenames", "fileitems"}:
            raise OvmerError(f"{path}: expected keys filenames, fileitems; found {archive.files}")
        names, items = archive["filenames"], archive["fileitems"]
    if names.shape != items.shape:
        raise OvmerError(f"{path}: {len(names)} filenames but {len(items)} fileitems")
    return {str(n): str(i) for n, i in zip(names, items, strict=True)}


def load_released_descriptions(baseline: str, setting: Setting | str) -> dict[str, str]:
    return read_description_npz(asset_path(released_file(baseline, setting, "description")))


def load_released_labels(baseline: str, setting: Setting | str) -> dict[str, str]:
    return read_openset_npz(asset_path(released_file(baseline, setting, "openset")))
