"""Scoring prediction files: openset npz, results-store JSONL of label lists, ``name, openset`` CSV.

The files are read by :mod:`ovmer.data.name_values` (spec :data:`PREDICTION_FILES`). Every
route gives the scorer the same raw text: the npz ``fileitems``, the CSV cell, the store
record's ``raw`` reply (its parsed ``value`` only when it has no reply), so the chosen
parser alone decides how a label list is read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ovmer.assets import asset_path
from ovmer.data.name_values import PREDICTION_FILES, read_name_values
from ovmer.data.released import released_file
from ovmer.scoring.metrics import DEFAULT_PARSER, ScoreReport, parse_value
from ovmer.scoring.protocols.base import ScoringTask
from ovmer.scoring.resources import WheelResources
from ovmer.settings import Setting

LABEL_FILE_SUFFIXES = PREDICTION_FILES.suffixes
_SETTING_IN_NAME = re.compile(
    r"(?:^|[-_.])("
    + "|".join(re.escape(s.value) for s in sorted(Setting, key=lambda s: -len(s.value)))
    + r")(?:[-_.]|$)"
)


def read_raw_predictions(path: str | os.PathLike[str]) -> dict[str, Any]:
    """name -> the raw label value of a prediction file (not parsed); see :data:`PREDICTION_FILES`."""
    return read_name_values(path, PREDICTION_FILES)


def read_predictions(path: str | os.PathLike[str], *, parser: str = DEFAULT_PARSER) -> dict[str, list[str]]:
    """name -> parsed labels of an openset npz, a results-store JSONL of label lists, or a CSV."""
    raw = read_raw_predictions(path)
    return {name: list(parse_value(value, f"{path}: {name}", parser)) for name, value in raw.items()}


def infer_setting(path: str | os.PathLike[str]) -> str | None:
    """The setting named in a file name (``…-nosubtitle-addsub-eng-openset.npz``, ``subtitle.jsonl``)."""
    match = _SETTING_IN_NAME.search(Path(path).name)
    return match.group(1) if match else None


def file_task(
    path: str | os.PathLike[str],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    missing_as_empty: bool = False,
    parser: str = DEFAULT_PARSER,
    resources: WheelResources | None = None,
    baseline: str | None = None,
    setting: str | None = None,
) -> ScoringTask:
    """One prediction file to score under any protocol; ``baseline`` defaults to its folder's name,
    ``setting`` to its file name's. Its raw values are read once; the chosen parser reads them."""
    path = Path(path)
    return ScoringTask(
        read_raw_predictions(path),
        ground_truth,
        resources=resources,
        missing_as_empty=missing_as_empty,
        parser=parser,
        file=str(path),
        baseline=baseline if baseline is not None else path.parent.name or None,
        setting=setting if setting is not None else infer_setting(path),
    )


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
    """Score one prediction file under the paper's 12 metrics (see :func:`file_task`)."""
    return file_task(
        path, ground_truth, missing_as_empty=missing_as_empty, parser=parser, resources=resources,
        baseline=baseline, setting=setting,
    ).report


def score_released(
    baseline: str,
    setting: Setting | str,
    *,
    parser: str = DEFAULT_PARSER,
    resources: WheelResources | None = None,
) -> ScoreReport:
    """Score the authors' released openset file of a baseline and setting against OV-MERD."""
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
            if PREDICTION_FILES.accepts_stage_of(path):  # describe/merge/asr/group files hold no labels
                found.append(path)
        elif suffix == ".csv":
            with open(path, encoding="utf-8", errors="replace") as handle:
                header = [c.strip().strip('"') for c in handle.readline().split(",")]
            if "name" in header and "openset" in header:
                found.append(path)
    return found
