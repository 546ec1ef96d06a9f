"""Run a per-sample function over work items with resume, error records and progress.

:func:`run_stage` is the one skip-and-record loop of every stage. Work comes in
one of three shapes: ``compute(item)`` one sample at a time, ``batch(chunk)``
a few at a time (LLM backends), or ``stream(todo)`` yielding ``(item, result)``
pairs in any order as they arrive (an external program answering a requests
file). Each result is stored the moment it arrives.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ovmer.errors import OvmerError
from ovmer.store.jsonl import Record, ResultsStore, cap_reply

# When this many samples in a row fail with the same error before any succeeds, the setup is wrong
# (model folder, server, API key), not the samples: stop instead of writing an error record per
# sample. "The same" compares messages with their volatile parts masked (request ids, timings,
# ports; see same_failure), so a server whose 500s each carry a new request id still stops the run.
# Readers never let an error record hide a finished one (ResultsStore.latest), so this rule saves
# a broken run's noise, not data.
ABORT_AFTER_SAME_ERRORS = 3
_VOLATILE = re.compile(r"[\w.:-]*\d[\w.:-]*")

# A sample's result: ``(raw, value)``, ``(raw, value, extra_meta)`` for a record with its own meta
# besides the run's, or the exception that stopped it.
Result = tuple[str | None, Any] | tuple[str | None, Any, dict[str, Any]] | BaseException


class SampleFailure(OvmerError):
    """A failure a worker reports for one sample in its own words: recorded as is, without the type name."""


def failure_message(exc: BaseException) -> str:
    """What an error record says: a :class:`SampleFailure` as is, else ``Type: message``."""
    return str(exc) if isinstance(exc, SampleFailure) else f"{type(exc).__name__}: {exc}"


def same_failure(message: str, sample: str) -> str:
    """``message`` with its volatile parts masked, for telling one repeated failure from several.

    Every token holding a digit (a request id, a port, a duration, an HTTP status) becomes
    ``#``, except the sample's own name: a message about one sample stays its own.
    """
    first_line = message.splitlines()[0] if message else ""
    return sample.join(_VOLATILE.sub("#", part) for part in first_line.split(sample)) if sample else first_line


@dataclass
class WorkItem:
    name: str
    key: str
    payload: Any = None


@dataclass
class StageSummary:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.done} done, {self.skipped} skipped (up to date), {self.failed} failed"

    def add(self, other: StageSummary) -> StageSummary:
        """Count ``other`` in (several runs reported as one); returns ``self``."""
        self.done += other.done
        self.skipped += other.skipped
        self.failed += other.failed
        self.failures.update(other.failures)
        return self


def _one_by_one(compute: Callable[[WorkItem], Result], todo: Sequence[WorkItem]) -> Iterator[tuple[WorkItem, Result]]:
    for item in todo:
        try:
            result = compute(item)
        except Exception as exc:  # recorded, never lost; see run_stage
            result = exc
        yield item, result


def in_batches(
    batch: Callable[[Sequence[WorkItem]], Sequence[Result]], todo: Sequence[WorkItem], size: int
) -> Iterator[tuple[WorkItem, Result]]:
    """``batch`` of ``size`` items at a time, in order; a batch that raises gives each of its items the error."""
    for start in range(0, len(todo), size):
        chunk = todo[start : start + size]
        try:
            results: Sequence[Result] = batch(chunk)
        except Exception as exc:  # the whole batch failed: record each sample
            results = [exc] * len(chunk)
        yield from zip(chunk, results, strict=True)


def run_stage(
    store: ResultsStore,
    items: Iterable[WorkItem],
    compute: Callable[[WorkItem], Result] | None = None,
    desc: str = "samples",
    progress: bool = True,
    meta: dict[str, Any] | None = None,
    batch: Callable[[Sequence[WorkItem]], Sequence[Result]] | None = None,
    batch_size: int = 1,
    stream: Callable[[Sequence[WorkItem]], Iterable[tuple[WorkItem, Result]]] | None = None,
    abort_after: int | None = ABORT_AFTER_SAME_ERRORS,
) -> StageSummary:
    """Compute each item not already done (same name and key, status ok) and append a record.

    Give one of ``compute`` (returns ``(raw_text, parsed_value)`` for one item),
    ``batch`` (``batch_size`` items at a time, one result or exception per item)
    or ``stream`` (called once with every item to do; yields ``(item, result)``
    pairs in any order; an item it never yields gets an error record). Any
    exception becomes an error record naming the sample, and the run goes on,
    except when the first ``abort_after`` samples all fail with one identical
    error before any succeeds: then it raises :class:`OvmerError` and writes
    none of those error records (a broken setup must not bury earlier results).
    ``abort_after=None`` records every failure.
    """
    from tqdm.auto import tqdm  # here, not at the top: tqdm.auto probes for Jupyter (~0.1 s)

    done = store.done_keys()
    todo: list[WorkItem] = []
    summary = StageSummary()
    for item in items:
        if done.get(item.name) == item.key:
            summary.skipped += 1
        else:
            todo.append(item)

    if stream is not None:
        results: Iterable[tuple[WorkItem, Result]] = stream(todo)
    elif batch is not None:
        results = in_batches(batch, todo, max(1, batch_size))
    elif compute is not None:
        results = _one_by_one(compute, todo)
    else:
        raise TypeError("run_stage needs compute, batch or stream")

    held: list[tuple[WorkItem, BaseException]] = []  # leading failures, written once the run proves viable
    waiting = {item.name: item for item in todo}
    bar = tqdm(total=len(todo), desc=desc, unit="sample", disable=not progress)

    def write_error(item: WorkItem, failure: BaseException) -> None:
        message = failure_message(failure)
        # A rejected reply (a refusal, prose instead of a list) keeps its text for a look later.
        raw, full_length = cap_reply(getattr(failure, "raw", None))
        record_meta = {**(meta or {}), **({"reply_chars": full_length} if full_length else {})}
        store.append(Record(item.name, "error", item.key, raw=raw, error=message, meta=record_meta))
        summary.failed += 1
        summary.failures[item.name] = message

    def release_held() -> None:
        for held_item, held_failure in held:
            write_error(held_item, held_failure)
        held.clear()

    def record(item: WorkItem, result: Result) -> None:
        if isinstance(result, BaseException):
            if summary.done or summary.failed or abort_after is None:
                write_error(item, result)
                return
            held.append((item, result))
            if len({same_failure(failure_message(f), i.name) for i, f in held}) > 1:
                release_held()
            elif len(held) >= abort_after:
                message = failure_message(result)
                first_line = message.splitlines()[0] if message else message
                raise OvmerError(
                    f"stopped after the first {len(held)} samples ({', '.join(n.name for n, _ in held)}) "
                    f"all failed with the same error, so no sample would succeed: {first_line} "
                    f"(no error records written; finished records in {store.path} are kept)"
                )
        else:
            release_held()
            raw, value, *extra = result
            record_meta = {**(meta or {}), **(extra[0] if extra else {})}
            raw, full_length = cap_reply(raw)
            if isinstance(value, str):
                value, value_length = cap_reply(value)
                full_length = full_length or value_length
            if full_length:
                record_meta["reply_chars"] = full_length
            store.append(Record(item.name, "ok", item.key, raw=raw, value=value, meta=record_meta))
            summary.done += 1

    try:
        for item, result in results:
            waiting.pop(item.name, None)
            record(item, result)
            bar.update(1)
            # A stream may report its own state on the bar (the Ray engine: replicas alive).
            fields = getattr(results, "progress_fields", dict)()
            bar.set_postfix(failed=summary.failed + len(held), **fields, refresh=False)
        for item in waiting.values():  # a stream that ended without answering them
            record(item, SampleFailure(f"{item.name}: no result was produced for this sample"))
        release_held()
    finally:
        close = getattr(results, "close", None)
        if close is not None:  # a stream interrupted midway stops its work (e.g. an external program)
            close()
        bar.close()
    return summary
