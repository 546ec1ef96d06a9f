"""Run a per-sample function over work items with resume, error records and progress."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ovmer.errors import OvmerError
from ovmer.store.jsonl import Record, ResultsStore

# When this many samples in a row fail with one identical error before any succeeds, the setup is
# wrong (model folder, server, API key), not the samples: stop instead of writing an error record
# per sample, which would hide each sample's earlier ok record from readers of the store.
ABORT_AFTER_SAME_ERRORS = 3


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


def run_stage(
    store: ResultsStore,
    items: Iterable[WorkItem],
    compute: Callable[[WorkItem], tuple[str | None, Any]],
    desc: str = "samples",
    progress: bool = True,
    meta: dict[str, Any] | None = None,
    batch: Callable[[Sequence[WorkItem]], list[tuple[str | None, Any] | BaseException]] | None = None,
    batch_size: int = 1,
) -> StageSummary:
    """Compute each item not already done (same name and key, status ok) and append a record.

    ``compute`` returns ``(raw_text, parsed_value)``; any exception becomes an
    error record naming the sample, and the run goes on, except when the first
    ``ABORT_AFTER_SAME_ERRORS`` samples all fail with one identical error before
    any succeeds: then it raises :class:`OvmerError` and writes none of those
    error records (a broken setup must not bury earlier results). With ``batch``, items
    are sent ``batch_size`` at a time and the callable returns one result or
    exception per item.
    """
    from tqdm.auto import tqdm

    done = store.done_keys()
    todo: list[WorkItem] = []
    summary = StageSummary()
    for item in items:
        if done.get(item.name) == item.key:
            summary.skipped += 1
        else:
            todo.append(item)

    held: list[tuple[WorkItem, str]] = []  # leading failures, written once the run proves viable

    def write_error(item: WorkItem, message: str) -> None:
        store.append(Record(item.name, "error", item.key, error=message, meta=dict(meta or {})))
        summary.failed += 1
        summary.failures[item.name] = message

    def release_held() -> None:
        for held_item, held_message in held:
            write_error(held_item, held_message)
        held.clear()

    def record(item: WorkItem, result: tuple[str | None, Any] | BaseException) -> None:
        if isinstance(result, BaseException):
            message = f"{type(result).__name__}: {result}"
            if summary.done or summary.failed:
                write_error(item, message)
                return
            held.append((item, message))
            if len({m for _, m in held}) > 1:
                release_held()
            elif len(held) >= ABORT_AFTER_SAME_ERRORS:
                bar.close()
                first_line = message.splitlines()[0] if message else message
                raise OvmerError(
                    f"stopped after the first {len(held)} samples ({', '.join(n.name for n, _ in held)}) "
                    f"all failed with the same error, so no sample would succeed: {first_line} "
                    f"(no error records written; finished records in {store.path} are kept)"
                )
        else:
            release_held()
            raw, value = result
            store.append(Record(item.name, "ok", item.key, raw=raw, value=value, meta=dict(meta or {})))
            summary.done += 1

    bar = tqdm(total=len(todo), desc=desc, unit="sample", disable=not progress)
    step = max(1, batch_size if batch else 1)
    for start in range(0, len(todo), step):
        chunk = todo[start : start + step]
        if batch is not None:
            try:
                results = batch(chunk)
            except Exception as exc:  # the whole batch failed: record each sample
                results = [exc] * len(chunk)
        else:
            results = []
            for item in chunk:
                try:
                    results.append(compute(item))
                except Exception as exc:  # recorded, never lost; see record()
                    exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
                    results.append(exc)
        for item, result in zip(chunk, results, strict=True):
            record(item, result)
        bar.update(len(chunk))
        bar.set_postfix(failed=summary.failed + len(held), refresh=False)
    release_held()
    bar.close()
    return summary
