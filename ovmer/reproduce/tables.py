"""The paper's tables, built from the scores cache and the assets.

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

Every builder takes :class:`TableInputs` and returns a :class:`~ovmer.reproduce.table_io.Table`;
:func:`save_table` builds one by name and writes CSV, Markdown and LaTeX.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ovmer.errors import OvmerError
from ovmer.reproduce.table_io import Table, write_table
from ovmer.settings import Setting

if TYPE_CHECKING:
    from ovmer.reproduce.scores import ScoreTable

# Our baseline names (the released folders) -> the names the paper's table prints.
# Checked against PAPER_EW_TABLE's index whenever the table is available.
PAPER_NAMES: dict[str, str] = {
    "Chat-UniVi": "Chat-UniVi",
    "LLaMA-VID": "LLaMA-VID",
    "Otter": "Otter",
    "Qwen-Audio": "Qwen-Audio",
    "SALMONN": "SALMONN",
    "Video-LLaVA": "Video-LLaVA",
    "VideoChat": "VideoChat",
    "mPLUG-Owl": "mPLUG-Owl",
}
PCC_ROW = "PCC"
SUMMARY_SHORT = {"M1": "M1", "M2": "M2", **{f"M3-W{w}-L{lv}": f"W{w}L{lv}" for w in range(1, 6) for lv in (1, 2)}}


@dataclass(frozen=True)
class TableInputs:
    scores: ScoreTable
    ground_truth: dict[str, list[str]]
    resources: Any  # ovmer.scoring.WheelResources
    out_dir: Path


def load_table_inputs(*, smoke: bool, output: str = "", tables_dir: str = "") -> TableInputs:
    """Read the scores cache and the assets the tables need (05_tables' second cell)."""
    from ovmer.data import load_ovmerd
    from ovmer.reproduce.layout import reproduce_layout
    from ovmer.reproduce.scores import load_scores
    from ovmer.scoring import load_resources

    layout = reproduce_layout(smoke, output or None)
    return TableInputs(
        scores=load_scores(layout.scores),
        ground_truth=dict(load_ovmerd().ground_truth),
        resources=load_resources(),
        out_dir=Path(tables_dir).expanduser() if tables_dir else layout.tables,
    )


# -- table 1 ------------------------------------------------------------------------------------


def paper_ew_table() -> pd.DataFrame | None:
    """The paper's EW/PCC table (×100 as printed), or None while it is not transcribed."""
    from ovmer.scoring import paper

    available = getattr(paper, "paper_ew_table_available", lambda: True)
    if not available():
        return None
    return paper.PAPER_EW_TABLE


def _paper_rows(table: pd.DataFrame, baselines: list[str]) -> pd.DataFrame:
    """The paper's rows for ``baselines`` (re-indexed by our names), via :data:`PAPER_NAMES`."""
    rows = {}
    for baseline in baselines:
        paper_name = PAPER_NAMES.get(baseline)
        if paper_name is None:
            continue  # one of the user's own baselines: the paper has no row for it
        if paper_name not in table.index:
            raise OvmerError(
                f"PAPER_NAMES maps {baseline!r} to {paper_name!r}, which is not a row of PAPER_EW_TABLE "
                f"(rows: {', '.join(map(str, table.index))}); fix the mapping in ovmer/reproduce/tables.py"
            )
        rows[baseline] = table.loc[paper_name]
    return pd.DataFrame.from_dict(rows, orient="index", columns=table.columns)


def _pcc_row(ours: pd.DataFrame, gpt: pd.Series) -> dict[str, float]:
    """Pearson correlation across baselines of each of our EW columns with the paper's GPT column."""
    from ovmer.scoring import metric_correlation

    frame = ours.join(gpt.rename("GPT"), how="inner")
    if len(frame) < 3:
        return {}
    return {column: metric_correlation(frame, column, "GPT")[0] for column in ours.columns}


def ew_comparison(inputs: TableInputs) -> Table:
    """Table 1: S2 EW metrics per baseline, the paper's value and ours − paper; PCC rows."""
    short = Setting.NOSUBTITLE_ADDSUB.short
    frame = inputs.scores.f_frame()
    if short not in frame.index.get_level_values("setting"):
        raise OvmerError("table 1 needs S2 (nosubtitle-addsub) scores; score S2 in 04_score")
    ours = frame.xs(short, level="setting")
    paper = paper_ew_table()
    columns = list(ours.columns) if paper is None else ["GPT", *ours.columns]
    rows: dict[tuple[str, str], pd.Series] = {}
    if paper is None:
        for baseline in ours.index:
            rows[(baseline, "ours")] = ours.loc[baseline]
        caption = ("Table 1. EW metrics (F x100) in S2 (nosubtitle-addsub). The paper's published values are "
                   "not transcribed in ovmer.scoring.paper yet, so no comparison is shown.")
    else:
        published = _paper_rows(paper, list(ours.index))
        for baseline in ours.index:
            rows[(baseline, "ours")] = ours.loc[baseline]
            if baseline in published.index:
                rows[(baseline, "paper")] = published.loc[baseline]
                rows[(baseline, "ours - paper")] = ours.loc[baseline] - published.loc[baseline, ours.columns]
        pcc = _pcc_row(ours, published["GPT"]) if "GPT" in published.columns else {}
        if pcc:
            rows[(PCC_ROW, f"ours vs paper GPT ({len(published)} systems)")] = pd.Series(pcc)
        if PCC_ROW in paper.index:
            rows[(PCC_ROW, "paper")] = paper.loc[PCC_ROW]
        caption = ("Table 1. EW metrics (F x100) in S2 (nosubtitle-addsub): ours, the paper's published value "
                   "and the difference; PCC: Pearson correlation of each column with the GPT-based metric.")
    table = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
    table.index = pd.MultiIndex.from_tuples(table.index, names=["system", "row"])
    table.index = [f"{system} ({row})" for system, row in table.index]
    return Table("table1_ew_s2", caption, table, digits=2, index_label="system")


def ew_summary(inputs: TableInputs) -> Table:
    """The compact table 1 ``ovmer reproduce`` prints: our S2 EW scores, and M-avg vs the paper's."""
    frame = inputs.scores.f_frame()
    short = Setting.NOSUBTITLE_ADDSUB.short
    if short not in frame.index.get_level_values("setting"):
        raise OvmerError("table 1 needs S2 (nosubtitle-addsub) scores; score S2 in 04_score")
    ours = frame.xs(short, level="setting")
    summary = ours.rename(columns=SUMMARY_SHORT)
    paper = paper_ew_table()
    if paper is not None:
        published = _paper_rows(paper, list(ours.index))
        summary["paper M-avg"] = published["M-avg"].reindex(ours.index)
        summary["diff"] = summary["M-avg"] - summary["paper M-avg"]
    caption = "Table 1 (summary): S2 EW scores (F x100)" + (
        "; paper M-avg beside ours" if paper is not None else "; paper values not transcribed yet")
    return Table("table1_summary", caption, summary, digits=2, index_label="baseline")


# -- table 2 ------------------------------------------------------------------------------------


def ablation(inputs: TableInputs) -> Table:
    """Table 2: M-avg with its 95% bootstrap interval and mean M3 P/R/F per baseline and setting."""
    from ovmer.scoring import METRIC_NAMES

    m3 = [m for m in METRIC_NAMES if m.startswith("M3-")]
    rows = {}
    for entry in inputs.scores.entries:
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
    n_boot = inputs.scores.config.get("n_boot", "?")
    caption = (f"Table 2. Ablation over S0 (no subtitle), S1 (subtitle in the prompt), S2 (clue merging): M-avg "
               f"(x100) with its 95% bootstrap interval ({n_boot} draws) and the mean precision, recall and "
               "F of the ten M3 metrics.")
    return Table("table2_ablation", caption, frame, digits=2, index_label="baseline setting")


# -- table 3 ------------------------------------------------------------------------------------


def dataset_statistics(inputs: TableInputs) -> Table:
    """Table 3a: samples, labels per sample (distribution), distinct labels, label occurrences."""
    from ovmer.reproduce.dataset import label_count_distribution, label_frequencies

    counts = label_count_distribution(inputs.ground_truth)
    frequencies = label_frequencies(inputs.ground_truth)
    per_sample = pd.Series([len(v) for v in inputs.ground_truth.values()])
    rows: dict[str, object] = {
        "samples": len(inputs.ground_truth),
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


def top_labels(inputs: TableInputs, n: int = 15) -> Table:
    """Table 3b: the most frequent ground-truth labels with their share of samples."""
    from ovmer.reproduce.dataset import label_frequencies

    top = label_frequencies(inputs.ground_truth).head(n)
    frame = pd.DataFrame({"label": top.index, "samples": top.to_numpy(),
                          "share of samples (%)": 100.0 * top.to_numpy() / len(inputs.ground_truth)},
                         index=range(1, len(top) + 1))
    return Table("table3_top_labels", f"Table 3b. The {n} most frequent ground-truth labels.", frame, digits=1,
                 index_label="rank")


def vocabulary_coverage(inputs: TableInputs) -> Table:
    """Table 3c: how much of the ground truth each emotion-wheel vocabulary covers."""
    from ovmer.reproduce.dataset import ground_truth_coverage

    frame = ground_truth_coverage(inputs.ground_truth, inputs.resources)
    caption = ("Table 3c. Coverage of the ground truth by the emotion-wheel vocabularies: the plain wheel words, "
               "the synonym table, and what each metric maps (M3-Wk: wheel k, either level).")
    return Table("table3_coverage", caption, frame, digits=1, index_label="vocabulary")


# -- table 4 ------------------------------------------------------------------------------------


def diagnostics(inputs: TableInputs) -> Table:
    """Table 4: per label file, empty predictions, labels per prediction, % predicted labels dropped."""
    from ovmer.scoring import METRIC_NAMES

    # L1 and L2 of a wheel drop exactly the same labels (same reachable words), so one column per wheel.
    metrics = [m for m in METRIC_NAMES if not m.endswith("-L2")]
    rows = {}
    for entry in inputs.scores.entries:
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


def gpt_grouping(inputs: TableInputs) -> Table:
    """Table 5: the GPT-grouping metric of the released check file, published vs recomputed."""
    from ovmer.assets import asset_path
    from ovmer.scoring import gpt_grouping_score, read_predictions
    from ovmer.scoring.paper import PAPER_GPT_GROUPING

    predictions = read_predictions(asset_path("gpt-grouping/predict-openset.csv"))
    ours = gpt_grouping_score(predictions, inputs.ground_truth)
    rows = {}
    for key in ("accuracy", "recall", "average"):
        published, value = PAPER_GPT_GROUPING[key], float(getattr(ours, key))
        rows[key] = {"published": published, "ours": value, "ours - published": value - published}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    caption = ("Table 5. GPT-grouping metric of gpt-grouping/predict-openset.csv with the authors' cached "
               "GPT-3.5 synonym groups (fractions).")
    return Table("table5_gpt_grouping", caption, frame, digits=6, index_label="metric")


TABLES: dict[str, Callable[[TableInputs], Table]] = {
    "table1_ew_s2": ew_comparison,
    "table1_summary": ew_summary,
    "table2_ablation": ablation,
    "table3_dataset": dataset_statistics,
    "table3_top_labels": top_labels,
    "table3_coverage": vocabulary_coverage,
    "table4_diagnostics": diagnostics,
    "table5_gpt_grouping": gpt_grouping,
}


def save_table(name: str, inputs: TableInputs) -> Table:
    """Build table ``name`` and write ``<name>.csv``, ``.md`` and ``.tex`` into ``inputs.out_dir``."""
    if name not in TABLES:
        import difflib

        close = difflib.get_close_matches(name, TABLES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise OvmerError(f"unknown table {name!r}{hint} (tables: {', '.join(TABLES)})")
    table = TABLES[name](inputs)
    write_table(table, inputs.out_dir)
    return table


def table_files(names: list[str] | tuple[str, ...], out_dir: Path) -> list[Path]:
    """The files :func:`save_table` writes for ``names``."""
    return [out_dir / f"{name}.{ext}" for name in names for ext in ("csv", "md", "tex")]


def record_tables(inputs: TableInputs) -> list[str]:
    """Record every table file present in ``inputs.out_dir`` as the notebook's outputs."""
    from ovmer.reproduce.record import record_outputs

    return record_outputs([p for p in table_files(list(TABLES), inputs.out_dir) if p.is_file()])
