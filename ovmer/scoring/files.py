"""Prediction files: openset npz, results-store JSONL of label lists, ``name, openset`` CSV."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ovmer.errors import OvmerError
from ovmer.scoring.metrics import DEFAULT_PARSER, ScoreReport, parse_value, score_predictions
from ovmer.scoring.resources import WheelResources
from ovmer.settings import Setting

LABEL_FILE_SUFFIXES = (".npz", ".jsonl", ".csv")
LABEL_STAGE = "extract"  # the only results-store stage whose values are label lists
_SETTING_IN_NAME = re.compile(
    r"(?:^|[-_.])("
    + "|".join(re.escape(s.value) for s in sorted(Setting, key=lambda s: -len(s.value)))
    + r")(?:[-_.]|$)"
)


def _read_npz(path: Path) -> dict[str, Any]:
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as exc:  # object arrays need pickle: not a label file we accept
        raise OvmerError(f"{path}: not an openset npz of text arrays ({exc})") from exc
    except (OSError, EOFError) as exc:
        raise OvmerError(f"{path}: cannot read as npz ({exc})") from exc
    with archive:
        if set(archive.files) != {"filenames", "fileitems"}:
            raise OvmerError(f"{path}: expected keys filenames, fileitems; found {sorted(archive.files)}")
        try:
            names, items = archive["filenames"], archive["fileitems"]
        except ValueError as exc:
            raise OvmerError(f"{path}: filenames/fileitems must be text arrays ({exc})") from exc
    for key, array in (("filenames", names), ("fileitems", items)):
        if array.dtype.kind not in "US" or array.ndim != 1:
            raise OvmerError(
                f"{path}: {key} must be a 1-D array of text, got dtype {array.dtype} shape {array.shape}"
            )
    if names.shape != items.shape:
        raise OvmerError(f"{path}: {len(names)} filenames but {len(items)} fileitems")
    return {str(n): str(i) for n, i in zip(names.tolist(), items.tolist(), strict=True)}


def _read_csv(path: Path) -> dict[str, Any]:
    from ovmer.data.csvfile import read_csv_columns

    frame = read_csv_columns(path, ("name", "openset"), "a prediction CSV")
    return dict(zip(frame["name"], frame["openset"], strict=True))


def _store_stage(path: Path) -> str | None:
    """The stage of a file laid out as ``store/<stage>/<baseline>/<setting>.jsonl``, else None."""
    from ovmer.store.jsonl import STAGES

    stage = path.parent.parent.name
    return stage if stage in STAGES and path.parent.parent.parent.name == "store" else None


def _read_store(path: Path) -> dict[str, Any]:
    from ovmer.store import ResultsStore

    stage = _store_stage(path)
    if stage not in (None, LABEL_STAGE):
        raise OvmerError(
            f"{path}: a {stage}-stage store file, not label lists; score the {LABEL_STAGE} stage's file "
            f"(run `ovmer extract` on these results first)"
        )
    latest = ResultsStore(path).latest()
    failed = [name for name, record in latest.items() if not record.ok]
    if failed:
        warnings.warn(
            f"{path}: {len(failed)} sample(s) have an error record and count as missing: {', '.join(failed[:5])}",
            stacklevel=3,
        )
    return {name: record.value for name, record in latest.items() if record.ok}


def read_raw_predictions(path: str | os.PathLike[str]) -> dict[str, Any]:
    """name -> the raw label value of a prediction file (not parsed)."""
    path = Path(path)
    if not path.is_file():
        raise OvmerError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_npz(path)
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".jsonl":
        return _read_store(path)
    raise OvmerError(f"{path}: unsupported prediction file (expected {', '.join(LABEL_FILE_SUFFIXES)})")


def read_predictions(path: str | os.PathLike[str], *, parser: str = DEFAULT_PARSER) -> dict[str, list[str]]:
    """name -> parsed labels of an openset npz, a results-store JSONL of label lists, or a CSV."""
    raw = read_raw_predictions(path)
    return {name: list(parse_value(value, f"{path}: {name}", parser)) for name, value in raw.items()}


def infer_setting(path: str | os.PathLike[str]) -> str | None:
    """The setting named in a file name (``…-nosubtitle-addsub-eng-openset.npz``, ``subtitle.jsonl``)."""
    match = _SETTING_IN_NAME.search(Path(path).name)
    return match.group(1) if match else None


def score_file(
    path: str | os.PathLike[str],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    missing_as_empty: bool = False,
    parser: str = DEFAULT_PARSER,
    resources: WheelResources | None = None,
    baseline: str | None = None,
    setting: str | None = None,
) -> ScoreReport:
    """Score one prediction file; ``baseline`` defaults to its folder's name, ``setting`` to its file name's."""
    path = Path(path)
    raw = read_raw_predictions(path)
    return score_predictions(
        raw,
        ground_truth,
        resources=resources,
        missing_as_empty=missing_as_empty,
        parser=parser,
        file=str(path),
        baseline=baseline if baseline is not None else path.parent.name or None,
        setting=setting if setting is not None else infer_setting(path),
    )


def score_released(
    baseline: str,
    setting: Setting | str,
    *,
    parser: str = DEFAULT_PARSER,
    resources: WheelResources | None = None,
) -> ScoreReport:
    """Score the authors' released openset file of a baseline and setting against OV-MERD."""
    from ovmer.assets import asset_path
    from ovmer.data.released import released_file

    value = Setting.parse(setting).value
    path = asset_path(released_file(baseline, value, "openset"))
    return score_file(path, parser=parser, resources=resources, baseline=baseline, setting=value)


def find_label_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Label files below a folder: ``*openset*.npz``, ``*.jsonl`` and CSVs with ``name, openset`` columns."""
    root = Path(folder)
    found: list[Path] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")):
        suffix = path.suffix.lower()
        if suffix == ".npz" and "openset" in path.name:
            found.append(path)
        elif suffix == ".jsonl":
            if _store_stage(path) in (None, LABEL_STAGE):  # describe/merge/asr/group files hold no labels
                found.append(path)
        elif suffix == ".csv":
            with open(path, encoding="utf-8", errors="replace") as handle:
                header = [c.strip().strip('"') for c in handle.readline().split(",")]
            if "name" in header and "openset" in header:
                found.append(path)
    return found
