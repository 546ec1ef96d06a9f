"""Uncertainty and agreement: bootstrap intervals, a paired A-vs-B test, metric correlation.

Samples are the resampling unit. A bootstrap replicate draws the ground-truth
samples with replacement (seeded ``numpy.random.default_rng``) and recomputes
every metric exactly as on the full set (means over counted samples, then F).
The paired test uses the same replicates for both systems (interval of the
difference) and a paired permutation test for its p-value: under "A and B are
exchangeable", each sample's A and B scores are swapped with probability 1/2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovmer.errors import OvmerError
from ovmer.registry import unknown_name
from ovmer.scoring.mapping import METRIC_NAMES
from ovmer.scoring.metrics import (
    DEFAULT_PARSER,
    M_AVG,
    SampleScores,
    default_ground_truth,
    per_sample_scores,
)
from ovmer.scoring.resources import WheelResources

SCORE_NAMES = (*METRIC_NAMES, M_AVG)  # the columns of a replicate: every metric's F, then M-avg


@dataclass(frozen=True)
class PairedResult:
    delta: float  # metric(A) - metric(B) on all samples (fraction)
    ci_low: float  # paired-bootstrap interval of the difference
    ci_high: float
    p_value: float  # two-sided paired permutation test


def _check_metric(metric: str) -> str:
    if metric not in SCORE_NAMES:
        raise unknown_name("metric", metric, SCORE_NAMES)
    return metric


def _check_resampling(n_boot: int, level: float) -> None:
    if not 0 < level < 1:
        raise OvmerError(f"level must be between 0 and 1, got {level}")
    if n_boot < 1:
        raise OvmerError(f"n_boot must be positive, got {n_boot}")


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """The central ``level`` percentile interval of the finite ``values`` (NaN, NaN when none)."""
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return float(low), float(high)


def _f_values(p_sum: np.ndarray, r_sum: np.ndarray, count: np.ndarray) -> np.ndarray:
    """F from summed precision/recall and counted-sample totals (any shape); NaN where nothing counted."""
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = p_sum / count
        recall = r_sum / count
        total = precision + recall
        f = np.where(total > 0, 2 * precision * recall / np.where(total > 0, total, 1.0), 0.0)
    return np.where(count > 0, f, np.nan)


def _replicate_values(scores: SampleScores, weights: np.ndarray) -> np.ndarray:
    """(replicates, 13): F of each metric then M-avg, for sample weights (replicates, n)."""
    counted = scores.counted.astype(np.float64)  # (12, n)
    p_sum = weights @ (scores.precision * counted).T  # (R, 12)
    r_sum = weights @ (scores.recall * counted).T
    count = weights @ counted.T
    f = _f_values(p_sum, r_sum, count)
    return np.concatenate([f, f.mean(axis=1, keepdims=True)], axis=1)


def _bootstrap_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    draws = rng.integers(0, n, size=(n_boot, n))
    flat = (draws + (np.arange(n_boot) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(np.float64)


def bootstrap_intervals(
    predictions: Mapping[str, Any],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    resources: WheelResources | None = None,
    missing_as_empty: bool = False,
    parser: str = DEFAULT_PARSER,
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval (fractions) of every metric's F and of M-avg."""
    _check_resampling(n_boot, level)
    scores = per_sample_scores(
        predictions, ground_truth, resources=resources, missing_as_empty=missing_as_empty, parser=parser
    )
    rng = np.random.default_rng(seed)
    values = _replicate_values(scores, _bootstrap_weights(len(scores.names), n_boot, rng))
    return {name: _interval(values[:, column], level) for column, name in enumerate(SCORE_NAMES)}


def paired_test(
    predictions_a: Mapping[str, Any],
    predictions_b: Mapping[str, Any],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    metric: str = M_AVG,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    resources: WheelResources | None = None,
    missing_as_empty: bool = False,
    parser: str = DEFAULT_PARSER,
) -> PairedResult:
    """Does system A beat system B on ``metric``? Same samples, paired resampling."""
    column = SCORE_NAMES.index(_check_metric(metric))
    _check_resampling(n_boot, level)
    truth = default_ground_truth(parser) if ground_truth is None else ground_truth
    a, b = (
        per_sample_scores(p, truth, resources=resources, missing_as_empty=missing_as_empty, parser=parser)
        for p in (predictions_a, predictions_b)
    )
    n = len(a.names)
    full = np.ones((1, n))
    delta = float(_replicate_values(a, full)[0, column] - _replicate_values(b, full)[0, column])

    rng = np.random.default_rng(seed)
    weights = _bootstrap_weights(n, n_boot, rng)
    low, high = _interval(_replicate_values(a, weights)[:, column] - _replicate_values(b, weights)[:, column], level)

    # Permutation: swapping A and B on a sample moves (B - A) of its scores from A's sums to B's.
    swap = rng.integers(0, 2, size=(n_boot, n)).astype(np.float64)
    counted = a.counted.astype(np.float64)  # same ground truth, same counted samples
    count = np.broadcast_to(counted.sum(axis=1), (n_boot, len(METRIC_NAMES)))
    p_a, r_a = (a.precision * counted).sum(axis=1), (a.recall * counted).sum(axis=1)
    p_b, r_b = (b.precision * counted).sum(axis=1), (b.recall * counted).sum(axis=1)
    dp = swap @ ((b.precision - a.precision) * counted).T
    dr = swap @ ((b.recall - a.recall) * counted).T
    f_a = _f_values(p_a + dp, r_a + dr, count)
    f_b = _f_values(p_b - dp, r_b - dr, count)
    if column < len(METRIC_NAMES):
        perm = f_a[:, column] - f_b[:, column]
    else:
        perm = f_a.mean(axis=1) - f_b.mean(axis=1)
    extreme = np.count_nonzero(np.abs(perm) >= abs(delta) - 1e-12)
    p_value = (1 + extreme) / (1 + n_boot)
    return PairedResult(delta=delta, ci_low=low, ci_high=high, p_value=float(p_value))


def metric_correlation(frame: Any, a: str, b: str) -> tuple[float, float]:
    """(Pearson, Spearman) correlation of columns ``a`` and ``b`` across rows (systems)."""
    import pandas as pd

    for column in (a, b):
        if column not in frame.columns:
            raise unknown_name("column", str(column), [str(c) for c in frame.columns])

    pair = pd.DataFrame(
        {"a": frame[a].astype(float).to_numpy(), "b": frame[b].astype(float).to_numpy()}
    ).dropna()
    if len(pair) < 3:
        raise OvmerError(
            f"correlation of {a!r} and {b!r} needs at least 3 rows with both values, got {len(pair)}"
        )
    pearson = float(np.corrcoef(pair["a"].to_numpy(), pair["b"].to_numpy())[0, 1])
    spearman = float(np.corrcoef(pair["a"].rank().to_numpy(), pair["b"].rank().to_numpy())[0, 1])
    return pearson, spearman
