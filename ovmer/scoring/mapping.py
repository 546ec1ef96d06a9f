"""Label -> metric-space mapping rules (M1, M2, M3-Wk-Lj), one label at a time.

These functions state the rules; :func:`compile_label_table` runs them once over
the whole vocabulary so that scoring is a dictionary lookup per label.

- **M1**: a label with no word-form entry is dropped; otherwise it becomes the
  alphabetically first of the names it maps to.
- **M2**: the M1 name, then the alphabetically first wheel word among its synonym targets.
- **M3-Wk-Lj**: every wheel word the label reaches (each of its names, then each
  wheel word of each name), in alphabetical order; the first one present in wheel
  k decides: its level-1 label (L1) or level-2 label (L2; a level-1 word takes the
  alphabetically first of its level-2 children). None present: dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ovmer.data.wheels import N_WHEELS

METRIC_NAMES: tuple[str, ...] = ("M1", "M2") + tuple(
    f"M3-W{wheel}-L{level}" for wheel in range(1, N_WHEELS + 1) for level in (1, 2)
)


@dataclass(frozen=True)
class WheelLevels:
    """One emotion wheel: each of its words -> its level-1 and level-2 cluster label."""

    level1: Mapping[str, str]
    level2: Mapping[str, str]


def map_m1(label: str, names_of: Mapping[str, Sequence[str]]) -> str | None:
    names = names_of.get(label)
    return min(names) if names else None


def map_m2(
    label: str, names_of: Mapping[str, Sequence[str]], wheel_words_of: Mapping[str, Sequence[str]]
) -> str | None:
    name = map_m1(label, names_of)
    if name is None:
        return None
    words = wheel_words_of.get(name)
    return min(words) if words else None


def reachable_wheel_words(
    label: str, names_of: Mapping[str, Sequence[str]], wheel_words_of: Mapping[str, Sequence[str]]
) -> list[str]:
    """Every wheel word a label reaches through its names, alphabetically (duplicates kept, harmless)."""
    return sorted(word for name in names_of.get(label, ()) for word in wheel_words_of.get(name, ()))


def first_in_wheel(reachable: Sequence[str], level_map: Mapping[str, str]) -> str | None:
    """The wheel word that decides an M3 value: the first of ``reachable`` (alphabetical) the wheel has."""
    return next((word for word in reachable if word in level_map), None)


def map_all(
    label: str,
    names_of: Mapping[str, Sequence[str]],
    wheel_words_of: Mapping[str, Sequence[str]],
    wheels: Sequence[WheelLevels],
) -> tuple[str | None, ...]:
    """The label's value under each of the 12 metrics, in ``METRIC_NAMES`` order (None: dropped)."""
    out: list[str | None] = [map_m1(label, names_of), map_m2(label, names_of, wheel_words_of)]
    reachable = reachable_wheel_words(label, names_of, wheel_words_of)
    for wheel in wheels:
        for level_map in (wheel.level1, wheel.level2):
            word = first_in_wheel(reachable, level_map)
            out.append(None if word is None else level_map[word])
    return tuple(out)


@dataclass(frozen=True)
class LabelTable:
    """The compiled fast path: label -> 12 integer ids (-1: dropped) and the id -> value lists."""

    labels: tuple[str, ...]  # row order
    ids: np.ndarray  # (labels, 12) int64, read-only: one id per metric, -1 when dropped
    values: tuple[tuple[str, ...], ...]  # per metric: id -> mapped label

    def __post_init__(self) -> None:
        self.ids.flags.writeable = False


def compile_label_table(
    names_of: Mapping[str, Sequence[str]],
    wheel_words_of: Mapping[str, Sequence[str]],
    wheels: Sequence[WheelLevels],
) -> LabelTable:
    """Map every vocabulary label (every word form) under all 12 metrics once."""
    labels = tuple(sorted(names_of))
    mapped = [map_all(label, names_of, wheel_words_of, wheels) for label in labels]
    values = tuple(
        tuple(sorted({row[m] for row in mapped if row[m] is not None})) for m in range(len(METRIC_NAMES))
    )
    index = [{value: i for i, value in enumerate(v)} for v in values]
    ids = np.array(
        [[-1 if value is None else index[m][value] for m, value in enumerate(row)] for row in mapped],
        dtype=np.int64,
    ).reshape(len(labels), len(values))
    return LabelTable(labels=labels, ids=ids, values=values)
