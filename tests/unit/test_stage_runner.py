"""run_stage's three shapes of work (one by one, batches, a stream) share one skip-and-record loop."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from ovmer.errors import OvmerError
from ovmer.store import ResultsStore, StageSummary, run_stage
from ovmer.store.runner import Result, SampleFailure, WorkItem


def items(count: int) -> list[WorkItem]:
    return [WorkItem(f"s{i}", f"k{i}", i) for i in range(count)]


def test_a_stream_is_recorded_as_it_arrives_in_any_order(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "x.jsonl")
    seen: list[list[str]] = []

    def stream(todo: Sequence[WorkItem]) -> Iterator[tuple[WorkItem, Result]]:
        seen.append([item.name for item in todo])
        by_name = {item.name: item for item in todo}
        yield by_name["s2"], ("two", 2, {"external_run": "run-1"})
        assert store.latest()["s2"].value == 2  # stored before the next result is asked for
        yield by_name["s0"], SampleFailure("decoder failed")
        # s1 is never answered

    summary = run_stage(store, items(3), stream=stream, meta={"runner": "x"}, progress=False, abort_after=None)
    assert (summary.done, summary.failed) == (1, 2) and seen == [["s0", "s1", "s2"]]
    latest = store.latest()
    assert latest["s2"].meta["runner"] == "x" and latest["s2"].meta["external_run"] == "run-1"
    assert latest["s0"].error == "decoder failed"  # in the worker's own words
    assert latest["s1"].error == "s1: no result was produced for this sample"

    again = run_stage(store, items(3), stream=lambda todo: iter(()), progress=False, abort_after=None)
    assert again.skipped == 1 and again.failed == 2  # only s2 is done


def test_a_stream_is_closed_when_the_run_stops(tmp_path: Path) -> None:
    closed = []

    def stream(todo: Sequence[WorkItem]) -> Iterator[tuple[WorkItem, Result]]:
        try:
            for item in todo:
                yield item, RuntimeError("no GPU")
        finally:
            closed.append(True)  # e.g. the external program is terminated

    with pytest.raises(OvmerError, match="first 3 samples .* all failed with the same error"):
        run_stage(ResultsStore(tmp_path / "x.jsonl"), items(5), stream=stream, progress=False)
    assert closed == [True]


def test_compute_and_batch_give_the_same_records(tmp_path: Path) -> None:
    def compute(item: WorkItem) -> tuple[str, int]:
        if item.payload == 1:
            raise ValueError("odd one")
        return f"raw {item.payload}", item.payload * 10

    def batch(chunk: Sequence[WorkItem]) -> list[Result]:
        results: list[Result] = []
        for item in chunk:
            try:
                results.append(compute(item))
            except ValueError as exc:
                results.append(exc)
        return results

    one = ResultsStore(tmp_path / "one.jsonl")
    many = ResultsStore(tmp_path / "many.jsonl")
    first = run_stage(one, items(4), compute, progress=False)
    second = run_stage(many, items(4), batch=batch, batch_size=3, progress=False)
    assert (first.done, first.failed) == (second.done, second.failed) == (3, 1)
    assert {n: (r.raw, r.value, r.error) for n, r in one.latest().items()} == {
        n: (r.raw, r.value, r.error) for n, r in many.latest().items()}
    assert one.latest()["s1"].error == "ValueError: odd one"
    with pytest.raises(TypeError, match="needs compute, batch or stream"):
        run_stage(one, items(1))


def test_summaries_add_up() -> None:
    total = StageSummary(done=1, failures={"a": "x"})
    total.add(StageSummary(done=2, skipped=3, failed=1, failures={"b": "y"}))
    assert (total.done, total.skipped, total.failed, total.failures) == (3, 3, 1, {"a": "x", "b": "y"})
