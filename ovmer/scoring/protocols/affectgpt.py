"""``affectgpt``: the EW score of AffectGPT / MER-UniBench (Lian et al., 2025).

Their ``wheel_metric_calculation`` (``my_affectgpt/evaluation/wheel.py`` in
zeroQiaoba/AffectGPT) scores each of the five wheels at one level, F from that
wheel's mean precision and recall, and reports the means over the wheels of F,
of precision and of recall. The per-wheel precision and recall are exactly the
paper's M3-Wk-L1 / M3-Wk-L2 (same mapping, same skipping of samples whose mapped
truth is empty), so this protocol aggregates the paper's report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ovmer.data.wheels import N_WHEELS
from ovmer.errors import OvmerError
from ovmer.scoring.metrics import ScoreReport
from ovmer.scoring.protocols.base import ProtocolScore, ScoringProtocol, ScoringTask

LEVELS = (1, 2)


def wheel_average(report: ScoreReport, level: int) -> tuple[float, float, float]:
    """(F, precision, recall): each the mean over the five wheels at ``level`` (1 or 2)."""
    if level not in LEVELS:
        raise OvmerError(f"wheel level must be 1 or 2, got {level!r}")
    wheels = [report.metrics[f"M3-W{w}-L{level}"] for w in range(1, N_WHEELS + 1)]
    return (
        float(np.mean([m.f for m in wheels])),
        float(np.mean([m.precision for m in wheels])),
        float(np.mean([m.recall for m in wheels])),
    )


@dataclass(frozen=True)
class AffectGPT(ScoringProtocol):
    level: int = 1

    name: ClassVar[str] = "affectgpt"
    headline: ClassVar[str] = "mean over the five wheels of F at one level (AffectGPT / MER-UniBench)"

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise OvmerError(f"--level must be 1 or 2 for the affectgpt protocol, got {self.level!r}")

    def evaluate(self, task: ScoringTask) -> ProtocolScore:
        f, precision, recall = wheel_average(task.report, self.level)
        return self.result(task, f, {"precision": precision, "recall": recall}, report=task.report)
