"""What the explorer reads: a baseline's labels and descriptions, and a sample's own scores.

Shared by :mod:`ovmer.reproduce.explore` (one sample) and :mod:`ovmer.reproduce.explore_compare`
(every baseline on one sample, the disagreement ranking).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovmer.assets import asset_path
from ovmer.data import load_ovmerd
from ovmer.data.released import load_released_descriptions, released_file
from ovmer.errors import OvmerError
from ovmer.registry import did_you_mean
from ovmer.scoring import METRIC_NAMES, read_predictions
from ovmer.scoring.metrics import SampleScores, summarize
from ovmer.settings import Setting
from ovmer.store import ResultsStore, store_path
from ovmer.store.authors_npz import description_stage

SOURCES = ("released", "store")


@functools.lru_cache(maxsize=64)
def _released(baseline: str, setting: Setting) -> tuple[dict[str, Any], dict[str, str]]:
    labels = read_predictions(asset_path(released_file(baseline, setting)))
    return labels, load_released_descriptions(baseline, setting)


def labels_and_descriptions(baseline: str, setting: Setting, source: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A baseline's label lists and descriptions (released files are read once per process)."""
    if source not in SOURCES:
        raise OvmerError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if source == "released":
        return _released(baseline, setting)
    label_file = store_path("extract", baseline, setting)
    if not label_file.is_file():
        raise OvmerError(f"{label_file}: no extracted labels of {baseline} / {setting.value} in the store")
    described = store_path(description_stage(setting), baseline, setting)
    texts = ResultsStore(described).values() if described.is_file() else {}
    return read_predictions(label_file), {n: str(v) for n, v in texts.items()}


def parse_setting(setting: str | Setting) -> Setting:
    try:
        return Setting.parse(setting)
    except ValueError as exc:
        raise OvmerError(str(exc)) from None


def check_sample(name: str) -> str:
    """``name``, checked to be an OV-MERD test sample (empty: the first one)."""
    dataset = load_ovmerd()
    name = name or dataset.names[0]
    if name not in dataset.ground_truth:
        raise OvmerError(f"{name!r} is not an OV-MERD test sample.{did_you_mean(name, dataset.names)}")
    return name


@dataclass(frozen=True)
class SampleScore:
    """The sample's own scores, and what it adds to the dataset's M-avg."""

    f: dict[str, float]  # metric -> F x100 (NaN: not counted)
    m_avg: float  # mean F x100 over the counted metrics (NaN: counted under none)
    dataset_m_avg: float  # x100, every sample
    without_m_avg: float  # x100, this sample left out

    @property
    def contribution(self) -> float:
        return self.dataset_m_avg - self.without_m_avg


def f_values(scores: SampleScores) -> np.ndarray:
    """(12, n) per-sample F; NaN where the sample is not counted."""
    p, r = scores.precision, scores.recall
    f = np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) > 0)
    return np.where(scores.counted, f, np.nan)


def sample_m_avg(scores: SampleScores) -> np.ndarray:
    """(n,) mean F over each sample's counted metrics (NaN when none)."""
    f = f_values(scores)
    counted = scores.counted.sum(axis=0)
    total = np.nansum(f, axis=0)
    return np.divide(total, counted, out=np.full(counted.shape, np.nan), where=counted > 0)


def _subset(scores: SampleScores, keep: np.ndarray) -> SampleScores:
    names = tuple(n for n, k in zip(scores.names, keep, strict=True) if k)
    return SampleScores(names, scores.precision[:, keep], scores.recall[:, keep], scores.counted[:, keep])


def sample_score(scores: SampleScores, name: str) -> SampleScore:
    index = scores.names.index(name)
    keep = np.ones(len(scores.names), dtype=bool)
    keep[index] = False
    f = f_values(scores)[:, index]
    return SampleScore(
        f={m: 100 * float(v) for m, v in zip(METRIC_NAMES, f, strict=True)},
        m_avg=100 * float(sample_m_avg(scores)[index]),
        dataset_m_avg=100 * summarize(scores).m_avg,
        without_m_avg=100 * summarize(_subset(scores, keep)).m_avg,
    )
