"""Every baseline on one sample side by side, and the samples on which baselines disagree most.

:func:`compare_sample` marks each predicted label by what it does under a chosen metric: it
hits the ground truth (its mapped value is one of the ground truth's), misses, or is dropped
(outside the metric's vocabulary). :func:`disagreement_ranking` ranks samples by the standard deviation of
the baselines' per-sample M-avg (the mean F over the metrics a sample is counted under).
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ovmer.data import RELEASED_BASELINES, load_ovmerd
from ovmer.errors import OvmerError
from ovmer.registry import did_you_mean
from ovmer.reproduce.explore_data import check_sample, labels_and_descriptions, parse_setting, sample_m_avg
from ovmer.reproduce.table_io import Table
from ovmer.scoring import METRIC_NAMES, load_resources, per_sample_scores, per_sample_table
from ovmer.settings import Setting
from ovmer.store import store_path

HIT, MISS, DROPPED = "hit", "miss", "dropped"
COLOURS = {HIT: "#c7e9c0", MISS: "#fdd0a2", DROPPED: "#e0e0e0"}
MARKS = {HIT: "+", MISS: "x", DROPPED: "-"}


def compared_baselines(setting: Setting, source: str) -> list[str]:
    """The released baselines, or the baselines with extracted labels in the store."""
    if source == "released":
        return list(RELEASED_BASELINES)
    stage = store_path("extract", "_", setting).parent.parent
    found = sorted(p.parent.name for p in stage.glob(f"*/{setting.value}.jsonl")) if stage.is_dir() else []
    if not found:
        raise OvmerError(f"{stage}: no extracted labels of any baseline for {setting.value} in the store")
    return found


@dataclass(frozen=True)
class CompareRow:
    baseline: str
    labels: tuple[tuple[str, str | None, str], ...]  # (label, value under the metric, HIT/MISS/DROPPED)
    f: float  # the sample's F under the metric, x100 (NaN: not counted)
    description: str

    def count(self, status: str) -> int:
        return sum(1 for *_, s in self.labels if s == status)


@dataclass(frozen=True)
class CompareView:
    name: str
    setting: Setting
    metric: str
    ground_truth: tuple[tuple[str, str | None], ...]  # (label, value under the metric)
    rows: tuple[CompareRow, ...]

    @property
    def frame(self) -> pd.DataFrame:
        """One row per baseline: the sample's F, hits, misses, dropped labels, the labels."""
        return pd.DataFrame(
            {"F": [r.f for r in self.rows], HIT: [r.count(HIT) for r in self.rows],
             MISS: [r.count(MISS) for r in self.rows], DROPPED: [r.count(DROPPED) for r in self.rows],
             "labels": [", ".join(label for label, *_ in r.labels) for r in self.rows]},
            index=pd.Index([r.baseline for r in self.rows], name="baseline"),
        )

    def __repr__(self) -> str:
        gt = ", ".join(f"{label} ({value or 'dropped'})" for label, value in self.ground_truth)
        lines = [f"{self.name} | {self.setting.short} | {self.metric}: ground truth {gt}"]
        for row in self.rows:
            marked = ", ".join(f"{MARKS[s]}{label}" for label, _, s in row.labels) or "-"
            lines.append(f"  {row.baseline}: F {_fmt(row.f)}: {marked}")
        lines.append("  (+ hit, x miss, - dropped)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape

        def chip(label: str, value: str | None, status: str) -> str:
            title = f"{self.metric}: {value}" if value else f"outside the {self.metric} vocabulary"
            return (f'<span class="ovmer-chip ovmer-{status}" title="{esc(title)}" style="background:'
                    f'{COLOURS[status]};border-radius:4px;padding:1px 5px;margin:1px;display:inline-block">'
                    f"{esc(label)}</span>")

        gt = " ".join(chip(label, value, HIT if value else DROPPED) for label, value in self.ground_truth)
        body = "".join(
            f'<tr class="ovmer-compare-row"><td><b>{esc(r.baseline)}</b></td><td>{_fmt(r.f)}</td>'
            f"<td style=\"text-align:left\">{' '.join(chip(*item) for item in r.labels) or '-'}</td>"
            f"<td style=\"text-align:left\"><details><summary>{esc(r.description[:90])}{'…' if len(r.description) > 90 else ''}"
            f"</summary>{esc(r.description)}</details></td></tr>"
            for r in self.rows
        )
        legend = " ".join(chip(text, "x" if s != DROPPED else None, s)
                          for s, text in ((HIT, "hit"), (MISS, "miss"), (DROPPED, "dropped")))
        return (
            f'<h4 class="ovmer-compare-header">{esc(self.name)} | {self.setting.short} | every baseline under '
            f"{esc(self.metric)}</h4><p><b>Ground truth</b> (mapped: "
            f"{esc(', '.join(sorted({v for _, v in self.ground_truth if v})) or '-')}): {gt}</p>"
            f"<p>{legend}</p>"
            '<table class="ovmer-compare"><tr><th>baseline</th><th>F</th><th style="text-align:left">labels</th><th style="text-align:left">description</th></tr>'
            f"{body}</table>"
        )


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def compare_sample(
    sample: str, setting: str | Setting = "S2", metric: str = "M3-W1-L1", *, source: str = "released",
    baselines: Sequence[str] = (),
) -> CompareView:
    """Every baseline's labels and description for ``sample``, marked under ``metric``."""
    chosen = parse_setting(setting)
    name = check_sample(sample)
    if metric not in METRIC_NAMES:
        raise OvmerError(f"unknown metric {metric!r}.{did_you_mean(metric, METRIC_NAMES)}")
    m = METRIC_NAMES.index(metric)
    resources = load_resources()
    gt_labels = list(load_ovmerd().ground_truth[name])
    gt_values = [resources.map_label(label)[m] for label in gt_labels]
    rows = []
    for baseline in baselines or compared_baselines(chosen, source):
        labels, descriptions = labels_and_descriptions(baseline, chosen, source)
        predicted = list(labels.get(name, []))
        marked = []
        for label in predicted:
            value = resources.map_label(label)[m]
            status = DROPPED if value is None else HIT if value in gt_values else MISS
            marked.append((label, value, status))
        row = per_sample_table({name: predicted}, {name: gt_labels}).set_index("metric").loc[metric]
        p, r = float(row["precision"]), float(row["recall"])
        f = math.nan if not row["counted"] else (0.0 if p + r == 0 else 200 * p * r / (p + r))
        rows.append(CompareRow(baseline, tuple(marked), f, descriptions.get(name, "")))
    return CompareView(name, chosen, metric, tuple(zip(gt_labels, gt_values, strict=True)), tuple(rows))


@functools.lru_cache(maxsize=8)
def _sample_m_avgs(setting: Setting, source: str, baselines: tuple[str, ...]) -> pd.DataFrame:
    gt = load_ovmerd().ground_truth
    columns = {}
    for baseline in baselines:
        labels, _ = labels_and_descriptions(baseline, setting, source)
        scores = per_sample_scores(labels, gt, missing_as_empty=True)
        columns[baseline] = pd.Series(100 * sample_m_avg(scores), index=list(scores.names))
    return pd.DataFrame(columns)


def disagreement_ranking(setting: str | Setting = "S2", *, source: str = "released", top: int = 20,
                         baselines: Sequence[str] = ()) -> Table:
    """The ``top`` samples where the baselines' per-sample M-avg (x100) varies most (standard deviation)."""
    chosen = parse_setting(setting)
    frame = _sample_m_avgs(chosen, source, tuple(baselines or compared_baselines(chosen, source)))
    values = frame.to_numpy()
    counted = ~np.isnan(values).all(axis=1)
    frame = frame[counted]
    ranking = pd.DataFrame(index=frame.index)
    ranking["std"] = frame.std(axis=1, ddof=0)
    ranking["spread"] = frame.max(axis=1) - frame.min(axis=1)
    ranking["mean"] = frame.mean(axis=1)
    ranking["best"] = frame.idxmax(axis=1)
    ranking["worst"] = frame.idxmin(axis=1)
    ranking = ranking.join(frame).sort_values(["std", "spread"], ascending=False, kind="stable").head(top)
    caption = (f"The {len(ranking)} samples where the baselines disagree most in {chosen.short}: the standard deviation "
               "and spread (max - min) across baselines of the per-sample M-avg (x100, the mean F over the metrics the sample counts under), from the "
               "per-sample diagnostics.")
    return Table(f"disagreement_{chosen.short}", caption, ranking, digits=1, index_label="sample")
