"""Per-sample diagnostics: what each metric made of each label, and what it dropped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ovmer.scoring.mapping import METRIC_NAMES
from ovmer.scoring.metrics import DEFAULT_PARSER, align_samples
from ovmer.scoring.resources import WheelResources, load_resources

COLUMNS = (
    "name",
    "metric",
    "gt_labels",
    "pred_labels",
    "gt_mapped",
    "pred_mapped",
    "gt_dropped",
    "pred_dropped",
    "counted",
    "precision",
    "recall",
)


def _mapped(labels: tuple[str, ...], resources: WheelResources) -> list[tuple[str | None, ...]]:
    return [resources.map_label(label) for label in labels]


def per_sample_table(
    predictions: Mapping[str, Any],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    resources: WheelResources | None = None,
    missing_as_empty: bool = False,
    parser: str = DEFAULT_PARSER,
) -> Any:
    """pandas DataFrame, one row per (sample, metric): labels before and after mapping,
    the labels the metric dropped as out of vocabulary, and the sample's precision and
    recall (NaN when the sample is not counted because its mapped ground truth is empty)."""
    import pandas as pd

    names, gt, pred = align_samples(predictions, ground_truth, missing_as_empty=missing_as_empty, parser=parser)
    resources = resources or load_resources()
    rows = []
    for name, gt_labels, pred_labels in zip(names, gt, pred, strict=True):
        gt_maps, pred_maps = _mapped(gt_labels, resources), _mapped(pred_labels, resources)
        for m, metric in enumerate(METRIC_NAMES):
            g = {row[m] for row in gt_maps if row[m] is not None}
            p = {row[m] for row in pred_maps if row[m] is not None}
            counted = bool(g)
            if not counted:
                precision = recall = float("nan")
            elif not p:
                precision = recall = 0.0
            else:
                precision, recall = len(g & p) / len(p), len(g & p) / len(g)
            rows.append(
                (
                    name,
                    metric,
                    list(gt_labels),
                    list(pred_labels),
                    sorted(g),
                    sorted(p),
                    [label for label, row in zip(gt_labels, gt_maps, strict=True) if row[m] is None],
                    [label for label, row in zip(pred_labels, pred_maps, strict=True) if row[m] is None],
                    counted,
                    precision,
                    recall,
                )
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def oov_report(
    predictions: Mapping[str, Any],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    resources: WheelResources | None = None,
    missing_as_empty: bool = False,
    parser: str = DEFAULT_PARSER,
) -> dict[str, dict[str, float]]:
    """Per metric: the share of ground-truth and of predicted labels it drops (out of vocabulary).

    Keys per metric: ``gt_dropped``, ``pred_dropped`` (fractions; NaN when there is no
    label at all), ``gt_labels``, ``pred_labels`` (label counts over all samples).
    """
    _, gt, pred = align_samples(predictions, ground_truth, missing_as_empty=missing_as_empty, parser=parser)
    resources = resources or load_resources()
    gt_rows = [resources.map_label(label) for labels in gt for label in labels]
    pred_rows = [resources.map_label(label) for labels in pred for label in labels]
    report: dict[str, dict[str, float]] = {}
    for m, metric in enumerate(METRIC_NAMES):
        gt_drop = sum(1 for row in gt_rows if row[m] is None)
        pred_drop = sum(1 for row in pred_rows if row[m] is None)
        report[metric] = {
            "gt_dropped": gt_drop / len(gt_rows) if gt_rows else float("nan"),
            "pred_dropped": pred_drop / len(pred_rows) if pred_rows else float("nan"),
            "gt_labels": float(len(gt_rows)),
            "pred_labels": float(len(pred_rows)),
        }
    return report
