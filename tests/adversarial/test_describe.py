"""The describe stage on damaged datasets: media, subtitle CSVs, face stacks, external programs.

A sample whose input is broken gets an error record naming the file (and is never
handed to an external program); a broken dataset table stops the command with one
line naming the file and row; finished records survive every run.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from adversarial_helpers import Ovmer, assert_nothing_lost, finished_records, npz_bytes, store_snapshot, write
from describe_helpers import AV_SPEC, MeasuringAdapter
from media_helpers import make_mer2025_layout

from ovmer.describe.adapter import BaselineSpec, FramePolicy
from ovmer.describe.external import work_dir
from ovmer.describe.runner import describe_store, run_describe

NAMES = ("sample_00000001", "sample_00000002", "sample_00000003", "sample_00000004")
FACES_SPEC = BaselineSpec(name="test-measuring-faces", modalities=frozenset({"video"}), run="native",
                          checkpoint="tests/measuring", frames=FramePolicy(num_frames=2), paper=False)

# An external 'upstream' program: answers every request, noting which it was sent; misbehaves on demand.
PROGRAM = r'''
import json, os, sys
requests, results = sys.argv[1], sys.argv[2]
mode = os.environ.get("FAKE_MODE", "")
with open(os.environ["FAKE_SEEN"], "a") as seen, open(results, "a") as out:
    if mode == "garbage":
        out.write("{not json\n[1, 2]\n" + json.dumps({"name": "stranger", "status": "ok", "text": "x"}) + "\n")
    for line in open(requests):
        req = json.loads(line)
        seen.write(req["name"] + "\n")
        if mode == "number-text":
            out.write(json.dumps({"name": req["name"], "status": "ok", "text": 42}) + "\n")
        elif mode == "bad-status":
            out.write(json.dumps({"name": req["name"], "status": "done"}) + "\n")
        elif mode == "die":
            print("Segmentation fault (pretend)", flush=True)
            sys.exit(139)
        else:
            out.write(json.dumps({"name": req["name"], "status": "ok", "text": req["name"] + " frowns"}) + "\n")
        out.flush()
'''


@pytest.fixture(scope="module")
def clean_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mer2025_layout(tmp_path_factory.mktemp("mer") / "mer", NAMES, seconds=0.5)


@pytest.fixture()
def data(clean_layout: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(clean_layout, tmp_path / "mer"))


@pytest.fixture()
def external(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    program = write(tmp_path / "upstream.py", PROGRAM)
    seen = tmp_path / "seen.txt"
    monkeypatch.setenv("FAKE_SEEN", str(seen))
    return f"{sys.executable} {program} {{requests}} {{results}}", seen


def seen_names(seen: Path) -> list[str]:
    return seen.read_text().split() if seen.exists() else []


def describe_cli(ovmer: Ovmer, data: Path, command: str, *extra: object, setting: str = "S0"):
    return ovmer.run("describe", "--baseline", "Otter", "--setting", setting, "--data", data,
                     "--external-cmd", command, "--no-progress", *extra)


# --------------------------------------------------------------------------- media, external program


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        ("missing", "video file is missing"),
        ("empty", "video file is empty (0 bytes)"),
    ],
)
def test_external_runs_never_send_a_sample_without_its_media(
    ovmer: Ovmer, output: Path, data: Path, external, damage: str, fragment: str
) -> None:
    command, seen = external
    clip = data / "video" / f"{NAMES[1]}.mp4"
    if damage == "missing":
        clip.unlink()
    else:
        clip.write_bytes(b"")
    with pytest.warns(UserWarning, match="these samples get error records"):
        outcome = describe_cli(ovmer, data, command)
    assert outcome.code == 1 and NAMES[1] in outcome.err
    assert sorted(seen_names(seen)) == sorted(set(NAMES) - {NAMES[1]})
    latest = describe_store("Otter", "S0", output).latest()
    assert not latest[NAMES[1]].ok and fragment in latest[NAMES[1]].error and str(clip) in latest[NAMES[1]].error
    assert all(latest[n].ok for n in NAMES if n != NAMES[1])


def test_external_subtitle_runs_need_a_subtitle_row(ovmer: Ovmer, output: Path, data: Path, external) -> None:
    command, seen = external
    csv = data / "subtitle_chieng.csv"
    csv.write_text("\n".join(line for line in csv.read_text().splitlines() if NAMES[2] not in line) + "\n")
    outcome = describe_cli(ovmer, data, command, setting="S1")
    assert outcome.code == 1
    record = describe_store("Otter", "S1", output).latest()[NAMES[2]]
    assert not record.ok and "no row in" in record.error and "subtitle_chieng.csv" in record.error
    assert NAMES[2] not in seen_names(seen)


@pytest.mark.parametrize(
    ("mode", "fragment"),
    [
        ("number-text", "'text' is int, not a string"),
        ("bad-status", "status must be 'ok' or 'error'"),
        ("die", "exited with code 139"),
    ],
)
def test_a_misbehaving_external_program_gives_error_records(
    ovmer: Ovmer, output: Path, data: Path, external, monkeypatch: pytest.MonkeyPatch, mode: str, fragment: str
) -> None:
    command, _ = external
    monkeypatch.setenv("FAKE_MODE", mode)
    outcome = describe_cli(ovmer, data, command)
    assert outcome.code == 1 and fragment in outcome.err
    latest = describe_store("Otter", "S0", output).latest()
    assert sorted(latest) == sorted(NAMES) and not any(r.ok for r in latest.values())


def test_garbage_lines_from_the_program_are_ignored_with_warnings(
    ovmer: Ovmer, output: Path, data: Path, external, monkeypatch: pytest.MonkeyPatch
) -> None:
    command, _ = external
    monkeypatch.setenv("FAKE_MODE", "garbage")
    with pytest.warns(UserWarning) as caught:
        ovmer.ok("describe", "--baseline", "Otter", "--setting", "S0", "--data", data, "--external-cmd", command,
                 "--no-progress")
    messages = " ".join(str(w.message) for w in caught)
    assert "not JSON" in messages and "'stranger' was not requested" in messages
    assert all(r.ok for r in describe_store("Otter", "S0", output).latest().values())


def test_an_earlier_run_folder_is_kept_while_it_holds_unstored_results(
    ovmer: Ovmer, output: Path, data: Path, external
) -> None:
    command, seen = external
    store = describe_store("Otter", "S0", output)
    # A killed full run: the program answered every sample, the store got none of them.
    ovmer.ok("describe", "--baseline", "Otter", "--setting", "S0", "--data", data, "--external-cmd", command,
             "--no-progress", "--limit", 1)
    killed = work_dir(store) / "run-00000000-000000-1"
    killed.mkdir(parents=True)
    # The keys a real run writes into its requests: learn them from a full run into a scratch store.
    scratch = output.parent / "scratch"
    ovmer.ok("describe", "--baseline", "Otter", "--setting", "S0", "--data", data, "--external-cmd", command,
             "--no-progress", "--output", scratch)
    keys = {r.name: r.key for r in describe_store("Otter", "S0", scratch).latest().values()}
    write(killed / "requests.jsonl", "".join(json.dumps({"name": n, "key": k}) + "\n" for n, k in keys.items()))
    write(killed / "results.jsonl", "".join(
        json.dumps({"name": n, "status": "ok", "text": f"{n} from the killed run"}) + "\n" for n in keys))
    before_calls = len(seen_names(seen))
    ovmer.ok("describe", "--baseline", "Otter", "--setting", "S0", "--data", data, "--external-cmd", command,
             "--no-progress", "--limit", 2)
    assert killed.is_dir()  # samples 3 and 4 are only there: the folder stays
    assert store.latest()[NAMES[1]].value == f"{NAMES[1]} from the killed run"
    ovmer.ok("describe", "--baseline", "Otter", "--setting", "S0", "--data", data, "--external-cmd", "exit 9",
             "--no-progress")
    assert not killed.exists() and len(seen_names(seen)) == before_calls  # taken up, nothing re-run
    assert [r.value.endswith("killed run") for r in store.latest().values()] == [False, True, True, True]


# --------------------------------------------------------------------------- native runs (in-process adapter)


@pytest.mark.parametrize(
    ("target", "content", "fragment"),
    [
        ("video/{name}.mp4", b"hello" * 200, "cannot be opened as media"),
        ("video/{name}.mp4", "truncate", "cannot be opened as media"),
        ("audio/{name}.wav", b"RIFF\x00\x00\x00\x00WAVEfmt garbage", "cannot be opened as media"),
        ("video/{name}.mp4", b"", "video file is empty"),
    ],
    ids=["garbage-video", "truncated-video", "garbage-wav", "empty-video"],
)
def test_native_runs_record_broken_media_by_file(output: Path, data: Path, target: str, content, fragment) -> None:
    path = data / target.format(name=NAMES[0])
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2] if content == "truncate" else content)
    with pytest.warns(UserWarning) if content == b"" else _no_warning_check():
        summary = run_describe(MeasuringAdapter(), "S0", data, store_root=output, progress=False)
    assert (summary.done, summary.failed) == (3, 1)
    assert fragment in summary.failures[NAMES[0]] and str(path) in summary.failures[NAMES[0]]


class _no_warning_check:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (npz_bytes(faces=np.zeros((2, 8, 8, 3), np.uint8)), "an npz archive, not a .npy face stack"),
        (b"\x93NUMPY garbage", "not a readable .npy face stack"),
        (np.zeros((4, 8, 8), np.uint8), "expected a (T, H, W, 3) face stack"),
        (np.zeros((0, 8, 8, 3), np.uint8), "no frames"),
        (np.array([["a"] * 3] * 2), "expected a (T, H, W, 3)"),
    ],
    ids=["npz", "bad-header", "no-channels", "no-frames", "text"],
)
def test_native_runs_record_broken_face_stacks(output: Path, data: Path, content, fragment) -> None:
    path = data / "openface_face" / NAMES[0] / f"{NAMES[0]}.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content)
    adapter = MeasuringAdapter(spec=FACES_SPEC)
    summary = run_describe(adapter, "S0", data, store_root=output, progress=False, visual="faces")
    assert summary.failed == 1 and fragment in summary.failures[NAMES[0]]


def test_native_subtitle_runs_record_a_missing_row_instead_of_an_empty_subtitle(output: Path, data: Path) -> None:
    csv = data / "subtitle_chieng.csv"
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join([lines[0], lines[1].replace(f"subtitle of {NAMES[0]}", "")]
                             + [line for line in lines[2:] if NAMES[1] not in line]) + "\n")
    adapter = MeasuringAdapter()
    summary = run_describe(adapter, "S1", data, store_root=output, progress=False)
    assert summary.failed == 1 and "no row in" in summary.failures[NAMES[1]]
    assert NAMES[1] not in adapter.calls
    # An empty cell is an empty subtitle, not a missing one.
    assert "subtitle=''" in describe_store(AV_SPEC.name, "S1", output).latest()[NAMES[0]].raw


# --------------------------------------------------------------------------- dataset tables and arguments


@pytest.mark.parametrize(
    ("table", "content", "fragment"),
    [
        ("subtitle_chieng.csv", f"name,chinese,english\n{NAMES[0]},a,b\n,c,d\n", "data row 2 has no name"),
        ("subtitle_chieng.csv", f"name,chinese,english\n{NAMES[0]},a,b\n{NAMES[0]},c,d\n", "more than one row"),
        ("subtitle_chieng.csv", f"name,chinese,english\n{NAMES[0]},a,b,c\n", "line 2 has 4 fields"),
        ("subtitle_chieng.csv", b"name,chinese,english\n" + NAMES[0].encode() + b",\xd7\xd6,b\n", "not UTF-8"),
        ("track2_train_ovmerd.csv", f"name,openset\n{NAMES[0]},happy,sad\n", "line 2 has 3 fields"),
        ("track2_train_ovmerd.csv", "", "is empty"),
        ("track3_train_ovmerd.csv", "name,explanation\nx,y\n", "missing column(s)"),
    ],
    ids=["sub-empty-name", "sub-duplicate", "sub-shifted", "sub-gbk", "labels-shifted", "labels-empty", "reasons"],
)
def test_a_broken_dataset_table_stops_the_run_naming_it(
    ovmer: Ovmer, output: Path, data: Path, external, table: str, content, fragment: str
) -> None:
    command, seen = external
    path = write(data / table, content)
    ovmer.fails("describe", "--baseline", "Otter", "--setting", "S0", "--data", data, "--external-cmd", command,
                "--no-progress", names=[path, fragment])
    assert not seen_names(seen) and not (output / "store").exists()


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (("--baseline", "Oter"), ("Did you mean 'Otter'?",)),
        (("--setting", "S2"), ("clue-merging",)),
        (("--shard", "3/2"), ("need 0 <= i < n",)),
        (("--shard", "half"), ("shard must look like i/n",)),
        (("--limit", "0"), ("limit must be a positive number",)),
        (("--shard", "0/2", "--npz", "x.npz"), ("after sharded runs use",)),
        (("--external-cmd", "   "), ("the external command is empty",)),
        (("--baseline", "Video-LLaVA", "--model-path", "/nowhere"), ("/nowhere",)),
    ],
)
def test_describe_argument_errors(ovmer: Ovmer, data: Path, external, argv: tuple[str, ...], fragments) -> None:
    command, _ = external
    args = {"--baseline": "Otter", "--setting": "S0", "--data": str(data), "--external-cmd": command}
    args.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    if args["--baseline"] == "Video-LLaVA":
        del args["--external-cmd"]
    ovmer.fails("describe", *[x for pair in args.items() for x in pair], "--no-progress", names=fragments)


@pytest.mark.parametrize("what", ["missing", "empty", "file"])
def test_describe_data_folder_problems(ovmer: Ovmer, tmp_path: Path, external, what: str) -> None:
    command, _ = external
    folder = tmp_path / "mer"
    if what == "empty":
        folder.mkdir()
    elif what == "file":
        write(folder, "not a folder")
    ovmer.fails("describe", "--baseline", "Otter", "--setting", "S0", "--data", folder, "--external-cmd", command,
                "--no-progress", names=[folder])


def test_a_rerun_after_media_went_missing_keeps_every_finished_description(
    ovmer: Ovmer, output: Path, data: Path, external
) -> None:
    command, _ = external
    ovmer.ok("describe", "--baseline", "Otter", "--setting", "S0", "--data", data, "--external-cmd", command,
             "--no-progress")
    before = finished_records(output)
    shutil.rmtree(data / "video")
    shutil.rmtree(data / "audio")
    (data / "newclip.mp4").write_bytes(b"")
    with pytest.warns(UserWarning):
        describe_cli(ovmer, data, command)
    assert_nothing_lost(before, finished_records(output))
    assert all(r.ok for r in describe_store("Otter", "S0", output).latest().values())
    assert store_snapshot(output)  # the store is still there
