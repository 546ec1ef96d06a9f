"""Run the stage notebooks headlessly with papermill, in dependency order.

Each step is one notebook of ``notebooks/``. A step is skipped when a stamp
says it already ran with the same inputs: the notebook's cells, its
parameters, the ``ovmer`` source code, the asset manifest, the stamps of the
steps it depends on, and the content of the files it reads (store files).
Kernels run with progress bars disabled so no bar lands in a stored notebook.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovmer.errors import OvmerError
from ovmer.paths import project_root
from ovmer.reproduce.layout import ReproduceLayout, display_path, reproduce_layout, resolve_display_path
from ovmer.reproduce.record import read_records

# Environment of every notebook kernel: no progress bars in stored outputs,
# a non-interactive plotting backend, stable hashing.
KERNEL_ENV = {
    "TQDM_DISABLE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "MPLBACKEND": "Agg",
    "PYTHONHASHSEED": "0",
}
PREFERRED_KERNEL = "ovmer"
FALLBACK_KERNEL = "python3"


@dataclass(frozen=True)
class NotebookStep:
    name: str  # the notebook's file name without .ipynb
    needs: tuple[str, ...]  # steps that must run first when they are part of the run
    summary: str


PIPELINE: tuple[NotebookStep, ...] = (
    NotebookStep("01_describe", (), "MLLM descriptions into the store (GPU work; run on its own)"),
    NotebookStep("02_merge_clues", ("01_describe",), "S2: an LLM merges each S0 description with the subtitle"),
    NotebookStep("03_extract_labels", ("02_merge_clues",), "open-vocabulary labels from the descriptions"),
    NotebookStep("04_score", ("03_extract_labels",), "score every baseline x setting; write the scores cache"),
    NotebookStep("05_tables", ("04_score",), "tables 1-5 as CSV, Markdown and LaTeX"),
    NotebookStep("06_figures", ("04_score",), "figures as PNG and PDF"),
)
STEPS = {step.name: step for step in PIPELINE}


@dataclass(frozen=True)
class StepPlan:
    step: NotebookStep
    parameters: dict[str, Any]
    inputs: tuple[Path, ...] = ()  # files whose content the step reads (hashed)


@dataclass
class StepRun:
    name: str
    status: str  # "ran" or "skipped"
    seconds: float
    notebook: Path
    records: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunSummary:
    layout: ReproduceLayout
    runs: list[StepRun]

    def timings(self) -> str:
        width = max((len(r.name) for r in self.runs), default=4)
        lines = [f"  {r.name:<{width}}  {r.status:<7}  {r.seconds:6.1f} s" for r in self.runs]
        total = sum(r.seconds for r in self.runs)
        return "\n".join([*lines, f"  {'total':<{width}}  {'':<7}  {total:6.1f} s"])


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def kernel_name() -> str:
    """The ``ovmer`` kernel when installed (``make venv`` installs it), else ``python3``."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        available = KernelSpecManager().find_kernel_specs()
    except Exception:  # no Jupyter config readable: the default kernel still works
        return FALLBACK_KERNEL
    return PREFERRED_KERNEL if PREFERRED_KERNEL in available else FALLBACK_KERNEL


@contextlib.contextmanager
def kernel_environment(extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Set the kernel's environment variables for the duration of a run (kernels inherit it)."""
    wanted = {**KERNEL_ENV, **(extra or {})}
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_fingerprint() -> str:
    """sha256 over the ``ovmer`` package sources and data files (code changes invalidate results)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".tsv", ".txt", ".json", ".yaml", ".jinja"):
            if "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(_hash_file(path).encode())
    return digest.hexdigest()


def notebook_fingerprint(path: Path) -> str:
    """sha256 of a notebook's cell types, tags and sources: stored outputs do not count."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OvmerError(f"{path}: notebook not found") from None
    cells = [
        (cell.get("cell_type"), cell.get("metadata", {}).get("tags", []), "".join(cell.get("source", "")))
        for cell in notebook.get("cells", [])
    ]
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()


def step_key(plan: StepPlan, notebook: Path, upstream: Mapping[str, str], context: str) -> str:
    parts = {
        "notebook": notebook_fingerprint(notebook),
        "parameters": plan.parameters,
        "upstream": dict(sorted(upstream.items())),
        "inputs": {str(p): _hash_file(p) if p.is_file() else None for p in plan.inputs},
        "context": context,
    }
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _stamp_path(layout: ReproduceLayout, name: str) -> Path:
    return layout.stamps / f"{name}.json"


def _read_stamp(layout: ReproduceLayout, name: str) -> dict[str, Any] | None:
    path = _stamp_path(layout, name)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _is_up_to_date(stamp: Mapping[str, Any] | None, key: str, executed: Path) -> bool:
    if stamp is None or stamp.get("key") != key or not executed.is_file():
        return False
    return all(resolve_display_path(p).exists() for p in stamp.get("outputs", []))


def order_steps(names: Sequence[str]) -> list[str]:
    """``names`` in dependency order; unknown names raise with a did-you-mean hint."""
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], STEPS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise OvmerError(f"unknown notebook step {unknown[0]!r}{hint} (steps: {', '.join(STEPS)})")
    wanted = set(names)
    return [step.name for step in PIPELINE if step.name in wanted]


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """The parameters a notebook declares in its ``parameters`` cell (papermill's inspection)."""
    import papermill

    return {name: info for name, info in papermill.inspect_notebook(str(notebook)).items()}


def _check_parameters(plan: StepPlan, notebook: Path) -> None:
    declared = declared_parameters(notebook)
    unknown = sorted(set(plan.parameters) - set(declared))
    if unknown:
        raise OvmerError(
            f"{notebook}: does not declare parameter(s) {', '.join(unknown)} "
            f"(its parameters cell has: {', '.join(declared) or 'none'})"
        )


def execute_notebook(
    source: Path, target: Path, parameters: Mapping[str, Any], *, kernel: str | None = None
) -> Path:
    """Execute ``source`` into ``target`` with papermill (cwd = the notebook's folder)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    target.parent.mkdir(parents=True, exist_ok=True)
    # Local kernels talk over Unix sockets: no open TCP ports, and no warning about unencrypted TCP.
    config = Config({"KernelManager": {"transport": "ipc"}})
    try:
        with kernel_environment():
            papermill.execute_notebook(
                str(source),
                str(target),
                parameters=dict(parameters),
                kernel_name=kernel or kernel_name(),
                cwd=str(source.parent),
                progress_bar=False,
                log_output=False,
                config=config,
            )
    except PapermillExecutionError as exc:
        raise OvmerError(
            f"{source.name}: cell {exc.exec_count} failed with {exc.ename}: {exc.evalue} "
            f"(executed notebook kept at {display_path(target)})"
        ) from None
    return target


def run_steps(
    plans: Sequence[StepPlan],
    layout: ReproduceLayout,
    *,
    force: bool = False,
    source_dir: Path | None = None,
    kernel: str | None = None,
    on_step: Callable[[StepRun], None] | None = None,
) -> RunSummary:
    """Execute each planned step unless its stamp shows it up to date.

    The executed notebook goes to ``layout.notebooks``; its ``outputs`` record
    (the files it wrote) is kept in the stamp, and a step whose outputs went
    missing runs again.
    """
    layout.ensure()
    folder = source_dir or notebooks_dir()
    names = order_steps([plan.step.name for plan in plans])
    by_name = {plan.step.name: plan for plan in plans}
    context = hashlib.sha256(
        (source_fingerprint() + _hash_file(Path(__file__).resolve().parent.parent / "assets" / "manifest.tsv"))
        .encode()
    ).hexdigest()
    keys: dict[str, str] = {}
    runs: list[StepRun] = []
    for name in names:
        plan = by_name[name]
        source = folder / f"{name}.ipynb"
        executed = layout.notebooks / f"{name}.ipynb"
        _check_parameters(plan, source)
        upstream = {dep: keys[dep] for dep in plan.step.needs if dep in keys}
        key = step_key(plan, source, upstream, context)
        keys[name] = key
        stamp = _read_stamp(layout, name)
        if not force and _is_up_to_date(stamp, key, executed):
            run = StepRun(name, "skipped", 0.0, executed, read_records(executed))
        else:
            started = time.perf_counter()
            execute_notebook(source, executed, plan.parameters, kernel=kernel)
            seconds = time.perf_counter() - started
            records = read_records(executed)
            outputs = [str(p) for p in records.get("outputs", [])]
            _stamp_path(layout, name).write_text(
                json.dumps({"key": key, "outputs": outputs, "seconds": round(seconds, 3)}, indent=1),
                encoding="utf-8",
            )
            run = StepRun(name, "ran", seconds, executed, records)
        runs.append(run)
        if on_step is not None:
            on_step(run)
    return RunSummary(layout, runs)


# -- options of `ovmer reproduce` -> the steps to run and their parameters ------------------------


@dataclass(frozen=True)
class ReproduceOptions:
    smoke: bool = False
    extract_backend: str | None = None  # re-extract the released baselines' labels with this backend
    llm_model: str | None = None  # model id/folder for LLM backends (merge and extract)
    merge_backend: str | None = None  # LLM backend for clue merging of extra baselines
    extra_baselines: tuple[Path, ...] = ()  # folders of describe-stage outputs (one baseline each)
    force: bool = False
    figures_dir: Path | None = None  # default: <project>/figures (smoke: <output>/smoke/figures)


def plan_reproduction(options: ReproduceOptions) -> tuple[ReproduceLayout, list[StepPlan]]:
    """The steps of ``ovmer reproduce`` for ``options`` with each notebook's parameters."""
    from ovmer.reproduce.extra import stage_extra_baselines

    layout = reproduce_layout(options.smoke)
    if options.figures_dir:
        layout = dataclasses.replace(layout, figures=Path(options.figures_dir).expanduser())
    extra = stage_extra_baselines(options.extra_baselines, layout.root) if options.extra_baselines else []
    extra_names = [e.name for e in extra]
    plans: list[StepPlan] = []
    if extra and options.merge_backend:
        plans.append(
            StepPlan(
                STEPS["02_merge_clues"],
                {"smoke": options.smoke, "baselines": extra_names, "backend": options.merge_backend,
                 "model": options.llm_model or ""},
                tuple(p for e in extra for p in e.files),
            )
        )
    if options.extract_backend or extra:
        from ovmer.data.released import RELEASED_BASELINES
        from ovmer.reproduce.stages import SMOKE_BASELINES

        released = list(SMOKE_BASELINES if options.smoke else RELEASED_BASELINES)
        plans.append(
            StepPlan(
                STEPS["03_extract_labels"],
                {"smoke": options.smoke, "baselines": (released if options.extract_backend else []) + extra_names,
                 "backend": options.extract_backend or "cpu", "model": options.llm_model or ""},
                tuple(p for e in extra for p in e.files),
            )
        )
    labels = "store" if options.extract_backend else "released"
    plans.append(
        StepPlan(
            STEPS["04_score"],
            {"smoke": options.smoke, "labels": labels, "extra_baselines": extra_names},
        )
    )
    plans.append(StepPlan(STEPS["05_tables"], {"smoke": options.smoke}))
    # absolute: the kernel's working directory is notebooks/, not the caller's
    figures = {"figures_dir": str(layout.figures.resolve())} if options.figures_dir else {}
    plans.append(StepPlan(STEPS["06_figures"], {"smoke": options.smoke, **figures}))
    return layout, plans


def run_reproduction(
    options: ReproduceOptions, *, on_step: Callable[[StepRun], None] | None = None
) -> RunSummary:
    """Plan and run ``ovmer reproduce``: score, then tables and figures (plus re-extraction if asked)."""
    layout, plans = plan_reproduction(options)
    return run_steps(plans, layout, force=options.force, on_step=on_step)


# -- committed notebooks: executed in smoke mode, stored with clean, deterministic outputs ---------

NOTEBOOK_ORDER: tuple[str, ...] = (*(step.name for step in PIPELINE), "explore")
NO_STORED_OUTPUT_TAG = "no-stored-output"  # interactive cells (widgets) keep no output in the repo


def clean_notebook(notebook: dict[str, Any]) -> dict[str, Any]:
    """Strip what changes from run to run: timings, papermill metadata, injected cells, widget state.

    Execution counts are renumbered 1, 2, ... over the code cells that ran; cells
    tagged ``no-stored-output`` lose their outputs.
    """
    notebook = json.loads(json.dumps(notebook))  # a deep copy
    notebook["metadata"] = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": FALLBACK_KERNEL},
        "language_info": {"name": "python"},
    }
    cells = []
    count = 0
    for cell in notebook.get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            continue
        cell["metadata"] = {"tags": tags} if tags else {}
        if cell.get("cell_type") == "code":
            if NO_STORED_OUTPUT_TAG in tags:
                cell["outputs"], cell["execution_count"] = [], None
            else:
                count += 1
                cell["execution_count"] = count
                for output in cell.get("outputs", []):
                    if "execution_count" in output:
                        output["execution_count"] = count
        cells.append(cell)
    notebook["cells"] = cells
    return notebook


def write_notebook(notebook: dict[str, Any], path: Path) -> None:
    """Write in nbformat's own layout (1-space indent, sorted keys, trailing newline)."""
    import nbformat

    node = nbformat.from_dict(notebook)
    nbformat.validate(node)
    path.write_text(nbformat.writes(node) + "\n", encoding="utf-8")


def refresh_notebooks(names: Sequence[str] | None = None, *, kernel: str | None = None) -> list[StepRun]:
    """Execute the committed notebooks in smoke mode, in order, and store them with clean outputs.

    Runs in a temporary output folder (``OVMER_OUTPUT``), so stored paths read
    ``<output>/smoke/...`` and nothing real is overwritten.
    """
    import tempfile

    folder = notebooks_dir()
    chosen = list(names) if names else [n for n in NOTEBOOK_ORDER if (folder / f"{n}.ipynb").is_file()]
    unknown = [n for n in chosen if n not in NOTEBOOK_ORDER]
    if unknown:
        raise OvmerError(f"unknown notebook(s) {', '.join(unknown)}; notebooks: {', '.join(NOTEBOOK_ORDER)}")
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
