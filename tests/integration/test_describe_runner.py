"""The describe runner: end to end on synthetic media, resume, kill-and-restart, shards, broken media."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from describe_helpers import VIDEO_SPEC, MeasuringAdapter
from media_helpers import make_mer2025_layout, make_video, square_frame

from ovmer.data.released import read_description_npz
from ovmer.describe.runner import (
    describe_store,
    export_npz,
    merge_shards,
    parse_shard,
    run_describe,
    shard_names,
)
from ovmer.errors import OvmerError
from ovmer.store.jsonl import Record, ResultsStore

TESTS = Path(__file__).resolve().parents[1]
NAMES = tuple(f"sample_{i:08d}" for i in range(1, 6))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_mer2025_layout(tmp_path_factory.mktemp("describe") / "data", NAMES, seconds=1.0, fps=8)


@pytest.fixture()
def data(tmp_path, dataset):
    """A private copy (tests break files in it)."""
    import shutil

    return Path(shutil.copytree(dataset, tmp_path / "data"))


def run(adapter, data, tmp_path, setting="S1", **kwargs):
    kwargs.setdefault("progress", False)
    return run_describe(adapter, setting, data, store_root=tmp_path / "out", **kwargs)


def test_end_to_end_descriptions_land_in_the_store(data, tmp_path):
    adapter = MeasuringAdapter()
    summary = run(adapter, data, tmp_path)
    assert (summary.done, summary.skipped, summary.failed) == (5, 0, 0)
    assert adapter.loads == 1 and adapter.calls == list(NAMES)
    store = describe_store("test-measuring-av", "subtitle", tmp_path / "out")
    assert store.path == tmp_path / "out" / "store" / "describe" / "test-measuring-av" / "subtitle.jsonl"
    records = store.latest()
    assert list(records) == list(NAMES)
    first = records["sample_00000001"]
    # 4 uniform frames of the clip, its 1 s wav at 16 kHz, the subtitle from the csv, the real prompt
    assert "frames=4 " in first.raw and "audio=16000@16000" in first.raw
    assert "subtitle='subtitle of sample_00000001'" in first.raw
    assert first.value == first.raw.strip() and first.meta["setting"] == "subtitle"
    assert first.meta["baseline"] == "test-measuring-av"
    from ovmer.describe.prompts import render_describe_prompt

    prompt = render_describe_prompt("subtitle", {"video", "audio"}, "subtitle of sample_00000001")
    assert f"prompt={prompt.text[:40]!r}" in first.raw
    # the frames are the clip's: the drawn square on its background (h264 shifts means by < 1)
    assert float(first.raw.split("mean=")[1].split()[0]) == pytest.approx(square_frame(0).mean(), abs=1.0)


def test_rerun_recomputes_nothing_and_does_not_load_the_model(data, tmp_path):
    run(MeasuringAdapter(), data, tmp_path)
    again = MeasuringAdapter()
    summary = run(again, data, tmp_path)
    assert (summary.done, summary.skipped) == (0, 5)
    assert again.calls == [] and again.loads == 0


def test_key_follows_media_setting_and_generation(data, tmp_path):
    run(MeasuringAdapter(), data, tmp_path)
    make_video(data / "video" / "sample_00000003.mp4", seconds=1.5, fps=8, freq=900)  # new content
    adapter = MeasuringAdapter()
    assert run(adapter, data, tmp_path).done == 1 and adapter.calls == ["sample_00000003"]
    longer = MeasuringAdapter(max_new_tokens=512)
    assert run(longer, data, tmp_path).done == 5  # generation settings are in the key
    other = MeasuringAdapter()
    assert run(other, data, tmp_path, setting="S0").done == 5  # a separate store file
    assert "subtitle=None" in describe_store("test-measuring-av", "S0", tmp_path / "out").latest()[NAMES[0]].raw


def test_broken_media_gives_error_records_and_the_run_goes_on(data, tmp_path):
    empty = data / "video" / "sample_00000002.mp4"
    empty.write_bytes(b"")
    corrupt = data / "audio" / "sample_00000004.wav"
    corrupt.write_bytes(b"RIFF" + os.urandom(200))
    adapter = MeasuringAdapter()
    with pytest.warns(UserWarning, match=r"sample_00000002.mp4: video file is empty"):
        summary = run(adapter, data, tmp_path)
    assert (summary.done, summary.failed) == (3, 2)
    assert adapter.calls == ["sample_00000001", "sample_00000003", "sample_00000005"]
    latest = describe_store("test-measuring-av", "S1", tmp_path / "out").latest()
    assert latest["sample_00000002"].status == "error" and str(empty) in latest["sample_00000002"].error
    assert "MediaError" in latest["sample_00000004"].error and str(corrupt) in latest["sample_00000004"].error

    make_video(empty, seconds=1.0)  # repaired: only the failed samples run again
    make_mer2025_layout(tmp_path / "fresh", ("sample_00000004",), with_faces=False, with_csvs=False)
    corrupt.write_bytes((tmp_path / "fresh" / "audio" / "sample_00000004.wav").read_bytes())
    retry = MeasuringAdapter()
    summary = run(retry, data, tmp_path)
    assert (summary.done, summary.skipped, summary.failed) == (2, 3, 0)
    assert sorted(retry.calls) == ["sample_00000002", "sample_00000004"]


def test_faces_instead_of_frames_and_fps_policy(data, tmp_path):
    adapter = MeasuringAdapter(spec=VIDEO_SPEC)
    run(adapter, data, tmp_path, setting="S0", visual="faces")
    raw = describe_store("test-measuring-video", "S0", tmp_path / "out").latest()[NAMES[0]].raw
    # 8 faces at 25 fps span 0.28 s: a 2 fps policy takes the first one only; no audio for a video model
    assert "frames=1 " in raw and "audio=" not in raw
    run(MeasuringAdapter(spec=VIDEO_SPEC), data, tmp_path / "b", setting="S0")
    raw = describe_store("test-measuring-video", "S0", tmp_path / "b" / "out").latest()[NAMES[4]].raw
    assert "frames=3 " in raw  # 1.5 s clip at 2 fps = 3 ticks, capped at 3


def test_limit_and_shards_are_deterministic_stripes(data, tmp_path):
    assert shard_names(list("abcdefg"), (1, 3)) == ["b", "e"]
    assert parse_shard("2/4") == (2, 4)
    for bad in ("4/4", "x", "1/0", "-1/2"):
        with pytest.raises(OvmerError, match="shard"):
            parse_shard(bad)
    adapter = MeasuringAdapter()
    run(adapter, data, tmp_path, limit=3, shard="1/2")
    assert adapter.calls == ["sample_00000002"]


def test_shards_merge_to_full_coverage_and_export(data, tmp_path):
    out = tmp_path / "out"
    for index in range(2):
        run(MeasuringAdapter(), data, tmp_path, shard=(index, 2))
    shard0 = describe_store("test-measuring-av", "S1", out, (0, 2))
    assert shard0.path.name == "subtitle.shard-0-of-2.jsonl"
    assert list(shard0.latest()) == ["sample_00000001", "sample_00000003", "sample_00000005"]

    result = merge_shards("test-measuring-av", "S1", 2, data_dir=data, store_root=out)
    assert result.samples == 5 and result.errors == 0
    merged = describe_store("test-measuring-av", "S1", out)
    assert result.path == merged.path and list(merged.latest()) == list(NAMES)
    # the merged file resumes an unsharded run: nothing left to do
    again = MeasuringAdapter()
    assert run(again, data, tmp_path).skipped == 5 and again.calls == []

    npz = export_npz("test-measuring-av", "S1", tmp_path / "output-reason-7b-subtitle-eng.npz", store_root=out)
    exported = read_description_npz(npz, trust=True)
    assert exported == {name: rec.value for name, rec in merged.latest().items()}


def test_merge_refuses_gaps_duplicates_errors_and_missing_shards(data, tmp_path):
    out = tmp_path / "out"
    run(MeasuringAdapter(), data, tmp_path, shard=(0, 2))
    with pytest.raises(OvmerError, match=r"shard file\(s\) not found: .*shard-1-of-2"):
        merge_shards("test-measuring-av", "S1", 2, data_dir=data, store_root=out)
    run(MeasuringAdapter(), data, tmp_path, shard=(1, 2), limit=2)  # shard 1 covers only sample 2
    with pytest.raises(OvmerError, match=r"1 sample\(s\) in no shard: sample_00000004"):
        merge_shards("test-measuring-av", "S1", 2, data_dir=data, store_root=out)
    shard1 = describe_store("test-measuring-av", "S1", out, (1, 2))
    run(MeasuringAdapter(), data, tmp_path, shard=(1, 2))
    duplicate = describe_store("test-measuring-av", "S1", out, (0, 2)).latest()["sample_00000001"]
    shard1.append(duplicate)
    with pytest.raises(OvmerError, match=r"sample_00000001 \(shards 0, 1\)"):
        merge_shards("test-measuring-av", "S1", 2, data_dir=data, store_root=out)
    assert not describe_store("test-measuring-av", "S1", out).path.exists()  # nothing half-merged

    # a clean pair of shards, but one sample ended in an error
    out2 = tmp_path / "out2"
    for index in range(2):
        run_describe(MeasuringAdapter(), "S1", data, shard=(index, 2), store_root=out2, progress=False)
    shard = describe_store("test-measuring-av", "S1", out2, (1, 2))
    # An error after a finished record is a failed retry (readers keep the finished one): make
    # sample_00000004's only record an error.
    kept = [line for line in shard.path.read_text().splitlines() if '"sample_00000004"' not in line]
    shard.path.write_text("\n".join(kept) + "\n")
    shard.append(Record("sample_00000004", "error", "k", error="boom"))
    with pytest.raises(OvmerError, match="latest record is an error: sample_00000004"):
        merge_shards("test-measuring-av", "S1", 2, data_dir=data, store_root=out2)
    result = merge_shards("test-measuring-av", "S1", 2, names=NAMES, store_root=out2, allow_errors=True)
    assert (result.samples, result.errors) == (5, 1)


def test_refusals(data, tmp_path):
    with pytest.raises(OvmerError, match="clue-merging stage"):
        run(MeasuringAdapter(), data, tmp_path, setting="S2")
    with pytest.raises(OvmerError, match="unknown setting"):
        run(MeasuringAdapter(), data, tmp_path, setting="S9")
    with pytest.raises(OvmerError, match="Otter runs in the authors' code: give --external-cmd"):
        run_describe("Otter", "S0", data, store_root=tmp_path, progress=False)
    with pytest.raises(OvmerError, match="unknown baseline 'Videollamma'"):
        run_describe("Videollamma", "S0", data, store_root=tmp_path, progress=False)


CHILD = """
import sys
sys.path.insert(0, {tests!r})
from describe_helpers import MeasuringAdapter
from ovmer.describe.runner import run_describe
run_describe(MeasuringAdapter(calls_file={calls!r}, delay=0.4), "S1", {data!r}, store_root={out!r}, progress=False)
"""


@pytest.mark.slow
def test_killed_run_restarts_losing_nothing_and_recomputing_nothing(data, tmp_path):
    """SIGKILL a real run midway; the restart only does what was not stored."""
    calls, out = tmp_path / "calls.txt", tmp_path / "out"
    store = describe_store("test-measuring-av", "S1", out)
    script = CHILD.format(tests=str(TESTS), calls=str(calls), data=str(data), out=str(out))
    child = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONWARNINGS": "ignore"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not store.path.exists() or len(store.latest()) < 2):
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    stored_before = list(store.latest())
    assert 2 <= len(stored_before) < len(NAMES), "the child finished before it was killed"
    called_before = calls.read_text().split()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = run_describe(MeasuringAdapter(calls_file=calls), "S1", data, store_root=out, progress=False)
    called_after = calls.read_text().split()[len(called_before):]
    assert summary.skipped == len(stored_before) and summary.done == len(NAMES) - len(stored_before)
    assert not set(called_after) & set(stored_before)  # nothing stored is recomputed
    assert sorted(called_after) == sorted(set(NAMES) - set(stored_before))
    latest = store.latest()
    assert list(latest) == list(NAMES) and all(r.ok for r in latest.values())
    # one record per sample: nothing written twice, nothing lost
    lines = [json.loads(line)["name"] for line in store.path.read_text().splitlines() if line.strip()]
    assert sorted(lines) == sorted(NAMES)


def test_store_file_is_plain_jsonl(data, tmp_path):
    run(MeasuringAdapter(), data, tmp_path, limit=1)
    path = describe_store("test-measuring-av", "S1", tmp_path / "out").path
    record = json.loads(path.read_text().splitlines()[0])
    assert set(record) == {"name", "status", "key", "raw", "value", "error", "meta"}
    assert len(record["key"]) == 64 and ResultsStore(path).done_keys() == {"sample_00000001": record["key"]}


@pytest.mark.slow
def test_registry_baseline_with_a_tiny_native_model(data, tmp_path, capsys):
    """`ovmer describe --baseline Video-LLaVA` with a tiny random checkpoint: real transformers code end to end."""
    pytest.importorskip("transformers")
    from describe_models_helpers import build_tiny_video_llava

    from ovmer.cli import main

    model = build_tiny_video_llava(tmp_path / "video-llava-tiny")
    argv = ["describe", "--baseline", "video-llava", "--setting", "S1", "--data", str(data), "--model-path",
            str(model), "--limit", "2", "--max-new-tokens", "8", "--output", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 0
    assert "describe Video-LLaVA S1: 2 done" in capsys.readouterr().out
    records = describe_store("Video-LLaVA", "S1", tmp_path / "out").latest()
    assert list(records) == list(NAMES[:2]) and all(r.ok and r.value for r in records.values())
    assert main(argv) == 0 and "0 done, 2 skipped" in capsys.readouterr().out


def test_subtitle_setting_without_any_subtitles_is_refused(data, tmp_path):
    (data / "subtitle_chieng.csv").unlink()
    adapter = MeasuringAdapter()
    with pytest.raises(OvmerError, match=r"setting subtitle \(S1\) needs subtitles.*subtitle_chieng.csv"):
        run(adapter, data, tmp_path)
    assert adapter.loads == 0 and not describe_store("test-measuring-av", "S1", tmp_path / "out").path.exists()
    assert run(adapter, data, tmp_path, setting="S0").done == len(NAMES)  # S0 needs none


@pytest.fixture(scope="module")
def speech_dataset(tmp_path_factory):
    """Two clips with a moving square and a spoken sound track (espeak-ng), plus subtitles."""
    from media_helpers import espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng); .ci/run installs it")
    import pandas as pd

    root = tmp_path_factory.mktemp("speech") / "data"
    names = NAMES[:2]
    for name, text in zip(names, ("I am so happy to see you.", "Leave me alone, please."), strict=True):
        make_video(root / "video" / f"{name}.mp4", seconds=1.0, fps=8, speech=text)
    pd.DataFrame({"name": list(names), "chinese": ["", ""], "english": [f"subtitle of {n}" for n in names]}).to_csv(
        root / "subtitle_chieng.csv", index=False)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("baseline", ["Video-LLaVA", "LLaVA-NeXT-Video", "Qwen2-Audio-7B-Instruct", "Qwen2.5-Omni"])
def test_every_native_adapter_runs_through_the_runner(baseline, speech_dataset, tmp_path):
    """Registry spec + tiny random checkpoint + real media decoding + the store, for each native adapter."""
    pytest.importorskip("transformers")
    from describe_models_helpers import TINY_ADAPTER_KWARGS, TINY_BUILDERS

    from ovmer.describe.registry import create_adapter, get_baseline

    spec = get_baseline(baseline)
    model = TINY_BUILDERS[baseline](tmp_path / "tiny")
    adapter = create_adapter(baseline, model_path=str(model), max_new_tokens=6, **TINY_ADAPTER_KWARGS.get(baseline, {}))
    seen = []
    describe = adapter.describe

    def watching(message):
        seen.append(message)
        return describe(message)

    adapter.describe = watching
    summary = run_describe(adapter, "S1", speech_dataset, spec=spec, store_root=tmp_path / "out", progress=False)
    assert (summary.done, summary.failed) == (2, 0), summary.failures
    for message in seen:  # the media the spec asks for, decoded from the mp4 (audio from its speech track)
        assert (message.video() is not None) == ("video" in spec.modalities)
        assert (message.audio() is not None) == ("audio" in spec.modalities)
        if message.audio() is not None:
            assert message.audio().sample_rate == 16_000 and abs(message.audio().waveform).max() > 0.01
        assert "subtitle of" in (message.subtitle() or message.text())
    records = describe_store(spec.name, "S1", tmp_path / "out").latest()
    assert list(records) == list(NAMES[:2])
    assert all(r.ok and isinstance(r.value, str) and r.value == r.raw for r in records.values())
    again = run_describe(adapter, "S1", speech_dataset, spec=spec, store_root=tmp_path / "out", progress=False)
    assert (again.done, again.skipped) == (0, 2)  # resumed: nothing recomputed
