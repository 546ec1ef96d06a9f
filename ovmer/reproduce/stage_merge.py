"""``02_merge_clues``: clue merging (S2) over several baselines."""

from __future__ import annotations

import pandas as pd

from ovmer.engines import resolve_engine
from ovmer.merge import run_merge
from ovmer.reproduce.stages import StagePlan, has_descriptions, summary_frame, summary_row
from ovmer.settings import Setting
from ovmer.store import store_path


def merge_clues(plan: StagePlan) -> pd.DataFrame:
    """Clue merging (S2) for every planned baseline with S0 descriptions; one summary row per baseline."""
    rows = []
    with resolve_engine(plan.engine).session() as engine:
        for baseline in plan.baselines:
            if not has_descriptions(baseline, Setting.NOSUBTITLE, plan.store_root):
                continue
            summary = run_merge(baseline, backend=plan.backend, model=plan.model, store_root=plan.store_root,
                                limit=plan.limit, progress=False, engine=engine)
            path = store_path("merge", baseline, Setting.NOSUBTITLE_ADDSUB, plan.store_root)
            rows.append(summary_row(baseline, Setting.NOSUBTITLE_ADDSUB, "merge", summary, path))
    return summary_frame(rows)
