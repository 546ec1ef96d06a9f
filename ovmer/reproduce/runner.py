"""``ovmer reproduce``: which steps to run with which parameters, and refreshing the committed notebooks.

:func:`plan_reproduction` turns the command's options into step plans (each
notebook's parameters and the data files it reads); :func:`run_reproduction`
runs them through :func:`ovmer.reproduce.steps.run_steps`, which skips the steps
that are up to date. :func:`refresh_notebooks` executes the committed notebooks
in smoke mode and stores them with clean, deterministic outputs.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ovmer.extract.stage import CPU_BACKEND
from ovmer.llm.registry import BACKENDS
from ovmer.registry import unknown_name
from ovmer.reproduce.extra import stage_extra_baselines
from ovmer.reproduce.layout import ReproduceLayout, reproduce_layout
from ovmer.reproduce.notebooks import (
    clean_notebook,
    execute_notebook,
    kernel_environment,
    notebooks_dir,
    write_notebook,
)
from ovmer.reproduce.record import read_records
from ovmer.reproduce.selection import default_baselines
from ovmer.reproduce.sources import ModuleGraph
from ovmer.reproduce.steps import STEPS, RunSummary, StepPlan, StepRun, run_steps
from ovmer.settings import ALL_SETTINGS
from ovmer.store import store_path


@dataclass(frozen=True)
class ReproduceOptions:
    smoke: bool = False
    extract_backend: str | None = None  # re-extract the released baselines' labels with this backend
    llm_model: str | None = None  # model id/folder for LLM backends (merge and extract)
    merge_backend: str | None = None  # LLM backend for clue merging of extra baselines
    extra_baselines: tuple[Path, ...] = ()  # folders of describe-stage outputs (one baseline each)
    force: bool = False
    figures_dir: Path | None = None  # default: <project>/figures (smoke: <output>/smoke/figures)


def check_backends(options: ReproduceOptions) -> None:
    """Refuse an unknown ``extract_backend`` / ``merge_backend`` before any notebook starts."""
    extract = options.extract_backend
    if extract is not None and extract != CPU_BACKEND and extract not in BACKENDS:
        raise unknown_name("extract backend", options.extract_backend, [CPU_BACKEND, *BACKENDS.names()])
    if options.merge_backend is not None and options.merge_backend not in BACKENDS:
        raise unknown_name("merge backend", options.merge_backend, BACKENDS.names())


def plan_reproduction(options: ReproduceOptions) -> tuple[ReproduceLayout, list[StepPlan]]:
    """The steps of ``ovmer reproduce`` for ``options``: each notebook's parameters and the files it reads."""
    check_backends(options)
    layout = reproduce_layout(options.smoke)
    if options.figures_dir:
        layout = dataclasses.replace(layout, figures=Path(options.figures_dir).expanduser())
    extra = stage_extra_baselines(options.extra_baselines, layout.root) if options.extra_baselines else []
    extra_names = [e.name for e in extra]
    extra_files = tuple(p for e in extra for p in e.files)
    plans: list[StepPlan] = []
    if extra and options.merge_backend:
        plans.append(
            StepPlan(
                STEPS.get("02_merge_clues"),
                {"smoke": options.smoke, "baselines": extra_names, "backend": options.merge_backend,
                 "model": options.llm_model or ""},
                extra_files,
            )
        )
    if options.extract_backend or extra:
        released = list(default_baselines(options.smoke))
        plans.append(
            StepPlan(
                STEPS.get("03_extract_labels"),
                {"smoke": options.smoke, "baselines": (released if options.extract_backend else []) + extra_names,
                 "backend": options.extract_backend or "cpu", "model": options.llm_model or ""},
                extra_files,
            )
        )
    labels = "store" if options.extract_backend else "released"
    # the label files 04_score reads from the store; the released ones are assets, pinned by the manifest
    scored = (list(default_baselines(options.smoke)) if options.extract_backend else []) + extra_names
    label_files = tuple(store_path("extract", b, s, layout.root) for b in scored for s in ALL_SETTINGS)
    plans.append(
        StepPlan(
            STEPS.get("04_score"),
            {"smoke": options.smoke, "labels": labels, "extra_baselines": extra_names},
            label_files,
        )
    )
    plans.append(StepPlan(STEPS.get("05_tables"), {"smoke": options.smoke}, (layout.scores,)))
    # absolute: the kernel's working directory is notebooks/, not the caller's
    figures = {"figures_dir": str(layout.figures.resolve())} if options.figures_dir else {}
    plans.append(StepPlan(STEPS.get("06_figures"), {"smoke": options.smoke, **figures}, (layout.scores,)))
    return layout, plans


def run_reproduction(
    options: ReproduceOptions,
    *,
    on_step: Callable[[StepRun], None] | None = None,
    graph: ModuleGraph | None = None,
) -> RunSummary:
    """Plan and run ``ovmer reproduce``: score, then tables and figures (plus re-extraction if asked)."""
    layout, plans = plan_reproduction(options)
    return run_steps(plans, layout, force=options.force, on_step=on_step, graph=graph)


# -- committed notebooks: executed in smoke mode, stored with clean, deterministic outputs ---------

NOTEBOOK_ORDER: tuple[str, ...] = (*STEPS.names(), "explore")


def refresh_notebooks(names: Sequence[str] | None = None, *, kernel: str | None = None) -> list[StepRun]:
    """Execute the committed notebooks in smoke mode, in order, and store them with clean outputs.

    Runs in a temporary output folder (``OVMER_OUTPUT``), so stored paths read
    ``<output>/smoke/...`` and nothing real is overwritten.
    """
    folder = notebooks_dir()
    chosen = list(names) if names else [n for n in NOTEBOOK_ORDER if (folder / f"{n}.ipynb").is_file()]
    unknown = [n for n in chosen if n not in NOTEBOOK_ORDER]
    if unknown:
        raise unknown_name("notebook", unknown[0], NOTEBOOK_ORDER)
    runs = []
    with tempfile.TemporaryDirectory(prefix="ovmer-refresh-") as tmp, kernel_environment({"OVMER_OUTPUT": tmp}):
        for name in [n for n in NOTEBOOK_ORDER if n in chosen]:
            source = folder / f"{name}.ipynb"
            executed = Path(tmp) / "executed" / f"{name}.ipynb"
            started = time.perf_counter()
            execute_notebook(source, executed, {}, kernel=kernel)
            seconds = time.perf_counter() - started
            notebook = json.loads(executed.read_text(encoding="utf-8"))
            write_notebook(clean_notebook(notebook), source)
            runs.append(StepRun(name, "ran", seconds, source, read_records(source)))
    return runs
