"""``ovmer-paper`` (the default): the OV-MER paper's 12 set-level metrics and their mean, M-avg.

Its ``--json`` object and its text table are the ones ``ovmer score`` always printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ovmer.scoring.mapping import METRIC_NAMES
from ovmer.scoring.metrics import M_AVG, ScoreReport
from ovmer.scoring.protocols.base import ProtocolScore, ScoringProtocol, ScoringTask


def format_table(reports: Sequence[ScoreReport]) -> str:
    """The 12 F values and M-avg (× 100) of each report, one row per file."""
    short = [name.replace("M3-", "") for name in METRIC_NAMES] + [M_AVG]
    header = ["baseline", "setting", "n"] + short + ["file"]
    rows = []
    for report in reports:
        values = report.f_row(100.0)
        rows.append(
            [report.baseline or "-", report.setting or "-", str(report.n_scored)]
            + [f"{values[name]:.2f}" for name in (*METRIC_NAMES, M_AVG)]
            + [report.file or "-"]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i in (0, 1, len(header) - 1) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n(F × 100; n: samples scored)"


@dataclass(frozen=True)
class OvmerPaper(ScoringProtocol):
    name: ClassVar[str] = "ovmer-paper"
    headline: ClassVar[str] = "M-avg, the mean F of M1, M2 and M3-W1..W5-L1/L2 (the OV-MER paper)"

    def evaluate(self, task: ScoringTask) -> ProtocolScore:
        report = task.report
        return self.result(task, report.m_avg, {name: prf.f for name, prf in report.metrics.items()}, report=report)

    def to_json(self, result: ProtocolScore) -> dict[str, Any]:
        assert result.report is not None
        return result.report.to_dict()

    def format_results(self, results: Sequence[ProtocolScore]) -> str:
        return format_table([r.report for r in results if r.report is not None])
