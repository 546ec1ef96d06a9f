"""Work items, a counting ``compute`` and a line reader shared by the results-store tests."""

from __future__ import annotations

import json
from pathlib import Path

from ovmer.store.runner import WorkItem


def items(count: int, key_prefix: str = "k") -> list[WorkItem]:
    return [WorkItem(f"sample_{i:03d}", f"{key_prefix}{i}", i) for i in range(count)]


class CountingCompute:
    """``compute`` for run_stage that records which samples it was asked for."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.calls: list[str] = []
        self.fail = fail or set()

    def __call__(self, item: WorkItem) -> tuple[str, int]:
        self.calls.append(item.name)
        if item.name in self.fail:
            raise ValueError(f"boom on {item.name}")
        return f"raw reply {item.payload}", item.payload * 10


def lines_by_name(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        try:
            out.setdefault(json.loads(line)["name"], []).append(line)
        except json.JSONDecodeError:
            continue
    return out
