"""The spread of every metric across repeated sampled extraction runs, beside the sample bootstrap.

The paper notes that extracting the labels again moves its numbers. ``ovmer
extract --repeats K --seed S`` writes K sampled runs of one baseline and setting,
each in its own store file ``<setting>.seed-<s>.jsonl``. Scored together, they
give two different uncertainties side by side:

- across runs: mean, standard deviation (ddof 1) and range of each metric's F,
  i.e. how much one re-extraction moves the number;
- across samples: the percentile bootstrap interval of each run (as in
  :func:`~ovmer.scoring.stats.bootstrap_intervals`), averaged over the runs,
  i.e. how much another draw of OV-MERD's samples would move it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ovmer.errors import OvmerError
from ovmer.scoring.files import read_raw_predictions
from ovmer.scoring.metrics import DEFAULT_PARSER, ScoreReport
from ovmer.scoring.resources import WheelResources
from ovmer.scoring.stats import SCORE_NAMES, bootstrap_intervals
from ovmer.store.jsonl import LABEL_STAGE, seed_of_path

BOOTSTRAP_REPLICATES = 1000


@dataclass(frozen=True)
class MetricSpread:
    """One metric over the runs (fractions): across-run mean, std and range; mean bootstrap interval."""

    mean: float
    std: float
    low: float
    high: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, float]:
        return {name: _json_float(getattr(self, name)) for name in ("mean", "std", "low", "high", "ci_low", "ci_high")}


@dataclass(frozen=True)
class RepeatSpread:
    """The repeated runs of one baseline and setting, and every metric's spread over them."""

    baseline: str | None
    setting: str | None
    seeds: tuple[int, ...]
    files: tuple[str, ...]
    metrics: dict[str, MetricSpread]  # SCORE_NAMES: every metric, then M-avg

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object (``kind: repeats``, fractions)."""
        return {
            "kind": "repeats",
            "baseline": self.baseline,
            "setting": self.setting,
            "runs": len(self.seeds),
            "seeds": list(self.seeds),
            "files": list(self.files),
            "metrics": {name: spread.to_dict() for name, spread in self.metrics.items()},
        }


def _json_float(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def repeat_groups(reports: Sequence[ScoreReport]) -> dict[tuple[str | None, str | None], list[ScoreReport]]:
    """Reports of repeated runs (a seed in the file name), by baseline and setting; two runs at least."""
    groups: dict[tuple[str | None, str | None], list[ScoreReport]] = {}
    for report in reports:
        if report.file is not None and seed_of_path(report.file) is not None:
            groups.setdefault((report.baseline, report.setting), []).append(report)
    return {key: sorted(runs, key=lambda r: seed_of_path(r.file or "") or 0)
            for key, runs in groups.items() if len(runs) > 1}


def repeat_spreads(
    reports: Sequence[ScoreReport],
    ground_truth: Mapping[str, Any] | None = None,
    *,
    parser: str = DEFAULT_PARSER,
    resources: WheelResources | None = None,
    missing_as_empty: bool = False,
    n_boot: int = BOOTSTRAP_REPLICATES,
    seed: int = 0,
) -> list[RepeatSpread]:
    """The spread over each group of repeated runs among ``reports`` (none: an empty list)."""
    spreads = []
    for (baseline, setting), runs in repeat_groups(reports).items():
        values = np.array([[r.f_row(1.0)[name] for name in SCORE_NAMES] for r in runs])
        intervals = np.array([
            [bootstrap_intervals(read_raw_predictions(r.file), ground_truth, n_boot=n_boot, seed=seed,
                                 resources=resources, missing_as_empty=missing_as_empty, parser=parser)[name]
             for name in SCORE_NAMES]
            for r in runs if r.file is not None
        ])  # (runs, metrics, 2)
        metrics = {
            name: MetricSpread(
                mean=float(values[:, i].mean()),
                std=float(values[:, i].std(ddof=1)),
                low=float(values[:, i].min()),
                high=float(values[:, i].max()),
                ci_low=float(np.nanmean(intervals[:, i, 0])),
                ci_high=float(np.nanmean(intervals[:, i, 1])),
            )
            for i, name in enumerate(SCORE_NAMES)
        }
        spreads.append(RepeatSpread(baseline, setting, tuple(seed_of_path(r.file or "") or 0 for r in runs),
                                    tuple(r.file or "" for r in runs), metrics))
    return spreads


def format_spreads(spreads: Sequence[RepeatSpread]) -> str:
    """One table per group: metric rows, across-run mean ± std and range, the bootstrap interval."""
    blocks = []
    for spread in spreads:
        header = ["metric", "mean", "std", "min", "max", "bootstrap 95%"]
        rows = [
            [name.replace("M3-", ""), f"{m.mean * 100:.2f}", f"{m.std * 100:.2f}", f"{m.low * 100:.2f}",
             f"{m.high * 100:.2f}", f"{m.ci_low * 100:.2f}-{m.ci_high * 100:.2f}"]
            for name, m in spread.metrics.items()
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = [f"{spread.baseline or '-'}/{spread.setting or '-'}: {len(spread.seeds)} extraction runs "
                 f"(seeds {', '.join(map(str, spread.seeds))})"]
        for row in [header, *rows]:
            lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n(F x 100 across runs; bootstrap: the sample interval, mean over runs)"


def repeat_files(store_root: str | os.PathLike[str]) -> list[Path]:
    """The repeated extraction runs' store files below ``<store_root>/store/extract``."""
    folder = Path(store_root) / "store" / LABEL_STAGE
    return sorted(p for p in folder.glob("*/*.jsonl") if seed_of_path(p) is not None)


def spread_frame(spreads: Sequence[RepeatSpread]) -> Any:
    """A pandas frame of the spreads: one row per baseline, setting and metric (F x 100)."""
    import pandas as pd

    if not spreads:
        raise OvmerError("no repeated extraction runs (ovmer extract --repeats K) to tabulate")
    rows = []
    for spread in spreads:
        for name, m in spread.metrics.items():
            rows.append({
                "baseline": spread.baseline, "setting": spread.setting, "metric": name, "runs": len(spread.seeds),
                "mean": m.mean * 100, "std": m.std * 100, "min": m.low * 100, "max": m.high * 100,
                "bootstrap low": m.ci_low * 100, "bootstrap high": m.ci_high * 100,
            })
    return pd.DataFrame(rows)
