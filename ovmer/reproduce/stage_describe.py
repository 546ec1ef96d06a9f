"""``01_describe``: one baseline's descriptions into the store, by replaying the released ones or running it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ovmer.describe.runner import run_describe
from ovmer.engines import engine_name, resolve_engine
from ovmer.errors import OvmerError
from ovmer.reproduce.layout import display_path, reproduce_layout
from ovmer.reproduce.selection import SMOKE_LIMIT, parse_settings
from ovmer.reproduce.stages import engine_note, sample_limit, summary_frame, summary_row
from ovmer.settings import Setting
from ovmer.store import store_path
from ovmer.store.authors_npz import import_released

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
    engine: str = "local"  # where the model runs (backend "run"): local, or ray (ovmer.engines)

    def __repr__(self) -> str:
        how = ("import the released descriptions" if self.backend == "replay"
               else f"run on {display_path(self.data_dir or '')} ({self.device}){engine_note(self.engine)}")
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
    engine: str = "local",
) -> DescribePlan:
    """Validate 01_describe's parameters. S2 is not described: clue merging (02) makes it from S0."""
    if backend not in DESCRIBE_BACKENDS:
        raise OvmerError(f"backend must be one of {', '.join(DESCRIBE_BACKENDS)}, got {backend!r}")
    chosen = parse_settings(settings)
    if Setting.NOSUBTITLE_ADDSUB in chosen:
        raise OvmerError("S2 (nosubtitle-addsub) is made by clue merging (02_merge_clues), not described")
    folder = Path(data_dir).expanduser() if data_dir else None
    if backend == "run" and folder is None:
        raise OvmerError("backend 'run' needs data_dir: a MER2025-layout folder with the videos/audio")
    return DescribePlan(
        baseline=baseline,
        settings=chosen,
        backend=backend,
        data_dir=folder,
        model_path=model_path or None,
        device=device,
        external_cmd=external_cmd or None,
        limit=sample_limit(limit, "") or (SMOKE_LIMIT if smoke else None),
        store_root=reproduce_layout(smoke, output or None).root,
        engine=engine_name(engine),
    )


def describe_baseline(plan: DescribePlan) -> pd.DataFrame:
    """Descriptions of one baseline into the store, one summary row per store file written.

    ``replay`` imports the authors' released outputs of each setting (all samples;
    ``limit`` applies to ``run``) with :func:`ovmer.store.authors_npz.import_released`,
    which brings the released label lists too (stage ``extract``): those files are
    rows of the summary as well, so the notebook records them as outputs. ``run``
    runs the model through :func:`ovmer.describe.runner.run_describe`.
    """
    rows = []
    with resolve_engine(plan.engine).session() as engine:
        for setting in plan.settings:
            if plan.backend == "replay":
                for imported in import_released([plan.baseline], [setting], root=plan.store_root):
                    rows.append(summary_row(plan.baseline, setting, imported.stage, imported.summary,
                                            imported.store))
            else:
                summary = run_describe(plan.baseline, setting, plan.data_dir, model_path=plan.model_path,
                                       device=plan.device, limit=plan.limit, store_root=plan.store_root,
                                       external_cmd=plan.external_cmd, progress=False, engine=engine)
                path = store_path("describe", plan.baseline, setting, plan.store_root)
                rows.append(summary_row(plan.baseline, setting, "describe", summary, path))
    return summary_frame(rows)
