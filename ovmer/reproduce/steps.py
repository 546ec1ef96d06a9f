"""The reproduction steps: one notebook each, run in dependency order, skipped while up to date.

A step's key hashes what it declares it reads, and nothing else:

- the notebook's cells (types, tags, sources; not the stored outputs);
- its parameters;
- the content of the data files it reads (:attr:`StepPlan.inputs`: store files,
  the scores cache; the fetched assets are pinned by the asset manifest);
- the keys of the steps it depends on (from this run, else from their last stamp);
- the source of the package modules its code uses: the modules the notebook
  imports and every module those reach (:class:`~ovmer.reproduce.sources.ModuleGraph`),
  with the data files shipped beside them (prompts, the asset manifest).

So a docstring edit in a module the step never reaches keeps it up to date,
and any edit of a module it does reach runs it again. A stamp
(``<notebooks>/.stamps/<step>.json``) keeps the key, what went into it and the
files the step recorded as outputs; a step whose outputs went missing runs again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovmer.registry import Registry
from ovmer.reproduce.jsonfile import write_json
from ovmer.reproduce.layout import ReproduceLayout, display_path, resolve_display_path
from ovmer.reproduce.notebooks import (
    check_parameters,
    execute_notebook,
    notebook_code,
    notebook_fingerprint,
    notebooks_dir,
)
from ovmer.reproduce.record import read_records
from ovmer.reproduce.sources import ModuleGraph, file_sha256


@dataclass(frozen=True)
class NotebookStep:
    name: str  # the notebook's file name without .ipynb
    needs: tuple[str, ...]  # steps that must run first when they are part of the run
    summary: str


STEPS: Registry[NotebookStep] = Registry("notebook step", NotebookStep)


def register_step(name: str, needs: Sequence[str], summary: str) -> NotebookStep:
    for need in needs:
        STEPS.canonical(need)  # a step depends only on steps registered before it
    return STEPS.register(name, NotebookStep(name, tuple(needs), summary), summary)


register_step("01_describe", (), "MLLM descriptions into the store (GPU work; run on its own)")
register_step("02_merge_clues", ("01_describe",), "S2: an LLM merges each S0 description with the subtitle")
register_step("03_extract_labels", ("02_merge_clues",), "open-vocabulary labels from the descriptions")
register_step("04_score", ("03_extract_labels",), "score every baseline x setting; write the scores cache")
register_step("05_tables", ("04_score",), "tables 1-5 as CSV, Markdown and LaTeX")
register_step("06_figures", ("04_score",), "figures as PNG and PDF")


@dataclass(frozen=True)
class StepPlan:
    step: NotebookStep
    parameters: dict[str, Any]
    inputs: tuple[Path, ...] = ()  # data files whose content the step reads (hashed when the step is due)


@dataclass
class StepRun:
    name: str
    status: str  # "ran" or "skipped"
    seconds: float
    notebook: Path
    records: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why it ran (or "up to date")


@dataclass
class RunSummary:
    layout: ReproduceLayout
    runs: list[StepRun]

    def timings(self) -> str:
        width = max((len(r.name) for r in self.runs), default=4)
        lines = [f"  {r.name:<{width}}  {r.status:<7}  {r.seconds:6.1f} s" for r in self.runs]
        total = sum(r.seconds for r in self.runs)
        return "\n".join([*lines, f"  {'total':<{width}}  {'':<7}  {total:6.1f} s"])


def order_steps(names: Sequence[str]) -> list[str]:
    """``names`` in dependency order; unknown names raise with a did-you-mean hint."""
    wanted = {STEPS.canonical(name) for name in names}
    return [name for name in STEPS.names() if name in wanted]


def step_inputs(
    plan: StepPlan, notebook: Path, upstream: Mapping[str, str | None], graph: ModuleGraph
) -> dict[str, Any]:
    """Everything the step's key hashes, by kind (kept in its stamp to say what changed)."""
    entries = graph.entry_modules(notebook_code(notebook), str(notebook))
    return {
        "notebook": notebook_fingerprint(notebook),
        "parameters": plan.parameters,
        "upstream": dict(sorted(upstream.items())),
        "files": {display_path(p): file_sha256(p) if p.is_file() else None for p in plan.inputs},
        "modules": graph.fingerprint(entries),
    }


def step_key(inputs: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def what_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """A short reason naming the first input that differs between two :func:`step_inputs`."""
    for kind in ("notebook", "parameters", "upstream", "files", "modules"):
        before, after = old.get(kind), new.get(kind)
        if before == after:
            continue
        if isinstance(before, Mapping) and isinstance(after, Mapping):
            changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
            more = f" (+{len(changed) - 1} more)" if len(changed) > 1 else ""
            label = {"parameters": "parameter", "upstream": "step", "files": "file", "modules": "source"}[kind]
            return f"{label} {changed[0]} changed{more}"
        return f"{kind} changed"
    return "inputs changed"


def _stamp_path(layout: ReproduceLayout, name: str) -> Path:
    return layout.stamps / f"{name}.json"


def _read_stamp(layout: ReproduceLayout, name: str) -> dict[str, Any] | None:
    try:
        stamp = json.loads(_stamp_path(layout, name).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # ValueError: bad JSON or not UTF-8
        return None  # never ran, or a torn or damaged stamp: the step runs
    return stamp if isinstance(stamp, dict) else None


def _why_due(stamp: Mapping[str, Any] | None, key: str, inputs: Mapping[str, Any], executed: Path) -> str:
    """Why the step must run, or "" when it is up to date."""
    if stamp is None:
        return "first run"
    if not executed.is_file():
        return f"executed notebook {display_path(executed)} missing"
    if stamp.get("key") != key:
        return what_changed(stamp["inputs"], inputs) if "inputs" in stamp else "stamp of an older ovmer"
    missing = [p for p in stamp.get("outputs", []) if not resolve_display_path(p).exists()]
    return f"output {missing[0]} missing" if missing else ""


def run_steps(
    plans: Sequence[StepPlan],
    layout: ReproduceLayout,
    *,
    force: bool = False,
    source_dir: Path | None = None,
    kernel: str | None = None,
    on_step: Callable[[StepRun], None] | None = None,
    graph: ModuleGraph | None = None,
) -> RunSummary:
    """Execute each planned step unless its stamp shows it up to date.

    The executed notebook goes to ``layout.notebooks``; its ``outputs`` record
    (the files it wrote) is kept in the stamp. A step's key is computed when its
    turn comes, after the steps before it ran, so it hashes the files they wrote.
    ``graph`` is the package's import graph (default: the installed sources).
    """
    layout.ensure()
    folder = source_dir or notebooks_dir()
    graph = graph or ModuleGraph()
    by_name = {plan.step.name: plan for plan in plans}
    keys: dict[str, str] = {}
    runs: list[StepRun] = []
    for name in order_steps(list(by_name)):
        plan = by_name[name]
        source = folder / f"{name}.ipynb"
        executed = layout.notebooks / f"{name}.ipynb"
        check_parameters(source, plan.parameters)
        # a step it depends on that is not part of this run counts with the key of its last stamp
        upstream = {dep: keys.get(dep) or (_read_stamp(layout, dep) or {}).get("key") for dep in plan.step.needs}
        inputs = step_inputs(plan, source, upstream, graph)
        key = keys[name] = step_key(inputs)
        reason = "forced" if force else _why_due(_read_stamp(layout, name), key, inputs, executed)
        if not reason:
            run = StepRun(name, "skipped", 0.0, executed, read_records(executed), "up to date")
        else:
            started = time.perf_counter()
            execute_notebook(source, executed, plan.parameters, kernel=kernel)
            seconds = time.perf_counter() - started
            records = read_records(executed)
            outputs = [str(p) for p in records.get("outputs", [])]
            write_json({"key": key, "outputs": outputs, "seconds": round(seconds, 3), "inputs": inputs},
                       _stamp_path(layout, name))
            run = StepRun(name, "ran", seconds, executed, records, reason)
        runs.append(run)
        if on_step is not None:
            on_step(run)
    return RunSummary(layout, runs)
