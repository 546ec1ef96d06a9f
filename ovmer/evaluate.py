"""Evaluate your own model: describe -> merge -> extract -> score -> where it would rank in Table 1.

What ``notebooks/evaluate_your_model.ipynb`` runs, one function per cell. The
model is any describe baseline: ``openai-compatible`` (a model on a server:
``base_url`` and ``model``), an adapter of the user's own registered from a
file (``include``) or an installed distribution, or a built-in one. Its
descriptions go to the results store under the run's name, then through the
same clue merging, label extraction and scoring as the paper's systems.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ovmer import plugins
from ovmer.data.mer2025 import LABELS_CSV, SUBTITLE_CSV
from ovmer.describe.adapter import BaselineSpec, DescribeAdapter
from ovmer.describe.runner import resolve_run, run_describe
from ovmer.errors import OvmerError
from ovmer.extract import run_extract
from ovmer.llm.inputs import load_subtitles
from ovmer.merge import run_merge
from ovmer.reproduce.layout import display_path, reproduce_layout
from ovmer.reproduce.selection import SMOKE_LIMIT
from ovmer.reproduce.stages import sample_limit, summary_frame, summary_row
from ovmer.scoring import M_AVG, default_ground_truth, read_ground_truth_csv
from ovmer.scoring.paper import PAPER_EW_ROWS, paper_value
from ovmer.scoring.protocols import DEFAULT_PROTOCOL, PROTOCOLS, score_with_protocol
from ovmer.settings import Setting
from ovmer.store import ResultsStore, store_path

SERVED = "openai-compatible"
DESCRIBED = (Setting.NOSUBTITLE, Setting.SUBTITLE)
SCORED = (Setting.NOSUBTITLE, Setting.SUBTITLE, Setting.NOSUBTITLE_ADDSUB)


@dataclass(frozen=True)
class EvaluationPlan:
    """One model's route through the pipeline, validated; the adapter is built but not loaded."""

    name: str  # the store folder of its records
    spec: BaselineSpec
    adapter: DescribeAdapter = field(repr=False)
    data_dir: Path
    limit: int | None
    store_root: Path
    merge_backend: str
    merge_model: str | None
    merge_options: Mapping[str, Any]
    extract_backend: str
    extract_model: str | None
    ground_truth: Path | None  # the dataset's OV-MERD labels; None: the OV-MERD assets

    def __repr__(self) -> str:
        media = "+".join(sorted(m for m in self.spec.modalities if m != "text"))
        samples = "all samples" if self.limit is None else f"at most {self.limit} samples"
        return (f"evaluate {self.name} ({self.spec.checkpoint}; {media}, {self.spec.frame_policy.describe()}) on "
                f"{display_path(self.data_dir)}, {samples}; merge with {self.merge_backend}"
                f"{f' ({self.merge_model})' if self.merge_model else ''}, extract with {self.extract_backend}; "
                f"store {display_path(self.store_root / 'store')}")


def include_user_code(include: str | Sequence[str] = "") -> list[str]:
    """Import the user's files or folders (``;``-separated in one string) so their registrations count."""
    paths = [p.strip() for p in include.split(";")] if isinstance(include, str) else list(include)
    return [module.__name__ for module in plugins.include(*[p for p in paths if p])]


def plan_evaluation(
    *,
    data: str,
    baseline: str = SERVED,
    base_url: str = "",
    model: str = "",
    model_path: str = "",
    device: str = "cpu",
    name: str = "",
    num_frames: int = 0,
    adapter_options: Mapping[str, Any] | None = None,
    smoke: bool = True,
    limit: int = 0,
    merge_backend: str = "openai",
    merge_model: str = "",
    merge_base_url: str = "",
    extract_backend: str = "cpu",
    extract_model: str = "",
    output: str = "",
) -> EvaluationPlan:
    """Validate the notebook's parameters and build the describe adapter.

    For ``openai-compatible``, ``base_url`` and ``model`` name the server and its
    model (``num_frames`` how many frames it is sent; 0: the baseline's policy),
    and clue merging defaults to the same server and model (``merge_*`` choose
    another LLM). ``limit`` 0 means all samples (smoke mode: a few).
    """
    if not data:
        raise OvmerError("data: give the dataset folder (MER2025 layout: video/, audio/, subtitle_chieng.csv)")
    data_dir = Path(data).expanduser()
    options = dict(adapter_options or {})
    served = baseline == SERVED
    served_options = {"base_url": base_url, "model": model, "name": name, "num_frames": num_frames}
    if served:
        options |= {k: v for k, v in served_options.items() if v}
    elif any(served_options.values()):
        given = ", ".join(k for k, v in served_options.items() if v)
        raise OvmerError(f"{given}: parameters of baseline {SERVED!r}, not of {baseline!r}")
    spec, adapter = resolve_run(baseline, model_path=model_path or None, device=device, adapter_options=options)
    assert adapter is not None
    merge_options: dict[str, Any] = {}
    if merge_backend == "openai":
        merge_base_url = merge_base_url or base_url
        if merge_base_url:
            merge_options["base_url"] = merge_base_url
        merge_model = merge_model or (model if served else "")
    labels = data_dir / LABELS_CSV
    return EvaluationPlan(
        name=spec.name,
        spec=spec,
        adapter=adapter,
        data_dir=data_dir,
        limit=sample_limit(limit, "") or (SMOKE_LIMIT if smoke else None),
        store_root=reproduce_layout(smoke, output or None).root,
        merge_backend=merge_backend,
        merge_model=merge_model or None,
        merge_options=merge_options,
        extract_backend=extract_backend,
        extract_model=extract_model or None,
        ground_truth=labels if labels.is_file() else None,
    )


def _checked(frame: pd.DataFrame, stage: str) -> pd.DataFrame:
    failed = frame[frame["failed"] > 0]
    if len(failed):
        raise OvmerError(f"{stage}: {int(failed['failed'].sum())} sample(s) failed; their error records are in "
                         f"{', '.join(failed['store file'])}")
    return frame


def describe_samples(plan: EvaluationPlan) -> pd.DataFrame:
    """The model's descriptions without (S0) and with (S1) the subtitle, one summary row per setting."""
    rows = []
    for setting in DESCRIBED:
        summary = run_describe(plan.adapter, setting, plan.data_dir, limit=plan.limit, store_root=plan.store_root,
                               spec=plan.spec, progress=False)
        path = store_path("describe", plan.name, setting, plan.store_root)
        rows.append(summary_row(plan.name, setting, "describe", summary, path))
    return _checked(summary_frame(rows), "describe")


def merge_descriptions(plan: EvaluationPlan) -> pd.DataFrame:
    """Clue merging (S2): the S0 descriptions with the dataset's subtitles, through the merge LLM."""
    own = plan.data_dir / SUBTITLE_CSV  # the dataset's subtitles; without them, OV-MERD's
    summary = run_merge(plan.name, backend=plan.merge_backend, model=plan.merge_model, store_root=plan.store_root,
                        source="store", subtitles=load_subtitles(own if own.is_file() else None),
                        backend_options=dict(plan.merge_options), progress=False)
    setting = Setting.NOSUBTITLE_ADDSUB
    path = store_path("merge", plan.name, setting, plan.store_root)
    return _checked(summary_frame([summary_row(plan.name, setting, "merge", summary, path)]), "merge")


def extract_labels(plan: EvaluationPlan) -> pd.DataFrame:
    """Open-vocabulary label lists from the S0, S1 and S2 descriptions."""
    rows = []
    for setting in SCORED:
        summary = run_extract(plan.name, setting, backend=plan.extract_backend, model=plan.extract_model,
                              store_root=plan.store_root, source="store", progress=False)
        path = store_path("extract", plan.name, setting, plan.store_root)
        rows.append(summary_row(plan.name, setting, "extract", summary, path))
    return _checked(summary_frame(rows), "extract")


def _ground_truth(plan: EvaluationPlan) -> dict[str, list[str]]:
    return read_ground_truth_csv(plan.ground_truth) if plan.ground_truth else default_ground_truth()


def _label_lists(plan: EvaluationPlan, setting: Setting) -> dict[str, Any]:
    path = store_path("extract", plan.name, setting, plan.store_root)
    if not path.is_file():
        raise OvmerError(f"{path}: no label lists of {plan.name} in {setting.value}; run extract_labels first")
    return ResultsStore(path).values()


def score_every_protocol(plan: EvaluationPlan) -> pd.DataFrame:
    """The model's S0, S1 and S2 label lists under every scoring protocol, ×100; a row per setting and protocol.

    ``score`` is each protocol's headline number (``ovmer-paper``: M-avg) and ``parts``
    the rest, over the samples that were described (the ground truth of the others is
    left out). A protocol that cannot score them (``hit-rate`` brings its own truth,
    every OV-MERD sample) keeps its row, with the reason in ``note``.
    """
    truth = _ground_truth(plan)
    rows = []
    for setting in SCORED:
        predictions = _label_lists(plan, setting)
        missing = sorted(set(predictions) - set(truth))
        if missing:
            raise OvmerError(f"{plan.name} {setting.value}: no ground truth for {len(missing)} sample(s), "
                             f"e.g. {missing[0]} ({plan.ground_truth or 'OV-MERD'})")
        subset = {name: truth[name] for name in predictions}
        for protocol in PROTOCOLS.names():
            row: dict[str, object] = {"setting": setting.short, "protocol": protocol, "samples": len(predictions)}
            try:
                result = score_with_protocol(predictions, protocol, subset, baseline=plan.name, setting=setting.value)
            except OvmerError as exc:
                rows.append(row | {"score": math.nan, "parts": "", "note": f"not scored: {str(exc).splitlines()[0]}"})
                continue
            parts = ", ".join(f"{name} {100 * value:.2f}" for name, value in result.parts.items())
            rows.append(row | {"score": round(100 * result.score, 2), "parts": parts, "note": ""})
    return pd.DataFrame(rows).set_index(["setting", "protocol"])


def rank_in_table1(plan: EvaluationPlan, scores: pd.DataFrame) -> pd.DataFrame:
    """Where the model's S2 M-avg would stand among Table 1's systems (the paper's published M-avg), best first.

    Table 1 is over all of OV-MERD, so a smoke run's few samples place the model only roughly.
    """
    mine = scores.loc[(Setting.NOSUBTITLE_ADDSUB.short, DEFAULT_PROTOCOL)]
    rows: dict[str, dict[str, object]] = {
        system: {M_AVG: paper_value(system, M_AVG), "source": "paper"} for system in PAPER_EW_ROWS}
    rows[plan.name] = {M_AVG: float(mine["score"]), "source": f"this run ({int(mine['samples'])} samples)"}
    table = pd.DataFrame.from_dict(rows, orient="index").sort_values(M_AVG, ascending=False).round(2)
    table.insert(0, "rank", range(1, len(table) + 1))
    table.index.name = "system"
    return table
