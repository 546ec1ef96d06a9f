"""The paper's tables, each built by one function from the inputs it declares.

1. ``table1_ew_s2``: the emotion-wheel (EW) metrics in the clue-merging setting
   S2 beside the paper's published values, their difference, and the PCC rows
   (our EW columns against the paper's GPT column). ``table1_summary`` is the
   compact version ``ovmer reproduce`` prints.
2. ``table2_ablation``: S0/S1/S2 per baseline: M-avg with its bootstrap
   interval and the mean precision/recall/F of the ten M3 metrics.
3. ``table3_dataset``, ``table3_top_labels``, ``table3_coverage``: OV-MERD statistics.
4. ``table4_diagnostics``: per label file, empty predictions, labels per
   prediction and the share of predicted labels each metric drops.
5. ``table5_gpt_grouping``: the GPT-grouping check, published vs ours.

A builder takes the inputs it reads as keyword arguments (``scores``,
``ground_truth``, ``resources``: see :mod:`ovmer.reproduce.artefacts`) and
returns a :class:`~ovmer.reproduce.table_io.Table`; its line in
:data:`ovmer.reproduce.artefacts.ARTEFACTS` names it and its inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ovmer.assets import asset_path
from ovmer.data.released import RELEASED_BASELINES
from ovmer.errors import OvmerError
from ovmer.reproduce.dataset import ground_truth_coverage, label_count_distribution, label_frequencies
from ovmer.reproduce.scores import ScoreTable
from ovmer.reproduce.table_io import Table
from ovmer.scoring import METRIC_NAMES, gpt_grouping_score, metric_correlation, paper, read_predictions
from ovmer.settings import Setting

GroundTruth = Mapping[str, Sequence[str]]
PCC_ROW = "PCC"
SUMMARY_SHORT = {"M1": "M1", "M2": "M2", **{f"M3-W{w}-L{lv}": f"W{w}L{lv}" for w in range(1, 6) for lv in (1, 2)}}


# -- table 1 ------------------------------------------------------------------------------------


def paper_ew_table() -> pd.DataFrame | None:
    """The paper's EW/PCC table (×100 as printed), or None while it is not transcribed."""
    return paper.PAPER_EW_TABLE if paper.paper_ew_table_available() else None


def _paper_rows(table: pd.DataFrame, baselines: list[str]) -> pd.DataFrame:
    """The paper's rows for ``baselines``; the user's own baselines have none, every released one must."""
    missing = [b for b in baselines if b in RELEASED_BASELINES and b not in table.index]
    if missing:
        raise OvmerError(
            f"PAPER_EW_TABLE has no row for the released baseline(s) {', '.join(missing)} "
            f"(rows: {', '.join(map(str, table.index))}); name its rows as ovmer.data.RELEASED_BASELINES does"
        )
    rows = {b: table.loc[b] for b in baselines if b in table.index}
    return pd.DataFrame.from_dict(rows, orient="index", columns=table.columns)


def _pcc_row(ours: pd.DataFrame, gpt: pd.Series) -> dict[str, float]:
    """Pearson correlation across baselines of each of our EW columns with the paper's GPT column."""
    frame = ours.join(gpt.rename("GPT"), how="inner")
    if len(frame) < 3:
        return {}
    return {column: metric_correlation(frame, column, "GPT")[0] for column in ours.columns}


def _s2_scores(scores: ScoreTable) -> pd.DataFrame:
    """F (x100) of every metric in S2, rows baselines; table 1 is about S2 only."""
    short = Setting.NOSUBTITLE_ADDSUB.short
    frame = scores.f_frame()
    if short not in frame.index.get_level_values("setting"):
        raise OvmerError("table 1 needs S2 (nosubtitle-addsub) scores; score S2 in 04_score")
    return frame.xs(short, level="setting")


def ew_comparison(*, scores: ScoreTable) -> Table:
    """Table 1: S2 EW metrics per baseline, the paper's value and ours − paper; PCC rows."""
    ours = _s2_scores(scores)
    printed = paper_ew_table()
    columns = list(ours.columns) if printed is None else ["GPT", *ours.columns]
    rows: dict[tuple[str, str], pd.Series] = {}
    if printed is None:
        for baseline in ours.index:
            rows[(baseline, "ours")] = ours.loc[baseline]
        caption = ("Table 1. EW metrics (F x100) in S2 (nosubtitle-addsub). The paper's published values are "
                   "not transcribed in ovmer.scoring.paper yet, so no comparison is shown.")
    else:
        published = _paper_rows(printed, list(ours.index))
        for baseline in ours.index:
            rows[(baseline, "ours")] = ours.loc[baseline]
            if baseline in published.index:
                rows[(baseline, "paper")] = published.loc[baseline]
                rows[(baseline, "ours - paper")] = ours.loc[baseline] - published.loc[baseline, ours.columns]
        pcc = _pcc_row(ours, published["GPT"]) if "GPT" in published.columns else {}
        if pcc:
            rows[(PCC_ROW, f"ours vs paper GPT ({len(published)} systems)")] = pd.Series(pcc)
        if PCC_ROW in printed.index:
            rows[(PCC_ROW, "paper")] = printed.loc[PCC_ROW]
        caption = ("Table 1. EW metrics (F x100) in S2 (nosubtitle-addsub): ours, the paper's published value "
                   "and the difference; PCC: Pearson correlation of each column with the GPT-based metric.")
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
    table.index = pd.MultiIndex.from_tuples(table.index, names=["system", "row"])
    table.index = [f"{system} ({row})" for system, row in table.index]
    ours_rows = tuple(row for row in table.index if row.endswith("(ours)"))
    return Table("table1_ew_s2", caption, table, digits=2, index_label="system", best=tuple(ours.columns),
                 best_rows=ours_rows)


def ew_summary(*, scores: ScoreTable) -> Table:
    """The compact table 1 ``ovmer reproduce`` prints: our S2 EW scores, and M-avg vs the paper's."""
    ours = _s2_scores(scores)
    summary = ours.rename(columns=SUMMARY_SHORT)
    printed = paper_ew_table()
    if printed is not None:
        published = _paper_rows(printed, list(ours.index))
        summary["paper M-avg"] = published["M-avg"].reindex(ours.index)
        summary["diff"] = summary["M-avg"] - summary["paper M-avg"]
    caption = "Table 1 (summary): S2 EW scores (F x100)" + (
        "; paper M-avg beside ours" if printed is not None else "; paper values not transcribed yet")
    return Table("table1_summary", caption, summary, digits=2, index_label="baseline",
                 best=tuple(SUMMARY_SHORT.values()) + ("M-avg",))


# -- table 2 ------------------------------------------------------------------------------------


def ablation(*, scores: ScoreTable) -> Table:
    """Table 2: M-avg with its 95% bootstrap interval and mean M3 P/R/F per baseline and setting."""
    m3 = [m for m in METRIC_NAMES if m.startswith("M3-")]
    rows = {}
    for entry in scores.entries:
        low, high = entry.intervals["M-avg"]
        rows[(entry.baseline, entry.short)] = {
            "M-avg": entry.m_avg * 100,
            "95% low": low * 100,
            "95% high": high * 100,
            "M3 precision": 100 * sum(entry.metrics[m]["precision"] for m in m3) / len(m3),
            "M3 recall": 100 * sum(entry.metrics[m]["recall"] for m in m3) / len(m3),
            "M3 F": 100 * sum(entry.metrics[m]["f"] for m in m3) / len(m3),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    order = {s.short: i for i, s in enumerate(Setting)}
    frame = frame.loc[sorted(frame.index, key=lambda key: (key[0].lower(), order[key[1]]))]
    frame.index = [f"{b} {s}" for b, s in frame.index]
    n_boot = scores.config.get("n_boot", "?")
    caption = (f"Table 2. Ablation over S0 (no subtitle), S1 (subtitle in the prompt), S2 (clue merging): M-avg "
               f"(x100) with its 95% bootstrap interval ({n_boot} draws) and the mean precision, recall and "
               "F of the ten M3 metrics.")
    return Table("table2_ablation", caption, frame, digits=2, index_label="baseline setting",
                 best=("M-avg", "M3 precision", "M3 recall", "M3 F"), intervals=(("M-avg", "95% low", "95% high"),))


# -- table 3 ------------------------------------------------------------------------------------


def dataset_statistics(*, ground_truth: GroundTruth) -> Table:
    """Table 3a: samples, labels per sample (distribution), distinct labels, label occurrences."""
    counts = label_count_distribution(ground_truth)
    frequencies = label_frequencies(ground_truth)
    per_sample = pd.Series([len(v) for v in ground_truth.values()])
    rows: dict[str, object] = {
        "samples": len(ground_truth),
        "labels per sample (mean)": float(per_sample.mean()),
        "labels per sample (median)": float(per_sample.median()),
    }
    rows.update({f"samples with {k} label{'s' if k > 1 else ''}": int(v) for k, v in counts.items()})
    rows["distinct labels"] = len(frequencies)
    rows["label occurrences"] = int(frequencies.sum())
    rows["labels used once"] = int((frequencies == 1).sum())
    frame = pd.DataFrame({"value": pd.Series(rows, dtype=object)})
    return Table("table3_dataset", "Table 3a. OV-MERD ground truth: size and labels per sample.", frame,
                 digits=2, index_label="statistic")


def top_labels(*, ground_truth: GroundTruth, n: int = 15) -> Table:
    """Table 3b: the most frequent ground-truth labels with their share of samples."""
    top = label_frequencies(ground_truth).head(n)
    frame = pd.DataFrame({"label": top.index, "samples": top.to_numpy(),
                          "share of samples (%)": 100.0 * top.to_numpy() / len(ground_truth)},
                         index=range(1, len(top) + 1))
    return Table("table3_top_labels", f"Table 3b. The {n} most frequent ground-truth labels.", frame, digits=1,
                 index_label="rank")


def vocabulary_coverage(*, ground_truth: GroundTruth, resources: Any) -> Table:
    """Table 3c: how much of the ground truth each emotion-wheel vocabulary covers."""
    frame = ground_truth_coverage(ground_truth, resources)
    caption = ("Table 3c. Coverage of the ground truth by the emotion-wheel vocabularies: the plain wheel words, "
               "the synonym table, and what each metric maps (M3-Wk: wheel k, either level).")
    return Table("table3_coverage", caption, frame, digits=1, index_label="vocabulary")


# -- table 4 ------------------------------------------------------------------------------------


def diagnostics(*, scores: ScoreTable) -> Table:
    """Table 4: per label file, empty predictions, labels per prediction, % predicted labels dropped."""
    # L1 and L2 of a wheel drop exactly the same labels (same reachable words), so one column per wheel.
    metrics = [m for m in METRIC_NAMES if not m.endswith("-L2")]
    rows = {}
    for entry in scores.entries:
        row: dict[str, object] = {
            "samples": entry.n_samples,
            "empty predictions": entry.empty_predictions,
            "labels per prediction": entry.mean_labels,
        }
        for metric in metrics:
            row[f"{metric.removesuffix('-L1')} dropped (%)"] = 100 * entry.oov[metric]["pred_dropped"]
        rows[f"{entry.baseline} {entry.short}"] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    caption = ("Table 4. Diagnostics per label file: predictions with no label, labels per prediction, and the "
               "share of predicted labels each metric drops as out of its vocabulary.")
    return Table("table4_diagnostics", caption, frame, digits=1, index_label="file")


# -- table 5 ------------------------------------------------------------------------------------


def gpt_grouping(*, ground_truth: GroundTruth) -> Table:
    """Table 5: the GPT-grouping metric of the released check file, published vs recomputed."""
    predictions = read_predictions(asset_path("gpt-grouping/predict-openset.csv"))
    ours = gpt_grouping_score(predictions, ground_truth)
    rows = {}
    for key in ("accuracy", "recall", "average"):
        published, value = paper.PAPER_GPT_GROUPING[key], float(getattr(ours, key))
        rows[key] = {"published": published, "ours": value, "ours - published": value - published}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    caption = ("Table 5. GPT-grouping metric of gpt-grouping/predict-openset.csv with the authors' cached "
               "GPT-3.5 synonym groups (fractions).")
    return Table("table5_gpt_grouping", caption, frame, digits=6, index_label="metric")
