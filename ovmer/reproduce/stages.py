"""What the stage notebooks share: validated stage plans, one summary row per store file, the finish.

``02_merge_clues`` and ``03_extract_labels`` plan with :func:`plan_stage` and
run with :mod:`ovmer.reproduce.stage_merge` / :mod:`ovmer.reproduce.stage_extract`;
``01_describe`` with :mod:`ovmer.reproduce.stage_describe`. Every stage returns a
summary frame (one row per store file it wrote: what was done, skipped and
failed), and :func:`finish_stage` records those files as the notebook's outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ovmer.data.released import RELEASED_BASELINES
from ovmer.engines import engine_name
from ovmer.errors import OvmerError
from ovmer.reproduce.layout import display_path, reproduce_layout, resolve_display_path
from ovmer.reproduce.record import record_outputs
from ovmer.reproduce.selection import default_baselines, parse_settings
from ovmer.settings import ALL_SETTINGS, Setting
from ovmer.store import store_path
from ovmer.store.authors_npz import description_stage

SUMMARY_COLUMNS = ("baseline", "setting", "stage", "done", "skipped", "failed", "store file")


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
    engine: str = "local"  # where the model runs: local, or ray (ovmer.engines)

    def __repr__(self) -> str:
        return (
            f"{self.stage}: {len(self.baselines)} baseline(s) {', '.join(self.baselines) or '-'}; "
            f"settings {', '.join(s.short for s in self.settings)}; backend {self.backend}"
            f"{f' ({self.model})' if self.model else ''}{engine_note(self.engine)}; "
            f"{'all samples' if self.limit is None else f'first {self.limit} samples'}; "
            f"store {display_path(self.store_root / 'store')}"
        )


def sample_limit(limit: int, where: str) -> int | None:
    """A notebook's ``limit`` parameter: 0 means all samples (None), a negative one is an error."""
    if limit < 0:
        raise OvmerError(f"{where}limit must be 0 (all samples) or positive, got {limit}")
    return limit or None


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
    engine: str = "local",
) -> StagePlan:
    """Validate a stage notebook's parameters. ``baselines`` empty: the released ones (smoke: two).

    ``limit`` 0 means all samples (scoring needs every sample); ``output`` empty
    means the default output folder (smoke: its ``smoke`` subfolder).
    """
    if stage not in ("describe", "merge", "extract"):
        raise OvmerError(f"unknown stage {stage!r}")
    if not backend:
        raise OvmerError(f"{stage}: choose a backend")
    return StagePlan(
        stage=stage,
        baselines=tuple(baselines) or default_baselines(smoke),
        settings=(Setting.NOSUBTITLE_ADDSUB,) if stage == "merge" else parse_settings(settings),
        backend=backend,
        model=model or None,
        store_root=reproduce_layout(smoke, output or None).root,
        limit=sample_limit(limit, f"{stage}: "),
        smoke=smoke,
        engine=engine_name(engine),
    )


def engine_note(engine: str) -> str:
    """What a plan's summary line says about its engine (nothing for the default)."""
    return "" if engine == "local" else f" on {engine}"


def has_descriptions(baseline: str, setting: Setting, root: Path) -> bool:
    """A released baseline always has descriptions; one of the user's needs its store file."""
    return baseline in RELEASED_BASELINES or store_path(description_stage(setting), baseline, setting, root).is_file()


def summary_row(baseline: str, setting: Setting, stage: str, summary: object, path: Path) -> dict[str, object]:
    """One row of a stage's summary: a store file and what the run did to it."""
    return {
        "baseline": baseline,
        "setting": setting.short,
        "stage": stage,
        "done": getattr(summary, "done", 0),
        "skipped": getattr(summary, "skipped", 0),
        "failed": getattr(summary, "failed", 0),
        "store file": display_path(path),
    }


def summary_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).set_index(["baseline", "setting"])


def finish_stage(frame: pd.DataFrame, stage: str) -> list[str]:
    """Raise when any sample failed (naming the runs); else record the store files as the outputs."""
    failed = frame[frame["failed"] > 0]
    if len(failed):
        runs = ", ".join(f"{b}/{s} {row['stage']} ({row['failed']} failed)" for (b, s), row in failed.iterrows())
        raise OvmerError(f"{stage}: failed samples in {runs}; the store files hold their error records")
    if frame.empty:
        raise OvmerError(f"{stage}: nothing to run (no baseline had input descriptions)")
    return record_outputs([resolve_display_path(p) for p in frame["store file"]])
