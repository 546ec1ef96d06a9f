"""The commands that write or rewrite store files: nothing finished is lost, bad input is one line.

`export`, `import-released` and `describe-merge` over damaged stores, odd targets and
selections; `run_stage` under a server whose failures differ only by request id.
Every case compares the store before and after.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from adversarial_helpers import (
    Ovmer,
    assert_nothing_lost,
    finished_records,
    record_line,
    store_snapshot,
    write,
)

from ovmer.errors import OvmerError
from ovmer.store import Record, ResultsStore, run_stage, store_path
from ovmer.store.runner import WorkItem

NAMES = [f"sample_{i:08d}" for i in range(1, 7)]


def describe_file(output: Path, shard: tuple[int, int] | None = None) -> ResultsStore:
    return ResultsStore(store_path("describe", "Mine", "S0", output, shard))


def described(name: str, run: str = "a") -> Record:
    return Record(name, "ok", f"key-{run}-{name}", raw=f"{name} smiles ({run})", value=f"{name} smiles ({run})")


def dataset(tmp_path: Path, names: list[str] = NAMES) -> Path:
    """A MER2025-layout folder that only names the samples (no media: merging reads none)."""
    rows = "".join(f"{n},字幕,subtitle of {n}\n" for n in names)
    write(tmp_path / "mer" / "subtitle_chieng.csv", "name,chinese,english\n" + rows)
    return tmp_path / "mer"


def run_shards(output: Path, names: list[str], count: int, run: str = "a") -> None:
    for index in range(count):
        store = describe_file(output, (index, count))
        for name in names[index::count]:
            store.append(described(name, run))


# --------------------------------------------------------------------------- describe-merge


def test_merging_a_smaller_selection_keeps_the_earlier_full_run(ovmer: Ovmer, output: Path, tmp_path: Path) -> None:
    full = describe_file(output)
    for name in NAMES:
        full.append(described(name, "full"))
    before = finished_records(output)
    run_shards(output, NAMES[:4], 2, run="small")
    out = ovmer.ok("describe-merge", "--baseline", "Mine", "--setting", "S0", "--shards", 2,
                   "--data", dataset(tmp_path), "--limit", 4).out
    assert "4 records added" in out and "4 sample(s) already had a different finished record" in out
    assert_nothing_lost(before, finished_records(output))
    latest = full.latest()
    assert list(latest) == NAMES  # the two samples outside --limit 4 are still there
    assert [latest[n].value.endswith("(small)") for n in NAMES] == [True] * 4 + [False] * 2


def test_merging_twice_adds_nothing_the_second_time(ovmer: Ovmer, output: Path, tmp_path: Path) -> None:
    run_shards(output, NAMES, 3)
    args = ("describe-merge", "--baseline", "Mine", "--setting", "S0", "--shards", 3, "--data", dataset(tmp_path))
    assert "6 records added" in ovmer.ok(*args).out
    after_first = store_snapshot(output / "store" / "describe" / "Mine")
    assert "0 records added" in ovmer.ok(*args).out
    assert store_snapshot(output / "store" / "describe" / "Mine") == after_first


def test_a_failed_retry_in_a_shard_does_not_undo_a_finished_sample(ovmer: Ovmer, output: Path, tmp_path: Path) -> None:
    run_shards(output, NAMES, 2)
    describe_file(output, (0, 2)).append(Record(NAMES[0], "error", "key-b", error="CUDA out of memory"))
    ovmer.ok("describe-merge", "--baseline", "Mine", "--setting", "S0", "--shards", 2, "--data", dataset(tmp_path))
    assert describe_file(output).latest()[NAMES[0]].ok


@pytest.mark.parametrize(
    ("damage", "fragments"),
    [
        ("missing-shard", ("shard file(s) not found", "nosubtitle.shard-1-of-2.jsonl")),
        ("gap", ("1 sample(s) in no shard", NAMES[5])),
        ("duplicate", ("in more than one shard", f"{NAMES[0]} (shards 0, 1)")),
        ("stray", ("not expected", "sample_99999999")),
        ("only-an-error", ("latest record is an error", NAMES[1], "allow_errors")),
        ("bad-line", ("nosubtitle.shard-0-of-2.jsonl:2", "status must be ok or error")),
    ],
)
def test_merge_refusals_name_the_sample_or_file_and_write_nothing(
    ovmer: Ovmer, output: Path, tmp_path: Path, damage: str, fragments: tuple[str, ...]
) -> None:
    earlier = describe_file(output)
    earlier.append(described(NAMES[0], "earlier"))
    run_shards(output, NAMES, 2)
    shard0, shard1 = describe_file(output, (0, 2)), describe_file(output, (1, 2))
    if damage == "missing-shard":
        shard1.path.unlink()
    elif damage == "gap":
        shard1.path.write_text("".join(r.to_json() + "\n" for n, r in shard1.latest().items() if n != NAMES[5]))
    elif damage == "duplicate":
        shard1.append(described(NAMES[0]))
    elif damage == "stray":
        shard1.append(described("sample_99999999"))
    elif damage == "only-an-error":
        shard1.path.write_text("".join(r.to_json() + "\n" for n, r in shard1.latest().items() if n != NAMES[1]))
        shard1.append(Record(NAMES[1], "error", "k", error="decoder failed"))
    elif damage == "bad-line":
        lines = shard0.path.read_text().splitlines()
        lines[1] = lines[1].replace('"status": "ok"', '"status": "done"')
        shard0.path.write_text("\n".join(lines) + "\n")
    before = store_snapshot(output)
    ovmer.fails("describe-merge", "--baseline", "Mine", "--setting", "S0", "--shards", 2,
                "--data", dataset(tmp_path), names=fragments)
    assert store_snapshot(output) == before


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (("--shards", "0"), ("at least 1",)),
        (("--setting", "S2"), ("clue-merging",)),
    ],
)
def test_merge_argument_errors(ovmer: Ovmer, tmp_path: Path, argv: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    args = {"--baseline": "Mine", "--setting": "S0", "--shards": "2", "--data": str(dataset(tmp_path))}
    args.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    ovmer.fails("describe-merge", *[x for pair in args.items() for x in pair], names=fragments)


def test_merge_with_a_missing_data_folder(ovmer: Ovmer, tmp_path: Path) -> None:
    ovmer.fails("describe-merge", "--baseline", "Mine", "--setting", "S0", "--shards", 2, "--data", tmp_path / "no",
                names=[tmp_path / "no", "does not exist"])


@pytest.mark.parametrize(
    ("csv", "fragments"),
    [
        ("name,chinese,english\nsample_1,a,b\n,c,d\n", ("data row 2 has no name",)),
        ("name,chinese,english\nsample_1,a,b\nsample_1,c,d\n", ("sample_1 has more than one row",)),
        ("name,chinese,english\nsample_1,a,b,c\n", ("line 2 has 4 fields",)),
        (b"name,chinese,english\nsample_1,\xc4\xe3,b\n", ("not UTF-8",)),
        ("english\nhello\n", ("missing column(s) ['name', 'chinese']",)),
    ],
    ids=["empty-name", "duplicate", "shifted", "gbk", "columns"],
)
def test_a_bad_subtitle_csv_in_the_dataset_is_named(ovmer: Ovmer, tmp_path: Path, csv, fragments) -> None:
    path = write(tmp_path / "mer" / "subtitle_chieng.csv", csv)
    ovmer.fails("describe-merge", "--baseline", "Mine", "--setting", "S0", "--shards", 1, "--data", tmp_path / "mer",
                names=[path, *fragments])


# --------------------------------------------------------------------------- export


@pytest.fixture()
def labels_store(output: Path) -> ResultsStore:
    store = ResultsStore(store_path("extract", "Mine", "S1", output))
    for index, name in enumerate(NAMES):
        store.append(Record(name, "ok", f"k{index}", raw="[happy, calm]", value=["happy", "calm"]))
    return store


@pytest.mark.parametrize(
    ("target", "fragments"),
    [
        ("folder", ("is a folder",)),
        ("folder.npz", ("is a folder",)),
        ("labels.txt", ("name the output file *.npz",)),
        ("a-file/inside.npz", ("a-file",)),
    ],
)
def test_export_to_a_bad_target_names_the_target_and_keeps_the_store(
    ovmer: Ovmer, tmp_path: Path, output: Path, labels_store: ResultsStore, target: str, fragments
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder.npz").mkdir()
    write(tmp_path / "a-file", "not a folder")
    before = store_snapshot(output)
    ovmer.fails("export", "extract/Mine/S1", tmp_path / target, names=[tmp_path / target.split("/")[0], *fragments])
    assert store_snapshot(output) == before
    assert not list(tmp_path.rglob(".partial-*"))


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        ("extract/Mine/S7", ("S7",)),
        ("score/Mine/S1", ("neither a store .jsonl file nor STAGE/BASELINE/SETTING",)),
        ("extract/Nobody/S1", ("no such results-store file",)),
        ("Mine", ("neither a store .jsonl file",)),
    ],
)
def test_export_of_a_bad_store_spec(ovmer: Ovmer, tmp_path: Path, labels_store: ResultsStore, spec: str, fragments) -> None:
    ovmer.fails("export", spec, tmp_path / "x.npz", names=fragments)


def test_export_of_error_records_and_damaged_lines(ovmer: Ovmer, tmp_path: Path, output: Path, labels_store) -> None:
    labels_store.append(Record("sample_new", "error", "k", error="boom"))
    ovmer.fails("export", "extract/Mine/S1", tmp_path / "x.npz", names=["1 sample(s) have error records", "sample_new"])
    ovmer.ok("export", "extract/Mine/S1", tmp_path / "x.npz", "--skip-errors")
    with np.load(tmp_path / "x.npz") as archive:
        assert archive["filenames"].tolist() == NAMES
    with open(labels_store.path, "a") as handle:
        handle.write(record_line(name=7))
    ovmer.fails("export", "extract/Mine/S1", tmp_path / "y.npz", names=[f"{labels_store.path}:8", "'name'"])
    assert not (tmp_path / "y.npz").exists()


def test_export_of_a_store_of_only_errors(ovmer: Ovmer, tmp_path: Path, output: Path) -> None:
    store = ResultsStore(store_path("extract", "Mine", "S1", output))
    store.append(Record("a", "error", "k", error="boom"))
    ovmer.fails("export", "extract/Mine/S1", tmp_path / "x.npz", "--skip-errors", names=["no finished records"])


def test_export_takes_the_finished_record_under_a_failed_retry(ovmer: Ovmer, tmp_path: Path, labels_store) -> None:
    labels_store.append(Record(NAMES[0], "error", "k-new", error="HTTP 500 (request id 8f3a)"))
    ovmer.ok("export", "extract/Mine/S1", tmp_path / "x.npz")
    with np.load(tmp_path / "x.npz") as archive:
        assert archive["filenames"].tolist() == NAMES and archive["fileitems"][0] == "[happy, calm]"


def test_export_of_a_description_store_holding_lists(ovmer: Ovmer, tmp_path: Path, output: Path) -> None:
    store = describe_file(output)
    store.append(Record("a", "ok", "k", raw=None, value=["not", "text"]))
    ovmer.fails("export", "describe/Mine/S0", tmp_path / "x.npz", names=["a: no description text"])


# --------------------------------------------------------------------------- import-released


def test_import_never_replaces_our_own_records_and_is_idempotent(ovmer: Ovmer, output: Path) -> None:
    ours = ResultsStore(store_path("extract", "Otter", "S1", output))
    ours.append(Record("sample_00000000", "ok", "mine", raw="[calm]", value=["calm"], meta={"source": "cpu"}))
    ours.append(Record("sample_00000007", "error", "mine", error="boom"))  # no finished record: import fills it
    ovmer.ok("import-released", "--baseline", "Otter", "--setting", "S1", "--quiet")
    latest = ours.latest()
    assert latest["sample_00000000"].value == ["calm"] and latest["sample_00000007"].meta["source"] == "released"
    before = store_snapshot(output)
    assert "0 records added" in ovmer.ok("import-released", "--baseline", "Otter", "--setting", "S1", "--quiet").out
    assert store_snapshot(output) == before


def test_import_after_a_torn_line_starts_a_fresh_line(ovmer: Ovmer, output: Path) -> None:
    path = store_path("extract", "Otter", "S1", output)
    write(path, record_line(raw="[calm]", value=["calm"], meta={"source": "cpu"}) + '{"name": "sample_000')
    ovmer.ok("import-released", "--baseline", "Otter", "--setting", "S1", "--quiet")
    latest = ResultsStore(path).latest()
    assert len(latest) == 332 and latest["sample_00000000"].value == ["calm"]


def test_import_into_a_damaged_store_names_the_line_and_leaves_it_alone(ovmer: Ovmer, output: Path) -> None:
    path = write(store_path("extract", "Otter", "S1", output), record_line() + record_line(name={"x": 1}))
    before = path.read_bytes()
    ovmer.fails("import-released", "--baseline", "Otter", "--setting", "S1", "--quiet", names=[f"{path}:2", "'name'"])
    assert path.read_bytes() == before  # the files before it were imported; this one waits for a fix


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (("--baseline", "Oter"), ("unknown released baseline 'Oter'", "Did you mean 'Otter'?")),
        (("--setting", "S4"), ("S4",)),
    ],
)
def test_import_argument_errors(ovmer: Ovmer, argv: tuple[str, ...], fragments) -> None:
    ovmer.fails("import-released", *argv, "--quiet", names=fragments)


def test_import_into_an_output_that_is_a_file(ovmer: Ovmer, tmp_path: Path) -> None:
    blocker = write(tmp_path / "blocker", "a file")
    ovmer.fails("import-released", "--baseline", "Otter", "--setting", "S1", "--output", blocker, "--quiet",
                names=[blocker])


# --------------------------------------------------------------------------- run_stage and the abort rule


def test_500s_differing_by_request_id_stop_the_run_and_hide_nothing(output: Path) -> None:
    store = ResultsStore(output / "x.jsonl")
    run_stage(store, [WorkItem(n, "k1") for n in NAMES], lambda item: ("r", item.name), progress=False)
    before = store.path.read_bytes()
    request_ids = iter(["req_8f3a9c01", "req_11aa02ff", "req_c0ffee99", "req_deadbeef"])

    def server_down(item: WorkItem) -> tuple[str, str]:
        raise OvmerError(f"http://127.0.0.1:8000/v1: HTTP 500 Internal Server Error (request id {next(request_ids)})")

    with pytest.raises(OvmerError, match="all failed with the same error"):
        run_stage(store, [WorkItem(n, "k2") for n in NAMES], server_down, progress=False)
    assert store.path.read_bytes() == before
    assert all(r.ok for r in store.latest().values())


def test_failures_that_each_name_their_sample_are_recorded_not_taken_for_a_broken_setup(output: Path) -> None:
    store = ResultsStore(output / "x.jsonl")

    def missing_reply(item: WorkItem) -> tuple[str, str]:
        if item.name in NAMES[:3]:
            raise OvmerError(f"replay: no stored reply for sample {item.name!r}")
        return "r", item.name

    summary = run_stage(store, [WorkItem(n, "k") for n in NAMES], missing_reply, progress=False)
    assert (summary.done, summary.failed) == (3, 3)


def test_an_error_record_after_a_finished_one_is_history_not_the_value(output: Path) -> None:
    store = ResultsStore(output / "x.jsonl")
    run_stage(store, [WorkItem(n, "k1") for n in NAMES], lambda item: ("r", item.name), progress=False)

    def flaky(item: WorkItem) -> tuple[str, str]:
        if item.name == NAMES[-1]:
            raise OvmerError("timeout")
        return "r2", item.name + "-v2"

    run_stage(store, [WorkItem(n, "k2") for n in NAMES], flaky, progress=False)
    latest = store.latest()
    assert latest[NAMES[-1]].ok and latest[NAMES[-1]].key == "k1"  # the finished record is what readers see
    assert store.latest_attempts()[NAMES[-1]].status == "error"
    assert list(store.failed_after_ok()) == [NAMES[-1]]
    assert store.done_keys()[NAMES[-1]] == "k1"  # so the next run with k2 retries it
    lines = [json.loads(line) for line in store.path.read_text().splitlines()]
    assert [line["status"] for line in lines if line["name"] == NAMES[-1]] == ["ok", "error"]
