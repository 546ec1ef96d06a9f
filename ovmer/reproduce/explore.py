"""Look at one sample: its subtitle, the reference and the baseline's descriptions, the labels,
and what each metric mapped or dropped. Used by ``notebooks/explore.ipynb``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ovmer.assets import asset_path
from ovmer.data import RELEASED_BASELINES, load_ovmerd
from ovmer.data.released import load_released_descriptions, released_file
from ovmer.errors import OvmerError
from ovmer.registry import did_you_mean
from ovmer.scoring import per_sample_table, read_predictions
from ovmer.settings import Setting
from ovmer.store import ResultsStore, store_path
from ovmer.store.authors_npz import description_stage

SOURCES = ("released", "store")


@dataclass(frozen=True)
class SampleView:
    baseline: str
    setting: Setting
    name: str
    subtitle: str
    reference: str
    description: str
    ground_truth: list[str]
    predicted: list[str]
    metrics: pd.DataFrame  # per metric: mapped/dropped labels, precision, recall

    def _header(self) -> str:
        return f"{self.name} | {self.baseline} | {self.setting.short} ({self.setting.value})"

    def __repr__(self) -> str:
        parts = [
            self._header(),
            f"subtitle: {self.subtitle or '-'}",
            f"ground truth: {', '.join(self.ground_truth)}",
            f"predicted: {', '.join(self.predicted) or '-'}",
            f"reference description: {self.reference}",
            f"{self.baseline} description: {self.description or '-'}",
            self.metrics.to_string(),
        ]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        def block(title: str, text: str) -> str:
            return f"<p><b>{html.escape(title)}</b><br>{html.escape(text or '-')}</p>"

        return "".join(
            [
                f"<h4>{html.escape(self._header())}</h4>",
                block("Subtitle", self.subtitle),
                block("Ground truth", ", ".join(self.ground_truth)),
                block("Predicted", ", ".join(self.predicted)),
                block("Reference description", self.reference),
                block(f"{self.baseline} description", self.description),
                self.metrics.to_html(),
            ]
        )


def _labels_and_description(baseline: str, setting: Setting, source: str) -> tuple[dict[str, Any], dict[str, str]]:
    if source == "released":
        labels = read_predictions(asset_path(released_file(baseline, setting)))
        return labels, load_released_descriptions(baseline, setting)
    label_file = store_path("extract", baseline, setting)
    if not label_file.is_file():
        raise OvmerError(f"{label_file}: no extracted labels of {baseline} / {setting.value} in the store")
    described = store_path(description_stage(setting), baseline, setting)
    texts = ResultsStore(described).values() if described.is_file() else {}
    return read_predictions(label_file), {n: str(v) for n, v in texts.items()}


def explore_sample(
    baseline: str = "Chat-UniVi", setting: str | Setting = "S2", sample: str = "", source: str = "released"
) -> SampleView:
    """Everything about one sample for one baseline and setting (``sample`` empty: the first one)."""
    if source not in SOURCES:
        raise OvmerError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    try:
        chosen = Setting.parse(setting)
    except ValueError as exc:
        raise OvmerError(str(exc)) from None
    dataset = load_ovmerd()
    name = sample or dataset.names[0]
    if name not in dataset.ground_truth:
        raise OvmerError(f"{name!r} is not an OV-MERD test sample.{did_you_mean(name, dataset.names)}")
    labels, descriptions = _labels_and_description(baseline, chosen, source)
    if name not in labels:
        raise OvmerError(f"{baseline} / {chosen.value}: no predicted labels for {name}")
    table = per_sample_table({name: labels[name]}, {name: dataset.ground_truth[name]})
    metrics = table.drop(columns=[c for c in ("name", "gt_labels", "pred_labels") if c in table.columns])
    metrics = metrics.set_index("metric") if "metric" in metrics.columns else metrics
    return SampleView(
        baseline=baseline,
        setting=chosen,
        name=name,
        subtitle=dataset.subtitle_en.get(name, ""),
        reference=dataset.reference_en[name],
        description=descriptions.get(name, ""),
        ground_truth=list(dataset.ground_truth[name]),
        predicted=list(labels[name]),
        metrics=metrics,
    )


def explorer(baseline: str = "Chat-UniVi", setting: str = "S2", source: str = "released") -> Any:
    """An interactive picker (ipywidgets) of baseline, setting and sample for JupyterLab."""
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError as exc:
        raise OvmerError("the explorer needs ipywidgets: pip install 'ovmer[notebooks]'") from exc
    names = list(load_ovmerd().names)
    pick_baseline = widgets.Dropdown(options=list(RELEASED_BASELINES), value=baseline, description="baseline")
    pick_setting = widgets.Dropdown(options=[s.short for s in Setting], value=Setting.parse(setting).short,
                                    description="setting")
    pick_sample = widgets.Dropdown(options=names, value=names[0], description="sample")
    out = widgets.Output()

    def refresh(_: object = None) -> None:
        out.clear_output(wait=True)
        with out:
            try:
                display(explore_sample(pick_baseline.value, pick_setting.value, pick_sample.value, source))
            except OvmerError as exc:
                print(f"error: {exc}")

    for control in (pick_baseline, pick_setting, pick_sample):
        control.observe(refresh, names="value")
    refresh()
    return widgets.VBox([widgets.HBox([pick_baseline, pick_setting, pick_sample]), out])
