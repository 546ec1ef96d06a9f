"""The paper's figures, drawn with seaborn in one style and saved as PNG and PDF.

Every figure is one function that takes the inputs it reads as keyword arguments
(see :mod:`ovmer.reproduce.artefacts`) and returns a matplotlib figure; its line
in :data:`ovmer.reproduce.artefacts.ARTEFACTS` names it and its inputs, and
:func:`save_figure` draws it in the paper's style and writes ``<name>.png`` and
``<name>.pdf``. Sizes follow a two-column paper (full width 6.75 in, column
3.25 in) with 7-8 pt text; colours come from seaborn's colour-blind palette.
Files are written without timestamps so re-running leaves them byte-identical.
This module imports matplotlib, so only drawing a figure loads it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ovmer.reproduce.dataset import label_count_distribution, label_frequencies, vocabulary_stages
from ovmer.reproduce.scores import ScoreTable
from ovmer.reproduce.tables import protocol_scores

FULL_WIDTH = 6.75  # inches
COLUMN_WIDTH = 3.25
PALETTE = "colorblind"
SETTING_ORDER = ("S0", "S1", "S2")
GroundTruth = Mapping[str, Sequence[str]]


@contextlib.contextmanager
def paper_style() -> Iterator[None]:
    """seaborn's paper context, white grid and colour-blind palette, without touching global state."""
    rc = {
        **sns.axes_style("whitegrid"),
        **sns.plotting_context("paper", rc={"font.size": 7, "axes.titlesize": 8, "axes.labelsize": 7,
                                            "xtick.labelsize": 6.5, "ytick.labelsize": 6.5,
                                            "legend.fontsize": 6.5, "legend.title_fontsize": 7}),
        "axes.prop_cycle": plt.cycler(color=sns.color_palette(PALETTE)),
        "font.family": "DejaVu Sans",
        "pdf.fonttype": 42,  # embed TrueType: text stays editable and searchable
        "savefig.dpi": 300,
    }
    with plt.rc_context(rc):
        yield


def _new_figure(width: float, height: float) -> tuple[Figure, Any]:
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def slant_crowded_labels(ax: Any, most_upright: int = 8) -> None:
    """Slant the x labels of a full-width axis once there are more than ``most_upright`` of them."""
    labels = ax.get_xticklabels()
    if len(labels) > most_upright:
        ax.set_xticks(ax.get_xticks(), labels, rotation=20, ha="right", rotation_mode="anchor")


def labels_per_sample(*, ground_truth: GroundTruth) -> Figure:
    """Histogram of the number of ground-truth labels per sample."""
    counts = label_count_distribution(ground_truth)
    fig, ax = _new_figure(COLUMN_WIDTH, 2.0)
    sns.barplot(x=counts.index.astype(str), y=counts.to_numpy(), color=sns.color_palette(PALETTE)[0], ax=ax)
    for patch, value in zip(ax.patches, counts.to_numpy(), strict=True):
        ax.annotate(str(value), (patch.get_x() + patch.get_width() / 2, patch.get_height()),
                    ha="center", va="bottom", fontsize=6, xytext=(0, 1), textcoords="offset points")
    ax.set(xlabel="labels per sample", ylabel="samples")
    ax.set_ylim(0, counts.max() * 1.15)
    ax.set_title(f"OV-MERD: {len(ground_truth)} samples, {counts.mul(counts.index).sum() / counts.sum():.2f} "
                 "labels on average")
    return fig


def top_labels(*, ground_truth: GroundTruth, n: int = 20) -> Figure:
    """The most frequent ground-truth labels."""
    top = label_frequencies(ground_truth).head(n)
    fig, ax = _new_figure(COLUMN_WIDTH, 3.0)
    sns.barplot(x=top.to_numpy(), y=top.index, color=sns.color_palette(PALETTE)[0], orient="h", ax=ax)
    ax.set(xlabel="samples with the label", ylabel="")
    ax.set_title(f"{n} most frequent ground-truth labels")
    return fig


def _ring_colours(n_groups: int) -> list[tuple[float, float, float]]:
    return sns.color_palette(PALETTE, n_colors=max(n_groups, 1))


def _lighten(colour: Sequence[float], amount: float) -> tuple[float, float, float]:
    r, g, b = colour[:3]
    return (r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount)


RING_RADII = {1: (0.2, 0.44), 2: (0.44, 0.72), 3: (0.72, 1.0)}
RING_FONT = {1: 5.0, 2: 3.3, 3: 3.1}
RING_LIGHTEN = {1: 0.0, 2: 0.4, 3: 0.65}
WHEEL_RADIUS_IN = 1.0  # drawn radius of one wheel, for fitting text into its wedge


def _text_rotation(theta: float, radial: bool) -> float:
    """Degrees for text at polar angle ``theta``: along the radius or across it, never upside down."""
    angle = float(np.degrees(theta)) % 360
    if radial:
        return angle + 180 if 90 < angle < 270 else angle
    tangential = angle - 90
    return tangential + 180 if 180 < angle < 360 else tangential


def _draw_wheel(ax: Any, rows: pd.DataFrame, title: str) -> None:
    """Three nested rings: level 1 inside, level 3 (one wedge per spreadsheet row) outside."""
    n = len(rows)
    tops = list(dict.fromkeys(rows["level1"]))
    colours = dict(zip(tops, _ring_colours(len(tops)), strict=True))
    step = 2 * np.pi / n
    for level, (inner, outer) in RING_RADII.items():
        # consecutive rows with the same path down to this level form one wedge
        keys = [tuple(row[:level]) for row in rows.itertuples(index=False)] if level < 3 else list(range(n))
        start = 0
        while start < n:
            end = start
            while end + 1 < n and keys[end + 1] == keys[start]:
                end += 1
            theta0, width = start * step, (end - start + 1) * step
            face = _lighten(colours[rows["level1"].iloc[start]], RING_LIGHTEN[level])
            ax.bar(theta0, outer - inner, width=width, bottom=inner, align="edge", color=face,
                   edgecolor="white", linewidth=0.4)
            middle = theta0 + width / 2
            label = rows[f"level{level}"].iloc[start]
            # room for the text: the arc (level 1, written across) or the ring's depth (written along)
            room = width * (inner + outer) / 2 if level == 1 else outer - inner
            size = min(RING_FONT[level], room * WHEEL_RADIUS_IN * 72 / (0.6 * max(len(label), 1)))
            ax.text(middle, (inner + outer) / 2, label, ha="center", va="center",
                    fontsize=size, rotation=_text_rotation(middle, radial=level > 1),
                    rotation_mode="anchor", color="white" if level == 1 else "black",
                    weight="bold" if level == 1 else "normal")
            start = end + 1
    ax.set_ylim(0, 1.0)
    ax.set_axis_off()
    ax.set_title(title, pad=3)


def emotion_wheels(*, wheels: Sequence[pd.DataFrame]) -> Figure:
    """The five emotion wheels as nested rings (level 1 inside, level 3 outside)."""
    count = len(wheels)
    cols = 3
    rows = -(-count // cols)
    # fixed margins: a layout engine would measure every one of the ~700 labels on each save
    fig, axes = plt.subplots(rows, cols, figsize=(FULL_WIDTH, 2.6 * rows), subplot_kw={"projection": "polar"},
                             gridspec_kw={"left": 0.01, "right": 0.99, "bottom": 0.01, "top": 0.93,
                                          "wspace": 0.06, "hspace": 0.2})
    flat = list(axes.ravel())
    for k, (ax, frame) in enumerate(zip(flat, wheels, strict=False), start=1):
        words = len(set(frame.to_numpy().ravel()))
        sizes = " / ".join(str(frame[f"level{level}"].nunique()) for level in (1, 2, 3))
        _draw_wheel(ax, frame, f"W{k}: {sizes} ({words} words)")
    for ax in flat[count:]:
        ax.set_axis_off()
    if count < len(flat):
        flat[count].text(0.5, 0.5, "inner ring: level 1\nmiddle ring: level 2\nouter ring: level 3\n"
                         "titles: distinct labels per level\n\n"
                         "M3-Wk-L1 scores level-1 labels,\nM3-Wk-L2 level-2 labels",
                         transform=flat[count].transAxes, ha="center", va="center", fontsize=7)
    return fig


def vocabulary_growth(*, resources: Any) -> Figure:
    """Vocabulary size per wheel: wheel words, + synonyms, + word forms (log scale)."""
    stages = vocabulary_stages(resources).rename(index={"all wheels": "all"})
    long = stages.reset_index().melt(id_vars="wheel", var_name="vocabulary", value_name="labels")
    fig, ax = _new_figure(COLUMN_WIDTH, 2.2)
    sns.barplot(data=long, x="wheel", y="labels", hue="vocabulary", palette=PALETTE, ax=ax)
    ax.set_yscale("log")
    ax.set(xlabel="", ylabel="labels the metric can map")
    for container in ax.containers:
        ax.bar_label(container, fmt="%d", fontsize=4.5, padding=1, rotation=90)
    ax.set_ylim(top=stages.to_numpy().max() * 12)
    ax.legend(title=None, ncols=1, loc="upper left", frameon=False)
    return fig


def ablation(*, scores: ScoreTable) -> Figure:
    """M-avg per baseline in S0, S1 and S2 with bootstrap 95% intervals."""
    frame = scores.f_frame()["M-avg"].rename("M-avg").reset_index()
    intervals = scores.interval_frame("M-avg").reset_index()
    data = frame.merge(intervals, on=["baseline", "setting"])
    order_settings = [s for s in SETTING_ORDER if s in set(data["setting"])]
    order = (data[data["setting"] == order_settings[-1]].sort_values("M-avg")["baseline"].tolist()
             + sorted(set(data["baseline"]) - set(data[data["setting"] == order_settings[-1]]["baseline"])))
    fig, ax = _new_figure(FULL_WIDTH, 2.3)
    sns.barplot(data=data, x="baseline", y="M-avg", hue="setting", order=order, hue_order=order_settings,
                palette=PALETTE, ax=ax, errorbar=None)
    # error bars at the bar centres, in the same order seaborn drew the bars (hue-major)
    for container, setting in zip(list(ax.containers), order_settings, strict=True):
        rows = data[data["setting"] == setting].set_index("baseline")
        for patch, baseline in zip(container.patches, order, strict=False):
            if baseline not in rows.index or np.isnan(rows.at[baseline, "low"]):
                continue
            x = patch.get_x() + patch.get_width() / 2
            value = rows.at[baseline, "M-avg"]
            ax.errorbar(x, value, yerr=[[value - rows.at[baseline, "low"]], [rows.at[baseline, "high"] - value]],
                        fmt="none", ecolor="black", elinewidth=0.6, capsize=1.5)
    ax.set(xlabel="", ylabel="M-avg (F, x100)")
    slant_crowded_labels(ax)
    ax.set_ylim(0, data["high"].max(skipna=True) * 1.12 if data["high"].notna().any() else None)
    ax.legend(title="setting", ncols=3, loc="upper left", frameon=False)
    ax.set_title("S0: video/audio only; S1: subtitle in the prompt; S2: clue merging (95% bootstrap intervals)")
    return fig


def metric_correlation(*, scores: ScoreTable) -> Figure:
    """Pearson correlation between the metrics' F across every scored file."""
    frame = scores.f_frame()
    fig, ax = _new_figure(COLUMN_WIDTH + 0.6, 3.3)
    if len(frame) < 3:  # a correlation needs three points; say so instead of failing the whole run
        ax.text(0.5, 0.5, f"metric correlation needs at least 3 scored files;\nthis run scored {len(frame)}",
                ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    corr = frame.corr(method="pearson")
    low = float(np.floor(corr.min().min() * 10) / 10)  # the colour scale spans the values present
    sns.heatmap(corr, vmin=low, vmax=1.0, cmap="cividis", annot=True, fmt=".2f",
                annot_kws={"fontsize": 4.2}, square=True, linewidths=0.3, cbar_kws={"shrink": 0.7}, ax=ax)
    ax.set(xlabel="", ylabel="")
    ax.tick_params(axis="x", rotation=90)
    ax.set_title(f"Pearson correlation across {len(frame)} scored files")
    return fig


def description_lengths(*, descriptions: pd.DataFrame) -> Figure:
    """Words per description: the reference descriptions and each baseline in each setting."""
    data = descriptions
    reference = data[data["source"] == "reference"]
    systems = data[data["source"] != "reference"]
    order = systems.groupby("source")["words"].median().sort_values().index.tolist()
    fig, ax = _new_figure(FULL_WIDTH, 2.4)
    sns.boxplot(data=systems, x="source", y="words", hue="setting", order=order,
                hue_order=[s for s in SETTING_ORDER if s in set(systems["setting"])], palette=PALETTE,
                fliersize=0.8, linewidth=0.6, ax=ax)
    median = float(reference["words"].median())
    ax.axhline(median, color="black", linestyle="--", linewidth=0.8, label=f"reference (median {median:.0f})")
    ax.set(xlabel="", ylabel="words per description")
    slant_crowded_labels(ax)
    ax.legend(title=None, ncols=4, loc="lower left", bbox_to_anchor=(0, 1.0), frameon=False)
    ax.set_ylim(0, float(data["words"].max()) * 1.03)
    return fig


def protocol_ranking(*, scores: ScoreTable) -> Figure:
    """The S2 rank of each baseline under each protocol: lines cross where a protocol reorders them."""
    frame = protocol_scores(scores)
    setting = next(s for s in reversed(SETTING_ORDER) if s in set(frame.index.get_level_values("setting")))
    values = frame.xs(setting, level="setting")
    # The EW aggregates first, the one-hot hit rate last: where the lines cross is where a protocol reorders.
    columns = sorted((c for c in values.columns if not c.endswith((" P", " R"))), key=lambda c: "MER2023" in c)
    ranks = values[columns].rank(ascending=False, method="min")
    fig, ax = _new_figure(FULL_WIDTH, 2.8)
    colours = sns.color_palette(PALETTE, len(ranks))
    x = np.arange(len(columns))
    for colour, (baseline, row) in zip(colours, ranks.iterrows(), strict=True):
        ax.plot(x, row.to_numpy(), marker="o", markersize=3, linewidth=1.1, color=colour)
        for end, align, shift in ((0, "right", -4), (-1, "left", 4)):
            ax.annotate(baseline, (x[end], row.iloc[end]), xytext=(shift, 0), textcoords="offset points",
                        ha=align, va="center", fontsize=6)
    ax.set_xticks(x, [c.replace(" (", "\n(") for c in columns])
    ax.set_yticks(range(1, len(ranks) + 1))
    ax.set_ylim(len(ranks) + 0.5, 0.5)
    ax.set_xlim(-1.4, len(columns) - 1 + 1.4)
    ax.set(ylabel="rank (1 = best)", xlabel="")
    ax.grid(axis="x", visible=False)
    ax.set_title(f"Ranking of the baselines in {setting} under each scoring protocol")
    return fig


def save_figure(build: Callable[..., Figure], arguments: Mapping[str, Any], folder: Path,
                name: str) -> tuple[None, list[Path]]:
    """Draw ``build(**arguments)`` in the paper's style; write ``<name>.png`` (300 dpi) and ``.pdf``."""
    folder.mkdir(parents=True, exist_ok=True)
    png, pdf = folder / f"{name}.png", folder / f"{name}.pdf"
    with paper_style():
        fig = build(**arguments)
        try:
            fig.savefig(png, metadata={"Software": None})
            fig.savefig(pdf, metadata={"Creator": None, "Producer": None, "CreationDate": None})
        finally:
            plt.close(fig)
    return None, [png, pdf]
