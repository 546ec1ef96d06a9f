"""Set-level scores of predicted label lists against the ground truth (the fast path).

Per sample and metric, ground truth and prediction are mapped to sets. A sample
whose mapped ground truth is empty is skipped; an empty mapped prediction scores
precision 0 and recall 0 and still counts; otherwise precision = |G∩P|/|P| and
recall = |G∩P|/|G|. Dataset precision and recall are the means over counted
samples, F = 2PR/(P+R) of those means (0 when both are 0), M-avg the mean of the
12 F values. All values are fractions; ×100 is for display.

Speed: each label is looked up once in the compiled table (12 ids at once), and
all samples and metrics are scored together with integer-key set operations.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ovmer.assets import asset_path
from ovmer.data.name_values import GROUND_TRUTH_FILES, read_name_values
from ovmer.data.ovmerd import GROUND_TRUTH
from ovmer.errors import OvmerError
from ovmer.labels import parse_labels
from ovmer.registry import Registry
from ovmer.scoring.compat import parse_labels_authors
from ovmer.scoring.mapping import METRIC_NAMES
from ovmer.scoring.resources import WheelResources, load_resources

N_METRICS = len(METRIC_NAMES)
M_AVG = "M-avg"

LabelParser = Callable[..., list[str]]
LABEL_PARSERS: Registry[LabelParser] = Registry("label parser", entry_points="ovmer.label_parsers")
# "authors" is needed to reproduce the published numbers (their GPT groupings were made over labels
# split that way).
LABEL_PARSERS.register("authors", parse_labels_authors, "the authors' split (reproduces the paper; default)")
LABEL_PARSERS.register("ovmer", parse_labels, "ovmer.labels.parse_labels")
DEFAULT_PARSER = "authors"


def get_parser(name: str) -> LabelParser:
    """The label parser registered as ``name`` (unknown names: an error with a did-you-mean)."""
    return LABEL_PARSERS.get(name)


@functools.lru_cache(maxsize=1 << 16)
def _parse_text(parser: str, value: str | tuple[str, ...]) -> tuple[str, ...]:
    return tuple(get_parser(parser)(value))


def parse_value(value: Any, where: str, parser: str = DEFAULT_PARSER) -> tuple[str, ...]:
    """One sample's labels, parsed with the chosen parser (text and lists of text are cached)."""
    # An unknown parser raises from get_parser on either path (lru_cache does not cache errors).
    if isinstance(value, str):
        return _parse_text(parser, value)
    if isinstance(value, (list, tuple)) and all(type(item) is str for item in value):
        return _parse_text(parser, tuple(value))
    return tuple(get_parser(parser)(value, where=where))


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f: float
    n_scored: int = 0  # samples counted (mapped ground truth non-empty)


def f_score(precision: float, recall: float) -> float:
    if math.isnan(precision) or math.isnan(recall):
        return math.nan
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class ScoreReport:
    metrics: dict[str, PRF]
    m_avg: float
    n_scored: int  # samples counted under at least one metric (= under M1)
    n_samples: int  # ground-truth samples
    file: str | None = None
    baseline: str | None = None
    setting: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object (fractions, full precision; an undefined metric is null)."""
        return {
            "file": self.file,
            "baseline": self.baseline,
            "setting": self.setting,
            "n_scored": self.n_scored,
            "metrics": {
                name: {
                    "precision": _json_float(prf.precision),
                    "recall": _json_float(prf.recall),
                    "f": _json_float(prf.f),
                }
                for name, prf in self.metrics.items()
            },
            M_AVG: _json_float(self.m_avg),
        }

    def to_frame(self) -> Any:
        """pandas DataFrame: one row per metric, columns precision, recall, f (fractions)."""
        import pandas as pd

        frame = pd.DataFrame(
            [[p.precision, p.recall, p.f] for p in self.metrics.values()],
            index=pd.Index(list(self.metrics), name="metric"),
            columns=["precision", "recall", "f"],
        )
        return frame

    def f_row(self, scale: float = 100.0) -> dict[str, float]:
        """Metric name (and ``M-avg``) -> F × scale."""
        row = {name: prf.f * scale for name, prf in self.metrics.items()}
        row[M_AVG] = self.m_avg * scale
        return row


@dataclass(frozen=True)
class SampleScores:
    """Per-sample, per-metric scores (rows: ``METRIC_NAMES``; columns: ``names``)."""

    names: tuple[str, ...]
    precision: np.ndarray  # (12, n) float64
    recall: np.ndarray  # (12, n) float64
    counted: np.ndarray  # (12, n) bool: mapped ground truth non-empty


def align_samples(
    predictions: Mapping[str, Any],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    missing_as_empty: bool = False,
    parser: str = DEFAULT_PARSER,
    where: str = "predictions",
) -> tuple[tuple[str, ...], list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(names in ground-truth order, parsed ground truth, parsed predictions).

    The ground truth defaults to OV-MERD's. A ground-truth sample without a
    prediction is an error naming the samples, unless ``missing_as_empty``;
    predictions for unknown samples are ignored with a warning.
    """
    if not isinstance(predictions, Mapping):
        raise OvmerError(
            f"{where}: predictions must be a mapping name -> labels, got {type(predictions).__name__}"
        )
    if ground_truth is None:
        ground_truth = default_ground_truth(parser)
    if not isinstance(ground_truth, Mapping):
        raise OvmerError(f"ground truth must be a mapping name -> labels, got {type(ground_truth).__name__}")
    names = tuple(str(n) for n in ground_truth)
    missing = [n for n in names if n not in predictions]
    if missing and not missing_as_empty:
        shown = ", ".join(missing[:10]) + (f", … ({len(missing)} in all)" if len(missing) > 10 else "")
        raise OvmerError(
            f"{where}: no prediction for {len(missing)} ground-truth sample(s): {shown} "
            "(use --missing-as-empty / missing_as_empty=True to score them as empty)"
        )
    extra = [n for n in predictions if n not in ground_truth]
    if extra:
        shown = ", ".join(map(str, extra[:5])) + (" …" if len(extra) > 5 else "")
        warnings.warn(
            f"{where}: ignored {len(extra)} prediction(s) not in the ground truth: {shown}", stacklevel=3
        )
    gt = [parse_value(ground_truth[n], f"ground truth: {n}", parser) for n in names]
    pred = [parse_value(predictions[n], f"{where}: {n}", parser) if n in predictions else () for n in names]
    return names, gt, pred


def _encode(label_lists: Sequence[Sequence[str]], resources: WheelResources) -> np.ndarray:
    """Sorted unique keys ``(metric * n + sample) * stride + id`` of every mapped label."""
    rows = resources.label_rows.get
    pairs = [
        (row, sample)
        for sample, labels in enumerate(label_lists)
        for row in map(rows, labels)
        if row is not None
    ]
    index = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    ids = resources.id_matrix[index[:, 0]]  # (L, 12)
    metric = np.broadcast_to(np.arange(N_METRICS, dtype=np.int64), ids.shape)
    sample = np.broadcast_to(index[:, 1:], ids.shape)
    keep = ids >= 0
    keys = np.sort((metric[keep] * len(label_lists) + sample[keep]) * resources.id_stride + ids[keep])
    # Sort-based de-duplication: much faster than np.unique's hashing for these small int keys.
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys


@functools.lru_cache(maxsize=8)
def _encode_cached(label_lists: tuple[tuple[str, ...], ...], resources: WheelResources) -> np.ndarray:
    # The ground truth is the same for every file scored against it.
    keys = _encode(label_lists, resources)
    keys.flags.writeable = False
    return keys


@dataclass(frozen=True)
class OverlapCounts:
    """Per metric and sample, the sizes of the mapped sets: |G|, |P| and |G ∩ P| (each (12, n) int)."""

    gt_size: np.ndarray
    pred_size: np.ndarray
    hits: np.ndarray


def overlap_counts(
    gt: Sequence[Sequence[str]], pred: Sequence[Sequence[str]], resources: WheelResources
) -> OverlapCounts:
    """Mapped set sizes and overlaps of every sample under all 12 metrics at once (labels parsed)."""
    n = len(gt)
    cells = N_METRICS * n
    gt_keys = _encode_cached(tuple(map(tuple, gt)), resources)
    pred_keys = _encode(pred, resources)
    both = np.intersect1d(gt_keys, pred_keys, assume_unique=True)
    stride = resources.id_stride

    def per_cell(keys: np.ndarray) -> np.ndarray:
        return np.bincount(keys // stride, minlength=cells).reshape(N_METRICS, n)

    return OverlapCounts(per_cell(gt_keys), per_cell(pred_keys), per_cell(both))


def sample_scores(
    names: Sequence[str],
    gt: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    resources: WheelResources,
) -> SampleScores:
    """Per-sample precision/recall under all 12 metrics at once (labels already parsed)."""
    n = len(names)
    counts = overlap_counts(gt, pred, resources)
    gt_size, pred_size, hits = counts.gt_size, counts.pred_size, counts.hits
    precision = np.divide(hits, pred_size, out=np.zeros((N_METRICS, n)), where=pred_size > 0)
    recall = np.divide(hits, gt_size, out=np.zeros((N_METRICS, n)), where=gt_size > 0)
    return SampleScores(tuple(names), precision, recall, gt_size > 0)


def summarize(
    scores: SampleScores,
    *,
    file: str | None = None,
    baseline: str | None = None,
    setting: str | None = None,
) -> ScoreReport:
    metrics: dict[str, PRF] = {}
    for m, name in enumerate(METRIC_NAMES):
        counted = scores.counted[m]
        n_counted = int(counted.sum())
        if n_counted:
            precision = float(np.mean(scores.precision[m][counted]))
            recall = float(np.mean(scores.recall[m][counted]))
        else:
            precision = recall = math.nan
        metrics[name] = PRF(precision, recall, f_score(precision, recall), n_counted)
    m_avg = float(np.mean([prf.f for prf in metrics.values()]))
    return ScoreReport(
        metrics=metrics,
        m_avg=m_avg,
        n_scored=int(scores.counted.any(axis=0).sum()),
        n_samples=len(scores.names),
        file=file,
        baseline=baseline,
        setting=setting,
    )


@functools.lru_cache(maxsize=8)
def _ground_truth_file(path: str, parser: str) -> dict[str, tuple[str, ...]]:
    values = read_name_values(path, GROUND_TRUTH_FILES)
    return {name: parse_value(value, f"{path}: {name}", parser) or ("neutral",) for name, value in values.items()}


def read_ground_truth_csv(path: str | os.PathLike[str], parser: str = DEFAULT_PARSER) -> dict[str, list[str]]:
    """A ``name, openset`` CSV -> name -> labels; a row without labels becomes ``['neutral']``."""
    get_parser(parser)
    return {
        name: list(labels) for name, labels in _ground_truth_file(str(Path(path).resolve()), parser).items()
    }


def default_ground_truth(parser: str = DEFAULT_PARSER) -> dict[str, list[str]]:
    """OV-MERD's ground truth (``ovmerd/check-openset.csv``; an empty row becomes ``['neutral']``)."""
    return read_ground_truth_csv(asset_path(GROUND_TRUTH), parser)


def per_sample_scores(
    predictions: Mapping[str, Any],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    resources: WheelResources | None = None,
    missing_as_empty: bool = False,
    parser: str = DEFAULT_PARSER,
    where: str = "predictions",
) -> SampleScores:
    """Per-sample scores of ``name -> labels`` under the 12 metrics (for bootstrap and paired tests)."""
    names, gt, pred = align_samples(
        predictions, ground_truth, missing_as_empty=missing_as_empty, parser=parser, where=where
    )
    return sample_scores(names, gt, pred, resources or load_resources())


def score_predictions(
    predictions: Mapping[str, Any],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    resources: WheelResources | None = None,
    missing_as_empty: bool = False,
    parser: str = DEFAULT_PARSER,
    file: str | None = None,
    baseline: str | None = None,
    setting: str | None = None,
) -> ScoreReport:
    """Score ``name -> labels`` (anything the parser accepts) under the 12 wheel metrics and M-avg."""
    scores = per_sample_scores(
        predictions, ground_truth, resources=resources, missing_as_empty=missing_as_empty, parser=parser,
        where=file or "predictions",
    )
    return summarize(scores, file=file, baseline=baseline, setting=setting)


def predictions_scores(*args: Any, **kwargs: Any) -> SampleScores:
    """Deprecated alias of :func:`per_sample_scores` (removed after 0.2)."""
    warnings.warn(
        "ovmer.scoring.predictions_scores is deprecated and will be removed after 0.2; use per_sample_scores",
        DeprecationWarning,
        stacklevel=2,
    )
    return per_sample_scores(*args, **kwargs)
