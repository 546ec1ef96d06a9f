"""The mapping-audit table: labels the alphabetical rule sends somewhere surprising, and what it costs.

Over the vocabulary actually used (the ground truth and every scored released label file),
each label flagged by :func:`ovmer.scoring.audit.audit_vocabulary` with the links the
diagnostic cut-paths variant removes, its level-1 groups on wheels 1-5 before and after, its
ground-truth and predicted occurrences, and the change of each baseline's M-avg (x100) when
only that label's links are cut; the last row cuts every flagged link at once. The variant
is a diagnostic, never the protocol the paper's scores use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ovmer.reproduce.table_io import Table
from ovmer.scoring import score_predictions
from ovmer.scoring.audit import Finding, audit_vocabulary, cut_paths
from ovmer.scoring.resources import WheelResources
from ovmer.settings import Setting

ALL_FLAGGED = "(all flagged labels)"
LabelFiles = Mapping[tuple[str, str], Mapping[str, Sequence[str]]]  # (baseline, setting value) -> labels


def _counts(label_lists: Iterable[Sequence[str]]) -> Counter[str]:
    return Counter(label.lower().strip() for labels in label_lists for label in labels if label.strip())


def _level1(values: Mapping[str, str | None]) -> str:
    return ", ".join(values[m] or "-" for m in values if m.startswith("M3-") and m.endswith("-L1"))


def delta_setting(released_labels: LabelFiles) -> str:
    present = {setting for _, setting in released_labels}
    main = Setting.NOSUBTITLE_ADDSUB.value
    return main if main in present else sorted(present)[0]


def audit_findings(ground_truth: Mapping[str, Sequence[str]], released_labels: LabelFiles,
                   resources: WheelResources) -> tuple[list[Finding], Counter[str], Counter[str]]:
    """The findings over the used vocabulary, with ground-truth and predicted occurrences."""
    gt_counts = _counts(ground_truth.values())
    pred_counts = _counts(labels for predictions in released_labels.values() for labels in predictions.values())
    findings = audit_vocabulary([*gt_counts, *pred_counts], resources)
    findings.sort(key=lambda f: (-(gt_counts[f.label] + pred_counts[f.label]), f.label))
    return findings, gt_counts, pred_counts


def m_avg_changes(cuts_by_row: Mapping[str, Iterable[Any]], released_labels: LabelFiles, setting: str,
                  ground_truth: Mapping[str, Sequence[str]], resources: WheelResources,
                  vocabulary: Iterable[str]) -> pd.DataFrame:
    """Rows: ``cuts_by_row`` keys; columns: baselines; cells: M-avg (x100) with the cuts minus without."""
    files = {b: labels for (b, s), labels in released_labels.items() if s == setting}
    base = {b: score_predictions(p, ground_truth, resources=resources).m_avg for b, p in files.items()}
    words = sorted(set(vocabulary))
    rows = {}
    for row, cuts in cuts_by_row.items():
        variant = cut_paths(resources, cuts, vocabulary=words)
        rows[row] = {f"ΔM-avg {b}": 100 * (score_predictions(p, ground_truth, resources=variant).m_avg - base[b])
                     for b, p in files.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


@dataclass(frozen=True)
class AuditSummary:
    """What the audit table and figure show, computed once per run (the ``mapping_audit`` input)."""

    findings: list[Finding]
    gt_counts: Counter[str]
    pred_counts: Counter[str]
    deltas: pd.DataFrame  # rows: flagged labels and ALL_FLAGGED; columns "ΔM-avg <baseline>" (x100)
    setting: str  # the setting the deltas are in
    n_files: int  # released label files counted


def audit_summary(ground_truth: Mapping[str, Sequence[str]], resources: WheelResources,
                  released_labels: LabelFiles) -> AuditSummary:
    findings, gt_counts, pred_counts = audit_findings(ground_truth, released_labels, resources)
    setting = delta_setting(released_labels)
    cuts: dict[str, Iterable[Any]] = {f.label: f.cuts for f in findings}
    cuts[ALL_FLAGGED] = [link for f in findings for link in f.cuts]
    deltas = m_avg_changes(cuts, released_labels, setting, ground_truth, resources, [*gt_counts, *pred_counts])
    return AuditSummary(findings, gt_counts, pred_counts, deltas, setting, len(released_labels))


def mapping_audit(*, mapping_audit: AuditSummary) -> Table:
    """The audit table (see the module docstring)."""
    audit = mapping_audit
    findings, gt_counts, pred_counts = audit.findings, audit.gt_counts, audit.pred_counts
    rows = {
        f.label: {
            "flag": " + ".join(f.kinds),
            "links cut": "; ".join(str(link) for link in f.cuts),
            "W1-W5 L1": _level1(f.before),
            "W1-W5 L1, cut": _level1(f.after),
            "GT": gt_counts[f.label],
            "predicted": pred_counts[f.label],
        }
        for f in findings
    }
    rows[ALL_FLAGGED] = {"flag": f"{len(findings)} labels",
                         "links cut": f"{len({link for f in findings for link in f.cuts})} links",
                         "W1-W5 L1": "", "W1-W5 L1, cut": "",
                         "GT": sum(gt_counts[f.label] for f in findings),
                         "predicted": sum(pred_counts[f.label] for f in findings)}
    frame = pd.DataFrame.from_dict(rows, orient="index").join(audit.deltas)
    caption = (f"Mapping audit. Used labels whose deciding path runs through an antonym form or lands in another "
               f"top-level group of a wheel that lists them; the links the diagnostic cut-paths variant removes "
               f"(M1/M2 change too where they used them), level-1 groups before and after, occurrences in the "
               f"ground truth and in {audit.n_files} released label files, and the change of each "
               f"baseline's M-avg (x100, {Setting.parse(audit.setting).short}) with that label's links cut. "
               "A diagnostic only: the paper's scores keep every link.")
    return Table("mapping_audit", caption, frame, digits=2, index_label="label")
