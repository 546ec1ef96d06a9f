"""``mer2025-track2``: the MER2025 Track 2 (MER-FG) score, the mean of the level-1 and level-2 AffectGPT F.

``MER2025/MER2025_Track23/evaluation.py`` in zeroQiaoba/MERTools prints the
level-1 F, the level-2 F and their mean, the challenge's ranking number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ovmer.scoring.protocols.affectgpt import wheel_average
from ovmer.scoring.protocols.base import ProtocolScore, ScoringProtocol, ScoringTask


@dataclass(frozen=True)
class MER2025Track2(ScoringProtocol):
    name: ClassVar[str] = "mer2025-track2"
    headline: ClassVar[str] = "mean of the level-1 and level-2 AffectGPT F (MER2025 Track 2)"

    def evaluate(self, task: ScoringTask) -> ProtocolScore:
        level1 = wheel_average(task.report, 1)[0]
        level2 = wheel_average(task.report, 2)[0]
        return self.result(task, (level1 + level2) / 2, {"level1": level1, "level2": level2}, report=task.report)
