"""The pipeline stages as the stage notebooks run them: over several baselines and settings.

Each function validates its notebook's parameters, loops over baselines and
settings, calls the stage's public function (``run_describe``, ``run_merge``,
``run_extract``) with progress bars off, and returns one summary row per run so
the notebook shows what was done, skipped and failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ovmer.errors import OvmerError
from ovmer.reproduce.layout import resolve_display_path
from ovmer.settings import ALL_SETTINGS, Setting
from ovmer.store import store_path

SMOKE_BASELINES: tuple[str, ...] = ("Chat-UniVi", "SALMONN")
SMOKE_LIMIT = 4  # samples per run of a describe model in smoke mode (merge/extract take all: scoring needs them)


@dataclass(frozen=True)
class StagePlan:
    """What a stage notebook will run: validated parameters, derived values filled in."""

    stage: str
    baselines: tuple[str, ...]
    settings: tuple[Setting, ...]
    backend: str
    model: str | None
    store_root: Path
    limit: int | None
    smoke: bool

    def __repr__(self) -> str:
        from ovmer.reproduce.layout import display_path

        return (
            f"{self.stage}: {len(self.baselines)} baseline(s) {', '.join(self.baselines) or '-'}; "
            f"settings {', '.join(s.short for s in self.settings)}; backend {self.backend}"
            f"{f' ({self.model})' if self.model else ''}; "
            f"{'all samples' if self.limit is None else f'first {self.limit} samples'}; "
            f"store {display_path(self.store_root / 'store')}"
        )


def parse_settings(values: Sequence[str | Setting]) -> tuple[Setting, ...]:
    try:
        settings = tuple(dict.fromkeys(Setting.parse(v) for v in values))
    except ValueError as exc:
        raise OvmerError(str(exc)) from None
    if not settings:
        raise OvmerError("no settings chosen; use some of S0, S1, S2")
    return settings


def plan_stage(
    stage: str,
    *,
    smoke: bool,
    baselines: Sequence[str],
    settings: Sequence[str | Setting] = tuple(s.short for s in ALL_SETTINGS),
    backend: str,
    model: str = "",
    limit: int = 0,
    output: str = "",
) -> StagePlan:
    """Validate a stage notebook's parameters. ``baselines`` empty: the released ones (smoke: two).

    ``limit`` 0 means all samples (scoring needs every sample); ``output`` empty
    means the default output folder (smoke: its ``smoke`` subfolder).
    """
    from ovmer.data.released import RELEASED_BASELINES
    from ovmer.reproduce.layout import reproduce_layout

    if stage not in ("describe", "merge", "extract"):
        raise OvmerError(f"unknown stage {stage!r}")
    if not backend:
        raise OvmerError(f"{stage}: choose a backend")
    if limit < 0:
        raise OvmerError(f"{stage}: limit must be 0 (all samples) or positive, got {limit}")
    chosen = tuple(baselines) or (SMOKE_BASELINES if smoke else RELEASED_BASELINES)
    wanted = (Setting.NOSUBTITLE_ADDSUB,) if stage == "merge" else parse_settings(settings)
    return StagePlan(
        stage=stage,
        baselines=chosen,
        settings=wanted,
        backend=backend,
        model=model or None,
        store_root=reproduce_layout(smoke, output or None).root,
        limit=limit or None,
        smoke=smoke,
    )


def _summary_row(baseline: str, setting: Setting, summary: object, path: Path) -> dict[str, object]:
    from ovmer.reproduce.layout import display_path

    return {
        "baseline": baseline,
        "setting": setting.short,
        "done": getattr(summary, "done", 0),
        "skipped": getattr(summary, "skipped", 0),
        "failed": getattr(summary, "failed", 0),
        "store file": display_path(path),
    }


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["baseline", "setting", "done", "skipped", "failed", "store file"])
    return frame.set_index(["baseline", "setting"])


def _stage_has_input(stage: str, baseline: str, setting: Setting, root: Path) -> bool:
    """A released baseline always has input; one of the user's needs its store file."""
    from ovmer.data.released import RELEASED_BASELINES

    if baseline in RELEASED_BASELINES:
        return True
    source_stage = "merge" if stage == "extract" and setting is Setting.NOSUBTITLE_ADDSUB else "describe"
    return store_path(source_stage, baseline, setting, root).is_file()


def merge_clues(plan: StagePlan) -> pd.DataFrame:
    """Clue merging (S2) for every planned baseline; one summary row per baseline."""
    from ovmer.merge import run_merge

    rows = []
    for baseline in plan.baselines:
        if not _stage_has_input("merge", baseline, Setting.NOSUBTITLE, plan.store_root):
            continue
        summary = run_merge(baseline, backend=plan.backend, model=plan.model, store_root=plan.store_root,
                            limit=plan.limit, progress=False)
        rows.append(_summary_row(baseline, Setting.NOSUBTITLE_ADDSUB, summary,
                                 store_path("merge", baseline, Setting.NOSUBTITLE_ADDSUB, plan.store_root)))
    return _frame(rows)


def extract_labels(plan: StagePlan) -> pd.DataFrame:
    """Label extraction for every planned baseline and setting that has descriptions."""
    from ovmer.extract import run_extract

    rows = []
    for baseline in plan.baselines:
        for setting in plan.settings:
            if not _stage_has_input("extract", baseline, setting, plan.store_root):
                continue
            summary = run_extract(baseline, setting, backend=plan.backend, model=plan.model,
                                  store_root=plan.store_root, limit=plan.limit, progress=False)
            rows.append(_summary_row(baseline, setting, summary,
                                     store_path("extract", baseline, setting, plan.store_root)))
    return _frame(rows)


def finish_stage(frame: pd.DataFrame, stage: str) -> list[str]:
    """Raise when any sample failed (naming the runs); else record the store files as the outputs."""
    from ovmer.reproduce.record import record_outputs

    failed = frame[frame["failed"] > 0]
    if len(failed):
        runs = ", ".join(f"{b}/{s} ({n} failed)" for (b, s), n in failed["failed"].items())
        raise OvmerError(f"{stage}: failed samples in {runs}; the store files hold their error records")
    if frame.empty:
        raise OvmerError(f"{stage}: nothing to run (no baseline had input descriptions)")
    return record_outputs([resolve_display_path(p) for p in frame["store file"]])


DESCRIBE_BACKENDS = ("replay", "run")


@dataclass(frozen=True)
class DescribePlan:
    """What 01_describe runs: one baseline over some settings, by replay or by running the model."""

    baseline: str
    settings: tuple[Setting, ...]
    backend: str  # "replay": import the released descriptions; "run": run the model on data_dir
    data_dir: Path | None
    model_path: str | None
    device: str
    external_cmd: str | None
    limit: int | None
    store_root: Path

    def __repr__(self) -> str:
        from ovmer.reproduce.layout import display_path

        how = ("import the released descriptions" if self.backend == "replay"
               else f"run on {display_path(self.data_dir or '')} ({self.device})")
        return (f"describe {self.baseline} in {', '.join(s.short for s in self.settings)}: {how}; "
                f"{'all samples' if self.limit is None or self.backend == 'replay' else f'first {self.limit} samples'}"
                f"; store {display_path(self.store_root / 'store')}")


def plan_describe(
    *,
    smoke: bool,
    baseline: str,
    settings: Sequence[str | Setting] = ("S0", "S1"),
    backend: str = "replay",
    data_dir: str = "",
    model_path: str = "",
    device: str = "cpu",
    external_cmd: str = "",
    limit: int = 0,
    output: str = "",
) -> DescribePlan:
    """Validate 01_describe's parameters. S2 is not described: clue merging (02) makes it from S0."""
    from ovmer.reproduce.layout import reproduce_layout

    if backend not in DESCRIBE_BACKENDS:
        raise OvmerError(f"backend must be one of {', '.join(DESCRIBE_BACKENDS)}, got {backend!r}")
    chosen = parse_settings(settings)
    if Setting.NOSUBTITLE_ADDSUB in chosen:
        raise OvmerError("S2 (nosubtitle-addsub) is made by clue merging (02_merge_clues), not described")
    folder = Path(data_dir).expanduser() if data_dir else None
    if backend == "run" and folder is None:
        raise OvmerError("backend 'run' needs data_dir: a MER2025-layout folder with the videos/audio")
    if limit < 0:
        raise OvmerError(f"limit must be 0 (all samples) or positive, got {limit}")
    return DescribePlan(
        baseline=baseline,
        settings=chosen,
        backend=backend,
        data_dir=folder,
        model_path=model_path or None,
        device=device,
        external_cmd=external_cmd or None,
        limit=limit or (SMOKE_LIMIT if smoke else None),
        store_root=reproduce_layout(smoke, output or None).root,
    )


def describe_baseline(plan: DescribePlan) -> pd.DataFrame:
    """Descriptions of one baseline into the store (stage ``describe``), one summary row per setting.

    ``replay`` imports the authors' released outputs of the setting (all samples;
    ``limit`` applies to ``run``) with :func:`ovmer.store.released.import_released`;
    ``run`` runs the model through :func:`ovmer.describe.runner.run_describe`.
    """
    rows = []
    for setting in plan.settings:
        path = store_path("describe", plan.baseline, setting, plan.store_root)
        if plan.backend == "replay":
            from ovmer.store.released import import_released

            imported = import_released([plan.baseline], [setting], root=plan.store_root)
            summary = next(f.summary for f in imported if f.stage == "describe")
        else:
            from ovmer.describe.runner import run_describe

            summary = run_describe(plan.baseline, setting, plan.data_dir, model_path=plan.model_path,
                                   device=plan.device, limit=plan.limit, store_root=plan.store_root,
                                   external_cmd=plan.external_cmd, progress=False)
        rows.append(_summary_row(plan.baseline, setting, summary, path))
    return _frame(rows)
