"""Look at one sample: its clip, subtitles, the reference and the baseline's descriptions, the labels,
what each metric mapped or dropped and why, and the sample's own scores. Used by ``notebooks/explore.ipynb``.

:func:`explore_sample` gives a :class:`SampleView` (shown as HTML in a notebook, as text elsewhere);
:func:`explorer` is the JupyterLab picker over it, with the compare view and the disagreement
ranking of :mod:`ovmer.reproduce.explore_compare` in tabs.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ovmer.data import RELEASED_BASELINES, load_ovmerd
from ovmer.errors import OvmerError
from ovmer.registry import did_you_mean
from ovmer.reproduce.explore_compare import compare_sample, disagreement_ranking
from ovmer.reproduce.explore_data import (
    SOURCES,
    SampleScore,
    check_sample,
    labels_and_descriptions,
    parse_setting,
    sample_score,
)
from ovmer.reproduce.explore_media import SampleMedia, load_sample_media, resolve_media_dir
from ovmer.reproduce.table_io import Table
from ovmer.scoring import METRIC_NAMES, per_sample_scores, per_sample_table
from ovmer.scoring.explain import explain_labels, explanation_html
from ovmer.settings import Setting

__all__ = ["SOURCES", "SampleView", "compare_sample", "disagreement_ranking", "explore_sample", "explorer"]

LEGEND = (
    ("M1", "labels merged by word form (format.csv: 'happily' counts as 'happy')"),
    ("M2", "M1, then each name mapped to a wheel word through the synonym table (synonym.xlsx)"),
    ("M3-Wk-Lj", "emotion wheel k (W1-W5, the authors' five wheels) grouped at level j: L1 the top-level "
                 "group (e.g. happy), L2 the middle group"),
    ("mapped / dropped", "the labels' values under the metric / the labels outside its vocabulary"),
    ("counted", "whether the sample counts under the metric: its mapped ground truth is not empty "
                "(a sample that is not counted is left out of that metric's mean)"),
    ("P, R, F", "the sample's precision, recall and F under the metric (x100)"),
    ("M-avg", "the mean of the 12 metrics' F; the dataset's M-avg uses each metric's mean P and R"),
)


def legend_html() -> str:
    items = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in LEGEND)
    return f'<details class="ovmer-legend"><summary>Legend: M1, M2, W1-W5, L1/L2, counted</summary><ul>{items}</ul></details>'


def subtitle_seen(setting: Setting) -> str | None:
    """The subtitle language the baseline's input had: none in S0; English in S1 (prompt) and S2 (merge)."""
    return None if setting is Setting.NOSUBTITLE else "english"


@dataclass(frozen=True)
class SampleView:
    baseline: str
    setting: Setting
    name: str
    subtitle: str  # English
    reference: str
    description: str
    ground_truth: list[str]
    predicted: list[str]
    metrics: pd.DataFrame  # per metric: mapped/dropped labels, counted, precision, recall, f
    subtitle_zh: str = ""
    score: SampleScore | None = None
    media: SampleMedia | None = None

    @property
    def header(self) -> str:
        return f"{self.name} | {self.baseline} | {self.setting.short} ({self.setting.value})"

    def subtitle_note(self) -> str:
        seen = subtitle_seen(self.setting)
        if seen is None:
            return f"{self.setting.short}: the baseline saw no subtitle"
        how = "in its prompt" if self.setting is Setting.SUBTITLE else "merged with its S0 description by the LLM"
        return f"{self.setting.short}: the baseline saw the English subtitle ({how})"

    def scores_table(self) -> Table:
        """The per-metric table a person reads (the notebook shows it styled; nbval compares its text)."""
        frame = self.metrics.copy()
        for column in ("gt_mapped", "pred_mapped", "gt_dropped", "pred_dropped"):
            frame[column] = frame[column].map(lambda v: ", ".join(v) if v else "-")
        for column in ("precision", "recall", "f"):
            frame[column] = 100 * frame[column]
        frame = frame.rename(columns={"gt_mapped": "GT mapped", "pred_mapped": "predicted mapped",
                                      "gt_dropped": "GT dropped", "pred_dropped": "predicted dropped",
                                      "precision": "P", "recall": "R", "f": "F"})
        caption = f"{self.header}: each metric's mapped labels and the sample's scores (x100)"
        if self.score is not None:
            caption += (f"; sample M-avg {_fmt(self.score.m_avg)}, contribution to the dataset M-avg "
                        f"{self.score.contribution:+.2f} ({self.score.dataset_m_avg:.2f} with it, "
                        f"{self.score.without_m_avg:.2f} without)")
        return Table(f"sample_{self.name}", caption, frame, digits=1, index_label="metric")

    def __repr__(self) -> str:
        parts = [
            self.header,
            f"subtitle (English): {self.subtitle or '-'}",
            f"subtitle (Chinese): {self.subtitle_zh or '-'}",
            self.subtitle_note(),
            f"ground truth: {', '.join(self.ground_truth)}",
            f"predicted: {', '.join(self.predicted) or '-'}",
            f"reference description: {self.reference}",
            f"{self.baseline} description: {self.description or '-'}",
            self.scores_table().text(),
        ]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        def block(title: str, text: str, css: str = "") -> str:
            cls = f' class="{css}"' if css else ""
            return f"<p{cls}><b>{html.escape(title)}</b><br>{html.escape(text or '-')}</p>"

        explanations = explain_labels(list(dict.fromkeys([*self.ground_truth, *self.predicted])))
        panel = "".join(explanation_html(e) for e in explanations)
        return "".join(
            [
                f'<h4 class="ovmer-header">{html.escape(self.header)}</h4>',
                self.media._repr_html_() if self.media is not None else "",
                block("Subtitle (English)", self.subtitle, "ovmer-subtitle-en"),
                block("Subtitle (Chinese)", self.subtitle_zh, "ovmer-subtitle-zh"),
                f"<p><i>{html.escape(self.subtitle_note())}. The reference description quotes its own "
                "translation of the subtitle.</i></p>",
                block("Ground truth", ", ".join(self.ground_truth), "ovmer-ground-truth"),
                block("Predicted", ", ".join(self.predicted), "ovmer-predicted"),
                block("Reference description", self.reference),
                block(f"{self.baseline} description", self.description),
                self._score_html(),
                f'<div class="ovmer-metrics">{self.scores_table().styled().to_html()}</div>',
                legend_html(),
                f'<div class="ovmer-explain"><b>How each label maps</b> (word forms, synonym runs, the wheel '
                f"word chosen){panel}</div>",
            ]
        )

    def _score_html(self) -> str:
        if self.score is None:
            return ""
        s = self.score
        return (f'<p class="ovmer-sample-score"><b>Sample M-avg</b> {_fmt(s.m_avg)} (mean F over its counted '
                f"metrics); <b>contribution</b> to {self.baseline}'s dataset M-avg: {s.contribution:+.3f} "
                f"({s.dataset_m_avg:.2f} with this sample, {s.without_m_avg:.2f} without)</p>")


def _fmt(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def explore_sample(
    baseline: str = "Chat-UniVi",
    setting: str | Setting = "S2",
    sample: str = "",
    source: str = "released",
    media_dir: str | os.PathLike[str] | None = None,
) -> SampleView:
    """Everything about one sample for one baseline and setting (``sample`` empty: the first one).

    ``media_dir``: a MER2025-layout folder to show the clip from (empty: ``<data>/mer2025`` when it
    exists, as ``ovmer download mer2025`` leaves it; no folder: no clip).
    """
    chosen = parse_setting(setting)
    name = check_sample(sample)
    dataset = load_ovmerd()
    labels, descriptions = labels_and_descriptions(baseline, chosen, source)
    if name not in labels:
        raise OvmerError(f"{baseline} / {chosen.value}: no predicted labels for {name}")
    table = per_sample_table({name: labels[name]}, {name: dataset.ground_truth[name]})
    metrics = table.drop(columns=[c for c in ("name", "gt_labels", "pred_labels") if c in table.columns])
    metrics = metrics.set_index("metric")
    p, r = metrics["precision"], metrics["recall"]
    metrics["f"] = (2 * p * r / (p + r)).where((p + r) > 0, 0.0).where(metrics["counted"])
    scores = per_sample_scores(labels, dataset.ground_truth, missing_as_empty=True)
    folder = resolve_media_dir(media_dir)
    return SampleView(
        baseline=baseline,
        setting=chosen,
        name=name,
        subtitle=dataset.subtitle_en.get(name, ""),
        subtitle_zh=dataset.subtitle_zh.get(name, ""),
        reference=dataset.reference_en[name],
        description=descriptions.get(name, ""),
        ground_truth=list(dataset.ground_truth[name]),
        predicted=list(labels[name]),
        metrics=metrics,
        score=sample_score(scores, name),
        media=load_sample_media(folder, name) if folder is not None else None,
    )


def explorer(
    baseline: str = "Chat-UniVi",
    setting: str = "S2",
    source: str = "released",
    sample: str = "",
    media_dir: str = "",
    metric: str = "M3-W1-L1",
) -> Any:
    """The JupyterLab explorer: pickers (the sample one searchable) over a sample tab, the compare view
    of every baseline for that sample under ``metric``, and the samples where baselines disagree most."""
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError as exc:
        raise OvmerError("the explorer needs ipywidgets: pip install 'ovmer[notebooks]'") from exc

    names = list(load_ovmerd().names)
    start = check_sample(sample)
    if metric not in METRIC_NAMES:
        raise OvmerError(f"unknown metric {metric!r}.{did_you_mean(metric, METRIC_NAMES)}")
    pick_baseline = widgets.Dropdown(options=list(RELEASED_BASELINES) if source == "released" else [baseline],
                                     value=baseline, description="baseline")
    pick_setting = widgets.Dropdown(options=[s.short for s in Setting], value=parse_setting(setting).short,
                                    description="setting")
    pick_sample = widgets.Combobox(options=names, value=start, ensure_option=True, description="sample",
                                   placeholder="type to search", continuous_update=False)
    pick_metric = widgets.Dropdown(options=list(METRIC_NAMES), value=metric, description="metric")
    previous, following = widgets.Button(description="◀", layout={"width": "3em"}), \
        widgets.Button(description="▶", layout={"width": "3em"})
    pick_sample.add_class("ovmer-sample-picker")
    views = [widgets.Output(), widgets.Output(), widgets.Output()]
    tabs = widgets.Tab(children=views)
    for i, title in enumerate(("sample", "compare", "disagreement")):
        tabs.set_title(i, title)

    def show(out: Any, make: Any) -> None:
        out.clear_output(wait=True)
        with out:
            try:
                display(make())
            except OvmerError as exc:
                print(f"error: {exc}")

    def refresh(_: object = None) -> None:
        name = pick_sample.value
        if name not in names:  # half-typed search text: wait for a full name
            return
        show(views[0], lambda: explore_sample(pick_baseline.value, pick_setting.value, name, source, media_dir))
        show(views[1], lambda: compare_sample(name, pick_setting.value, pick_metric.value, source=source))
        show(views[2], lambda: disagreement_ranking(pick_setting.value, source=source))

    def step(offset: int) -> Any:
        def go(_: object) -> None:
            current = names.index(pick_sample.value) if pick_sample.value in names else 0
            pick_sample.value = names[(current + offset) % len(names)]
        return go

    previous.on_click(step(-1))
    following.on_click(step(1))
    for control in (pick_baseline, pick_setting, pick_sample, pick_metric):
        control.observe(refresh, names="value")
    refresh()
    controls = widgets.HBox([pick_baseline, pick_setting, previous, pick_sample, following, pick_metric],
                            layout={"flex_flow": "row wrap"})
    return widgets.VBox([controls, tabs])
