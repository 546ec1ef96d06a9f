"""Which samples a describe (or ASR) run takes, and the store file its records go to.

A run takes the dataset's order, a ``limit``, then one shard's stripe: shard
``(i, n)`` takes every n-th sample starting at i (0-based), so shards are
disjoint, balanced and fixed by the data alone; each writes its own file
``store/describe/<baseline>/<setting>.shard-i-of-n.jsonl``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ovmer.data.mer2025 import MER2025Layout
from ovmer.errors import OvmerError
from ovmer.settings import Setting
from ovmer.store.jsonl import ResultsStore, store_path

STAGE = "describe"


def describe_store(baseline: str, setting: Setting | str, store_root: str | os.PathLike[str] | None = None,
                   shard: tuple[int, int] | None = None) -> ResultsStore:
    """The store file of one baseline, setting and (optionally) shard."""
    return ResultsStore(store_path(STAGE, baseline, setting, root=store_root, shard=shard))


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"i/n"`` (0 <= i < n) -> ``(i, n)``; ``None`` stays ``None``."""
    if text is None:
        return None
    if isinstance(text, tuple):
        index, count = text
    else:
        try:
            left, right = str(text).split("/")
            index, count = int(left), int(right)
        except ValueError:
            raise OvmerError(f"shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise OvmerError(f"shard {index}/{count}: need 0 <= i < n (shards are numbered from 0)")
    return index, count


def shard_names(names: Sequence[str], shard: tuple[int, int] | None) -> list[str]:
    """Striding split: shard ``(i, n)`` gets ``names[i::n]``."""
    if shard is None:
        return list(names)
    index, count = shard
    return list(names[index::count])


def select_names(layout: MER2025Layout, limit: int | None = None, shard: tuple[int, int] | None = None) -> list[str]:
    """The dataset's samples, the first ``limit`` of them, then this shard's share."""
    names = layout.names
    if limit is not None:
        if limit < 1:
            raise OvmerError(f"limit must be a positive number of samples, got {limit}")
        names = names[:limit]
    return shard_names(names, shard)
