"""Scoring protocols: the aggregates of the emotion-wheel scores that the OV-MER family of papers report.

``PROTOCOLS`` holds one lazy line per protocol (``ovmer score --protocol NAME``);
each protocol is one module of this package. To add one, write a frozen
dataclass subclassing :class:`ScoringProtocol` (its fields are its options) and
register it::

    PROTOCOLS.register("my-protocol", "mypackage.protocols:MyProtocol", "what its score is")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ovmer.errors import OvmerError
from ovmer.registry import Registry
from ovmer.scoring.protocols.base import ProtocolScore, ScoringProtocol, ScoringTask

__all__ = [
    "DEFAULT_PROTOCOL",
    "PROTOCOLS",
    "ProtocolScore",
    "ScoringProtocol",
    "ScoringTask",
    "make_protocol",
    "score_with_protocol",
]

PROTOCOLS: Registry[type[ScoringProtocol]] = Registry("scoring protocol", ScoringProtocol, entry_points="ovmer.protocols")
for _name, _target, _help in (
    ("ovmer-paper", "ovmer.scoring.protocols.ovmer_paper:OvmerPaper", "the paper's M1, M2, M3-W1..W5-L1/L2 and M-avg (default)"),
    ("affectgpt", "ovmer.scoring.protocols.affectgpt:AffectGPT", "AffectGPT / MER-UniBench EW score: mean over the wheels of F, precision, recall (--level 1|2)"),
    ("mer2025-track2", "ovmer.scoring.protocols.mer2025_track2:MER2025Track2", "MER2025 Track 2: mean of the level-1 and level-2 AffectGPT F"),
    ("mer2026-track2", "ovmer.scoring.protocols.mer2026_track2:MER2026Track2", "MER2026 Track 2: the level-1 AffectGPT F"),
    ("hit-rate", "ovmer.scoring.protocols.hit_rate:HitRate", "AffectGPT hit rate and m-score against one-hot labels (--onehot FILE|mer2023)"),
):
    PROTOCOLS.register(_name, _target, _help)
DEFAULT_PROTOCOL = "ovmer-paper"


def make_protocol(name: str = DEFAULT_PROTOCOL, **options: Any) -> ScoringProtocol:
    """Protocol ``name`` with ``options`` (None values are left at the protocol's default).

    An option the protocol does not take is an error naming the protocols that take it.
    """
    cls = PROTOCOLS.get(name)
    given = {key: value for key, value in options.items() if value is not None}
    taken = {f.name for f in dataclasses.fields(cls)}
    for key in given:
        if key not in taken:
            takers = [n for n in PROTOCOLS.names() if key in {f.name for f in dataclasses.fields(PROTOCOLS.get(n))}]
            only = f"applies to {' and '.join(takers)} only" if takers else "is not an option of any protocol"
            raise OvmerError(f"--{key} {only}, not to {cls.name}")
    return cls(**given)


def score_with_protocol(
    predictions: Mapping[str, Any],
    protocol: str | ScoringProtocol = DEFAULT_PROTOCOL,
    ground_truth: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> ProtocolScore:
    """Score ``name -> labels`` under ``protocol`` (a name or an instance).

    ``kwargs``: :class:`ScoringTask`'s keywords (``resources``, ``parser``,
    ``missing_as_empty``, ``file``, ``baseline``, ``setting``) and, with a
    protocol name, its options (``level=2``, ``onehot="mer2023"``).
    """
    task_keys = {"resources", "parser", "missing_as_empty", "file", "baseline", "setting"}
    task_options = {k: v for k, v in kwargs.items() if k in task_keys}
    if isinstance(protocol, str):
        protocol = make_protocol(protocol, **{k: v for k, v in kwargs.items() if k not in task_keys})
    elif set(kwargs) - task_keys:
        raise OvmerError(f"options {sorted(set(kwargs) - task_keys)} need a protocol name, not an instance")
    return protocol.evaluate(ScoringTask(predictions, ground_truth, **task_options))
