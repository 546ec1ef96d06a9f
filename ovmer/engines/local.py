"""The default engine: the worker runs in this process, one chunk after another, in item order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ovmer.engines.base import Engine, StageWork
from ovmer.store.runner import Result, WorkItem, in_batches


class LocalEngine(Engine):
    """Runs the stage's worker here: what every stage did before engines existed."""

    name = "local"

    def stream(self, work: StageWork, todo: Sequence[WorkItem]) -> Iterator[tuple[WorkItem, Result]]:
        return in_batches(work.worker, todo, max(1, work.batch_size))

    def __repr__(self) -> str:
        return "LocalEngine()"
