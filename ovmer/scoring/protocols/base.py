"""What a scoring protocol is: one aggregate of the emotion-wheel scores, as one publication reports it.

Every protocol reads the same per-sample, per-wheel precision and recall (the
exact set-level scores of :mod:`ovmer.scoring.metrics`) and differs only in how
it aggregates them. A protocol is a frozen dataclass whose fields are its
options (``level``, ``onehot``); :meth:`ScoringProtocol.evaluate` turns one
:class:`ScoringTask` (one prediction file or mapping) into one
:class:`ProtocolScore`: a headline number in 0..1 and its named parts.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ovmer.scoring.metrics import DEFAULT_PARSER, ScoreReport, score_predictions
from ovmer.scoring.resources import WheelResources, load_resources


class ScoringTask:
    """One set of predictions to score: raw values (parsed by ``parser``), the truth and where they came from.

    ``report`` (the 12 metrics of the paper) is computed once, on first use, and
    shared by every protocol that aggregates it.
    """

    def __init__(
        self,
        predictions: Mapping[str, Any],
        ground_truth: Mapping[str, Any] | None = None,
        *,
        resources: WheelResources | None = None,
        parser: str = DEFAULT_PARSER,
        missing_as_empty: bool = False,
        file: str | None = None,
        baseline: str | None = None,
        setting: str | None = None,
    ) -> None:
        self.predictions = predictions
        self.ground_truth = ground_truth
        self.resources = resources or load_resources()
        self.parser = parser
        self.missing_as_empty = missing_as_empty
        self.file = file
        self.baseline = baseline
        self.setting = setting
        self._report: ScoreReport | None = None

    @property
    def report(self) -> ScoreReport:
        if self._report is None:
            self._report = score_predictions(
                self.predictions,
                self.ground_truth,
                resources=self.resources,
                missing_as_empty=self.missing_as_empty,
                parser=self.parser,
                file=self.file,
                baseline=self.baseline,
                setting=self.setting,
            )
        return self._report


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class ProtocolScore:
    """One file under one protocol: the headline ``score`` and its ``parts`` (fractions, 0..1)."""

    protocol: str
    score: float
    parts: dict[str, float] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)  # the protocol's settings, e.g. {"level": 1}
    file: str | None = None
    baseline: str | None = None
    setting: str | None = None
    report: ScoreReport | None = None  # the 12-metric report, when the protocol aggregates it

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object: file, baseline, setting, protocol, its options, score, then the parts."""
        return {
            "file": self.file,
            "baseline": self.baseline,
            "setting": self.setting,
            "protocol": self.protocol,
            **self.options,
            "score": _json_number(self.score),
            **{name: _json_number(value) for name, value in self.parts.items()},
        }

    def values(self) -> dict[str, float]:
        """``score`` and every part, in order."""
        return {"score": self.score, **self.parts}


@dataclass(frozen=True)
class ScoringProtocol(ABC):
    """An aggregate of the wheel scores; subclasses are frozen dataclasses whose fields are the options."""

    name: ClassVar[str]
    headline: ClassVar[str]  # what ``score`` is, in a few words (table headers, --help)
    uses_ground_truth: ClassVar[bool] = True  # False: the protocol brings its own truth (hit-rate)

    @abstractmethod
    def evaluate(self, task: ScoringTask) -> ProtocolScore:
        """Score one task."""

    def options(self) -> dict[str, Any]:
        """The protocol's option values (its dataclass fields), for JSON and captions."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def result(self, task: ScoringTask, score: float, parts: Mapping[str, float] | None = None,
               report: ScoreReport | None = None) -> ProtocolScore:
        """A :class:`ProtocolScore` of ``task`` with this protocol's name and options."""
        return ProtocolScore(
            protocol=self.name,
            score=float(score),
            parts={k: float(v) for k, v in (parts or {}).items()},
            options=self.options(),
            file=task.file,
            baseline=task.baseline,
            setting=task.setting,
            report=report,
        )

    def to_json(self, result: ProtocolScore) -> dict[str, Any]:
        return result.to_dict()

    def format_results(self, results: Sequence[ProtocolScore]) -> str:
        """A plain-text table: baseline, setting, score and parts (× 100), file."""
        options = ", ".join(f"{k} {v}" for k, v in self.options().items())
        parts = list(results[0].parts) if results else []
        header = ["baseline", "setting", "score", *parts, "file"]
        rows = [
            [r.baseline or "-", r.setting or "-"]
            + [f"{100 * v:.2f}" if not math.isnan(v) else "-" for v in r.values().values()]
            + [r.file or "-"]
            for r in results
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = []
        for row in [header, *rows]:
            cells = [c.ljust(w) if i in (0, 1, len(header) - 1) else c.rjust(w)
                     for i, (c, w) in enumerate(zip(row, widths, strict=True))]
            lines.append("  ".join(cells).rstrip())
        about = f"{self.name}{f' ({options})' if options else ''}: score = {self.headline}"
        return "\n".join(lines) + f"\n({about}; × 100)"
