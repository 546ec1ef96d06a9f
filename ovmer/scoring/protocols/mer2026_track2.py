"""``mer2026-track2``: the MER2026 Track 2 (MER-FG) score, the level-1 AffectGPT F.

``MER2026/MER2026_Track2/evaluation.py`` in zeroQiaoba/MERTools ranks by the
level-1 ``wheel_metric_calculation`` F alone (its README: "average F1-score
across all 5 emotion wheels").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ovmer.scoring.protocols.affectgpt import wheel_average
from ovmer.scoring.protocols.base import ProtocolScore, ScoringProtocol, ScoringTask


@dataclass(frozen=True)
class MER2026Track2(ScoringProtocol):
    name: ClassVar[str] = "mer2026-track2"
    headline: ClassVar[str] = "level-1 AffectGPT F (MER2026 Track 2)"

    def evaluate(self, task: ScoringTask) -> ProtocolScore:
        return self.result(task, wheel_average(task.report, 1)[0], report=task.report)
