"""The external-baseline protocol, driven by a small fake 'upstream' program the test writes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from media_helpers import make_mer2025_layout

from ovmer.cli import main as ovmer_main
from ovmer.describe.external import request_record, work_dir
from ovmer.describe.runner import describe_store, prepare_items, run_describe
from ovmer.errors import OvmerError

NAMES = tuple(f"sample_{i:08d}" for i in range(1, 5))

# A stand-in for an authors' inference script: reads the requests, answers each one,
# and misbehaves on demand (FAKE_FAIL: report an error, FAKE_SKIP: never answer,
# FAKE_DIE_AFTER: crash after that many answers, FAKE_GARBAGE: write a broken line first).
FAKE_PROGRAM = r'''
import json, os, sys
from pathlib import Path

requests, results = sys.argv[1], sys.argv[2]
assert requests == os.environ["OVMER_REQUESTS"] and results == os.environ["OVMER_RESULTS"]
fail = set(filter(None, os.environ.get("FAKE_FAIL", "").split(",")))
skip = set(filter(None, os.environ.get("FAKE_SKIP", "").split(",")))
die_after = int(os.environ.get("FAKE_DIE_AFTER", "-1"))
calls = os.environ.get("FAKE_CALLS")
print("fake upstream starting", flush=True)
with open(results, "a", encoding="utf-8") as out:
    if os.environ.get("FAKE_GARBAGE"):
        out.write("{not json\n")
    answered = 0
    for line in open(requests, encoding="utf-8"):
        req = json.loads(line)
        if calls:
            with open(calls, "a") as handle:
                handle.write(req["name"] + "\n")
        if answered == die_after:
            print("CUDA error: out of memory (pretend)", flush=True)
            sys.exit(3)
        if req["name"] in skip:
            continue
        if req["name"] in fail:
            out.write(json.dumps({"name": req["name"], "status": "error", "error": "decoder failed"}) + "\n")
        else:
            video_ok = bool(req["video"]) and Path(req["video"]).is_file()
            text = f"{req['name']} frames={req['frames']['num_frames']} video_ok={video_ok} sub={req['subtitle']!r}"
            out.write(json.dumps({"name": req["name"], "status": "ok", "text": text}) + "\n")
        out.flush()
        answered += 1
'''


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    data = make_mer2025_layout(tmp_path / "data", NAMES, seconds=0.5, with_faces=False)
    program = tmp_path / "fake_upstream.py"
    program.write_text(FAKE_PROGRAM)
    calls = tmp_path / "calls.txt"
    monkeypatch.setenv("FAKE_CALLS", str(calls))
    command = f"{sys.executable} {program} {{requests}} {{results}}"
    return data, command, calls, tmp_path / "out"


def called(calls: Path) -> list[str]:
    return calls.read_text().split() if calls.exists() else []


def test_external_run_end_to_end_and_resume(setup):
    data, command, calls, out = setup
    summary = run_describe("Otter", "S1", data, external_cmd=command, store_root=out, progress=False)
    assert (summary.done, summary.failed) == (4, 0)
    latest = describe_store("Otter", "S1", out).latest()
    assert list(latest) == list(NAMES)
    # the request carried the spec's 16 frames, an existing absolute video path and the subtitle
    assert latest[NAMES[0]].value == f"{NAMES[0]} frames=16 video_ok=True sub='subtitle of {NAMES[0]}'"
    assert latest[NAMES[0]].meta["runner"] == "external"
    assert called(calls) == list(NAMES)

    again = run_describe("Otter", "S1", data, external_cmd=command, store_root=out, progress=False)
    assert (again.done, again.skipped) == (0, 4) and called(calls) == list(NAMES)  # program not even started


def test_request_lines_follow_the_documented_protocol(setup):
    data, _, _, _ = setup
    from ovmer.data.mer2025 import load_mer2025
    from ovmer.describe.prompts import render_describe_prompt
    from ovmer.describe.registry import get_baseline

    spec = get_baseline("Otter")
    layout = load_mer2025(data)
    items = prepare_items(spec, __import__("ovmer.settings").settings.Setting.SUBTITLE, layout, NAMES[:1],
                          model={"checkpoint": spec.checkpoint}, generation={}, render_prompt=render_describe_prompt)
    request = request_record(items[0], spec)
    assert set(request) == {"protocol", "name", "key", "baseline", "checkpoint", "modalities", "video", "audio",
                            "face", "frames", "system", "prompt", "subtitle"}
    assert request["video"] == str((data / "video" / f"{NAMES[0]}.mp4").resolve())
    assert request["audio"] is None and request["modalities"] == ["text", "video"]
    assert request["subtitle"] == f"subtitle of {NAMES[0]}" and request["subtitle"] in request["prompt"]
    json.dumps(request)  # plain JSON


def test_errors_silence_and_crashes_become_error_records(setup, monkeypatch):
    data, command, calls, out = setup
    monkeypatch.setenv("FAKE_FAIL", NAMES[0])
    monkeypatch.setenv("FAKE_SKIP", NAMES[1])
    monkeypatch.setenv("FAKE_DIE_AFTER", "2")  # answers sample 1 (error) and 3, then dies before 4
    monkeypatch.setenv("FAKE_GARBAGE", "1")
    with pytest.warns(UserWarning, match="not JSON"):
        summary = run_describe("Otter", "S0", data, external_cmd=command, store_root=out, progress=False)
    assert (summary.done, summary.failed) == (1, 3)
    latest = describe_store("Otter", "S0", out).latest()
    assert latest[NAMES[2]].ok
    assert latest[NAMES[0]].error == "decoder failed"
    for name in (NAMES[1], NAMES[3]):
        assert "exited with code 3 without a result" in latest[name].error
        assert "CUDA error: out of memory (pretend)" in latest[name].error  # the log's tail

    for var in ("FAKE_FAIL", "FAKE_SKIP", "FAKE_DIE_AFTER", "FAKE_GARBAGE"):
        monkeypatch.delenv(var)
    before = len(called(calls))
    retry = run_describe("Otter", "S0", data, external_cmd=command, store_root=out, progress=False)
    assert (retry.done, retry.skipped, retry.failed) == (3, 1, 0)
    assert sorted(called(calls)[before:]) == [NAMES[0], NAMES[1], NAMES[3]]  # only the failed ones


def test_results_of_a_killed_run_are_taken_up_not_recomputed(setup, monkeypatch):
    data, command, calls, out = setup
    # A finished run removes its folder once the store holds every result; a killed one never gets there.
    with monkeypatch.context() as patch:
        patch.setattr("ovmer.describe.external._remove_if_stored", lambda run, store: False)
        run_describe("Otter", "S0", data, external_cmd=command, store_root=out, progress=False)
    store = describe_store("Otter", "S0", out)
    # Pretend the package was killed after the program answered every sample but before
    # samples 2-4 reached the store: their answers sit in the run folder only.
    store.path.write_text(store.path.read_text().splitlines()[0] + "\n")
    killed = next(work_dir(store).glob("run-*"))
    before = len(called(calls))
    summary = run_describe("Otter", "S0", data, external_cmd="exit 9", store_root=out, progress=False)
    assert (summary.done, summary.skipped, summary.failed) == (3, 1, 0)  # the command never had to run
    assert len(called(calls)) == before and not killed.exists()
    assert all(r.ok for r in store.latest().values()) and list(store.latest()) == list(NAMES)


def test_shards_apply_to_external_runs(setup):
    data, command, calls, out = setup
    run_describe("Otter", "S0", data, external_cmd=command, store_root=out, progress=False, shard="1/2")
    assert list(describe_store("Otter", "S0", out, (1, 2)).latest()) == [NAMES[1], NAMES[3]]


def test_cli_describe_with_external_command(setup, capsys):
    data, command, _, out = setup
    code = ovmer_main(["describe", "--baseline", "otter", "--setting", "S1", "--data", str(data),
                       "--external-cmd", command, "--output", str(out), "--no-progress",
                       "--npz", str(out / "otter.npz")])
    printed = capsys.readouterr().out
    assert code == 0 and "describe Otter S1: 4 done" in printed and "exported" in printed
    assert (out / "otter.npz").is_file()
    code = ovmer_main(["describe", "--baseline", "Otter", "--setting", "S1", "--data", str(data),
                       "--external-cmd", "exit 2", "--output", str(out / "b"), "--no-progress"])
    assert code == 1  # every sample failed; the errors are printed and stored


def test_empty_command_refused(setup):
    data, _, _, out = setup
    with pytest.raises(OvmerError, match="external command is empty"):
        run_describe("Otter", "S0", data, external_cmd="  ", store_root=out, progress=False)
