"""The results store: keys, append-only records, torn lines, resume, retries and a real kill."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from store_helpers import CountingCompute, items, lines_by_name

from ovmer.errors import OvmerError
from ovmer.settings import Setting
from ovmer.store import Record, ResultsStore, compute_key, run_stage, store_path
from ovmer.store.runner import WorkItem


def test_compute_key_is_canonical_and_sensitive() -> None:
    key = compute_key(model="m", prompt="p", inputs={"a": 1, "b": [1, 2]})
    assert key == compute_key(inputs={"b": [1, 2], "a": 1}, prompt="p", model="m")
    assert len(key) == 64 and int(key, 16) >= 0
    assert key != compute_key(model="m", prompt="p ", inputs={"a": 1, "b": [1, 2]})
    assert key != compute_key(model="m", prompt="p", inputs={"a": 1, "b": [2, 1]})
    assert key != compute_key(model="m2", prompt="p", inputs={"a": 1, "b": [1, 2]})


def test_store_path_layout(tmp_path: Path) -> None:
    assert store_path("describe", "Otter", "S2", root=tmp_path) == (
        tmp_path / "store/describe/Otter/nosubtitle-addsub.jsonl"
    )
    assert store_path("extract", "Otter", Setting.SUBTITLE, root=tmp_path, shard=(1, 4)) == (
        tmp_path / "store/extract/Otter/subtitle.shard-1-of-4.jsonl"
    )
    assert store_path("merge", "x", "nosubtitle").parent.parent.parent.parent == Path(os.environ["OVMER_OUTPUT"])
    with pytest.raises(OvmerError, match="unknown stage 'scoring'"):
        store_path("scoring", "Otter", "S0", root=tmp_path)


def test_append_latest_done_keys_values(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "deep" / "folder" / "x.jsonl")
    assert store.latest() == {} and store.done_keys() == {}
    store.append(Record("a", "ok", "k1", raw="Output: [Happy]", value=["happy"]))
    store.append(Record("b", "error", "k2", error="ValueError: bad"))
    store.append(Record("a", "ok", "k3", raw="[sad]", value=["sad"]))
    latest = store.latest()
    assert list(latest) == ["a", "b"]
    assert latest["a"].key == "k3" and latest["a"].value == ["sad"] and latest["a"].raw == "[sad]"
    assert isinstance(latest["a"].meta["time"], float)
    assert store.done_keys() == {"a": "k3"}
    assert store.values() == {"a": ["sad"]}
    assert store.values(only_ok=False) == {"a": ["sad"], "b": None}
    assert len(store.path.read_text().splitlines()) == 3  # append-only: nothing rewritten


def test_reader_rejects_lines_that_are_not_records(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"name": "a", "status": "ok", "key": "k"}) + "\n" + json.dumps({"nme": "b"}) + "\n")
    with pytest.raises(OvmerError, match=r"x.jsonl:2: not a results record"):
        ResultsStore(path).latest()
    path.write_text(json.dumps({"name": "a", "status": "done", "key": "k"}) + "\n")
    with pytest.raises(OvmerError, match=r"x.jsonl:1: status must be ok or error, got 'done'"):
        ResultsStore(path).latest()


def test_run_stage_writes_raw_and_parsed_and_skips_done(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "s.jsonl")
    compute = CountingCompute()
    summary = run_stage(store, items(5), compute, progress=False, meta={"model": "tiny"})
    assert (summary.done, summary.skipped, summary.failed) == (5, 0, 0)
    record = store.latest()["sample_003"]
    assert (record.raw, record.value, record.key, record.meta["model"]) == ("raw reply 3", 30, "k3", "tiny")

    again = run_stage(store, items(5), compute, progress=False)
    assert (again.done, again.skipped) == (0, 5)
    assert len(compute.calls) == 5
    assert str(again) == "0 done, 5 skipped (up to date), 0 failed"


def test_changed_key_is_recomputed(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "s.jsonl")
    run_stage(store, items(3), CountingCompute(), progress=False)
    changed = items(3)
    changed[1] = WorkItem("sample_001", "a new prompt's key", 7)
    compute = CountingCompute()
    summary = run_stage(store, changed, compute, progress=False)
    assert compute.calls == ["sample_001"] and summary.skipped == 2
    assert store.latest()["sample_001"].value == 70


def test_resume_after_a_simulated_kill(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "s.jsonl")
    run_stage(store, items(5), CountingCompute(), progress=False)
    finished = lines_by_name(store.path)
    # A writer killed mid-line: the last record is cut short, without its newline.
    data = store.path.read_bytes()
    store.path.write_bytes(data[: len(data) - 25])

    with pytest.warns(UserWarning, match=r"skipped 1 unreadable line\(s\) \[5\]"):
        latest = store.latest()
    assert sorted(latest) == [f"sample_{i:03d}" for i in range(4)]
    assert store.torn_lines == [5]

    compute = CountingCompute()
    with pytest.warns(UserWarning, match="unreadable line"):
        summary = run_stage(store, items(5), compute, progress=False)
    assert compute.calls == ["sample_004"]
    assert (summary.done, summary.skipped, summary.failed) == (1, 4, 0)

    with pytest.warns(UserWarning, match=r"\[5\]"):  # the torn line stays, reported, harmless
        latest = store.latest()
    assert len(latest) == 5 and all(r.ok for r in latest.values())
    assert latest["sample_004"].value == 40
    after = lines_by_name(store.path)
    for name in [f"sample_{i:03d}" for i in range(4)]:
        assert after[name] == finished[name]  # finished records untouched


def test_errors_become_records_and_are_retried(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "s.jsonl")
    summary = run_stage(store, items(4), CountingCompute(fail={"sample_002"}), progress=False)
    assert (summary.done, summary.failed) == (3, 1)
    assert summary.failures == {"sample_002": "ValueError: boom on sample_002"}
    failed = store.latest()["sample_002"]
    assert failed.status == "error" and failed.error == "ValueError: boom on sample_002" and failed.value is None
    assert "sample_002" not in store.done_keys()

    compute = CountingCompute()
    retry = run_stage(store, items(4), compute, progress=False)
    assert compute.calls == ["sample_002"]
    assert (retry.done, retry.skipped, retry.failed) == (1, 3, 0)
    assert store.latest()["sample_002"].ok and store.latest()["sample_002"].value == 20
    assert len(lines_by_name(store.path)["sample_002"]) == 2  # the error stays in the history


def test_batches_record_each_sample(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "s.jsonl")
    seen: list[list[str]] = []

    def batch(chunk: list[WorkItem]) -> list[tuple[str, int] | BaseException]:
        seen.append([item.name for item in chunk])
        if any(item.payload == 4 for item in chunk):
            raise RuntimeError("out of memory")
        return [RuntimeError("empty reply") if item.payload == 1 else (f"r{item.payload}", item.payload)
                for item in chunk]

    summary = run_stage(store, items(5), lambda item: ("", None), progress=False, batch=batch, batch_size=2)
    assert [len(chunk) for chunk in seen] == [2, 2, 1]
    assert (summary.done, summary.failed) == (3, 2)
    assert summary.failures["sample_001"] == "RuntimeError: empty reply"
    assert summary.failures["sample_004"] == "RuntimeError: out of memory"
    assert store.latest()["sample_003"].raw == "r3"


def test_a_broken_setup_stops_the_run_and_keeps_earlier_results(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "s.jsonl")
    assert run_stage(store, items(2), CountingCompute(), progress=False).done == 2

    def unreachable(item: WorkItem) -> tuple[str, int]:
        raise ConnectionError("http://127.0.0.1:9/v1: connection refused")

    lines_before = store.path.read_text().count("\n")
    with pytest.raises(OvmerError, match=r"first 3 samples .* same error.*connection refused"):
        run_stage(store, items(5, key_prefix="new"), unreachable, progress=False)
    assert store.path.read_text().count("\n") == lines_before  # no error record buries the ok ones
    assert all(record.ok for record in store.latest().values())


def test_leading_failures_are_recorded_once_a_sample_succeeds_or_errors_differ(tmp_path: Path) -> None:
    first_two = CountingCompute(fail={"sample_000", "sample_001"})
    summary = run_stage(ResultsStore(tmp_path / "a.jsonl"), items(4), first_two, progress=False)
    assert (summary.done, summary.failed) == (2, 2)
    assert sorted(summary.failures) == ["sample_000", "sample_001"]
    assert [r.status for r in ResultsStore(tmp_path / "a.jsonl").latest().values()] == ["error"] * 2 + ["ok"] * 2

    every = CountingCompute(fail={f"sample_{i:03d}" for i in range(4)})  # each message names its sample
    summary = run_stage(ResultsStore(tmp_path / "b.jsonl"), items(4), every, progress=False)
    assert (summary.done, summary.failed) == (0, 4)
    assert len(ResultsStore(tmp_path / "b.jsonl").latest()) == 4
