"""The engine contract: where a stage's per-sample work runs, apart from what it computes and records.

A stage describes its work as a :class:`StageWork`: a *worker* (a picklable
callable that holds the model, loads it on its first call and turns a chunk of
:class:`~ovmer.store.runner.WorkItem` into one result per item) and the chunk
size its model takes at once. An :class:`Engine` runs that worker over the
items still to do and yields ``(item, result)`` pairs as they arrive; the
stage hands them to :func:`~ovmer.store.runner.run_stage`, which stays the one
writer of the store file. So every engine gives the same keys, the same
records, the same resume.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ovmer.store.jsonl import ResultsStore
from ovmer.store.runner import Result, SampleFailure, StageSummary, WorkItem, failure_message, run_stage

# A worker: one result (or exception) per item of the chunk, in order. It is called in whatever process
# the engine chooses (this one, or a Ray actor holding its own copy), so it must be picklable and load
# its model lazily, on the first chunk.
Worker = Callable[[Sequence[WorkItem]], Sequence[Result]]


@dataclass(frozen=True)
class StageWork:
    """What a stage computes per sample, in a form any engine can run."""

    worker: Worker
    batch_size: int = 1  # items the model takes at once (LLM batches); describe and asr take one


class Engine(ABC):
    """Base class of every engine (one file each in :mod:`ovmer.engines`, one line in ``ENGINES``)."""

    name: ClassVar[str] = "base"

    @abstractmethod
    def stream(self, work: StageWork, todo: Sequence[WorkItem]) -> Iterable[tuple[WorkItem, Result]]:
        """Run ``work`` over ``todo``; yield each ``(item, result)`` as it exists, in any order.

        Closing the returned iterable early (an error, Ctrl-C) must stop the work it started.
        """

    @contextlib.contextmanager
    def session(self) -> Iterator[Engine]:
        """Keep what the engine starts for a run (a local Ray instance) until the block ends.

        Stages that run several times in a row (every baseline and setting) run inside one session.
        """
        yield self


def each_sample(compute: Callable[[WorkItem], Result], chunk: Sequence[WorkItem]) -> list[Result]:
    """``compute`` of every item, an exception becoming that item's result (one bad sample spares the chunk)."""
    results: list[Result] = []
    for item in chunk:
        try:
            results.append(compute(item))
        except Exception as exc:  # recorded as the sample's error record by run_stage
            results.append(exc)
    return results


def portable(result: Result) -> Result:
    """``result`` with an exception replaced by a :class:`SampleFailure` that records the same.

    Results cross process boundaries (Ray); an exception type that cannot be pickled or imported there
    would sink the whole chunk, so it travels as the exact message :func:`run_stage` would record,
    with the reply text it carried (``raw``), which the error record keeps.
    """
    if isinstance(result, BaseException) and not isinstance(result, SampleFailure):
        failure = SampleFailure(failure_message(result))
        failure.raw = getattr(result, "raw", None)
        return failure
    return result


def run_work(
    store: ResultsStore,
    items: Iterable[WorkItem],
    work: StageWork,
    engine: Engine,
    **options: Any,
) -> StageSummary:
    """:func:`run_stage` of ``items`` with ``work`` run by ``engine`` (``options``: desc, progress, meta...)."""
    return run_stage(store, items, stream=lambda todo: engine.stream(work, todo), **options)
