"""``03_extract_labels``: open-vocabulary label extraction over several baselines and settings."""

from __future__ import annotations

import pandas as pd

from ovmer.engines import resolve_engine
from ovmer.extract import run_extract
from ovmer.reproduce.stages import StagePlan, has_descriptions, summary_frame, summary_row
from ovmer.store import store_path


def extract_labels(plan: StagePlan) -> pd.DataFrame:
    """Label extraction for every planned baseline and setting that has descriptions."""
    rows = []
    with resolve_engine(plan.engine).session() as engine:
        for baseline in plan.baselines:
            for setting in plan.settings:
                if not has_descriptions(baseline, setting, plan.store_root):
                    continue
                summary = run_extract(baseline, setting, backend=plan.backend, model=plan.model,
                                      store_root=plan.store_root, limit=plan.limit, progress=False, engine=engine)
                path = store_path("extract", baseline, setting, plan.store_root)
                rows.append(summary_row(baseline, setting, "extract", summary, path))
    return summary_frame(rows)
