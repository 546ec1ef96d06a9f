"""The model stages on a real multi-node Ray cluster (3 nodes of 1 CPU on this machine, loopback only).

``ovmer describe`` (a tiny random-weight Video-LLaVA over synthetic clips) and
``ovmer extract`` (a tiny random chat LLM) with ``--engine ray`` write the
same records as the local runner (same keys, same values under greedy
decoding), every sample once. A run interrupted with Ctrl-C keeps what
finished and stops its replicas; the re-run computes only the missing samples.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

# ray_helpers first: it sets the environment Ray reads when it is imported.
from ray_helpers import (
    CLUSTER_CPUS,
    TESTS,
    TracedAdapter,
    calls,
    clip_folder,
    cluster_fixture,  # noqa: F401  (the module's own `cluster` fixture)
    store_lines,
    wait_for_full_cluster,
)

pytest.importorskip("ray")
pytest.importorskip("transformers")

from ovmer.describe.runner import describe_store, run_describe  # noqa: E402
from ovmer.engines.ray_engine import RayEngine  # noqa: E402
from ovmer.extract import run_extract  # noqa: E402
from ovmer.llm import GenerationSettings  # noqa: E402
from ovmer.store import store_path  # noqa: E402

pytestmark = pytest.mark.slow
NAMES = tuple(f"sample_{i:08d}" for i in range(1, 7))


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return clip_folder(tmp_path_factory, NAMES, seconds=1.0, fps=8)


def ovmer(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ovmer", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"
    return done


def single_threaded_torch():
    """Ray gives each 1-CPU replica one thread: match it locally so float sums run in the same order."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    return lambda: torch.set_num_threads(threads)


def test_describe_with_engine_ray_writes_the_local_runners_records(cluster, clips, tmp_path):
    from describe_models_helpers import build_tiny_video_llava

    model = build_tiny_video_llava(tmp_path / "tiny-video-llava")
    restore = single_threaded_torch()
    try:
        local = run_describe("Video-LLaVA", "S0", clips, model_path=str(model), max_new_tokens=4,
                             store_root=tmp_path / "local", progress=False)
    finally:
        restore()
    assert (local.done, local.failed) == (len(NAMES), 0)
    done = ovmer("describe", "--baseline", "Video-LLaVA", "--setting", "S0", "--data", str(clips),
                 "--model-path", str(model), "--max-new-tokens", "4", "--output", str(tmp_path / "ray"),
                 "--engine", "ray", "--ray-address", cluster.address, "--replicas", "2")
    assert f"{len(NAMES)} done, 0 skipped" in done.stdout
    expected = store_lines(describe_store("Video-LLaVA", "S0", tmp_path / "local").path)
    got = store_lines(describe_store("Video-LLaVA", "S0", tmp_path / "ray").path)
    assert sorted(r["name"] for r in got) == list(NAMES)  # every sample, once
    assert sorted(got, key=lambda r: r["name"]) == expected  # same keys, texts, values and meta
    assert all(r["status"] == "ok" and r["raw"] for r in got)
    wait_for_full_cluster(CLUSTER_CPUS)  # the command's replicas are gone


def test_extract_with_engine_ray_writes_the_local_runners_records(cluster, tmp_path):
    import pandas as pd
    from llm_helpers import build_tiny_chat_model

    model = build_tiny_chat_model(tmp_path / "tiny-chat")
    texts = {f"s{i}": text for i, text in enumerate([
        "She smiles, cheerful and relaxed.", "He frowns and shouts; he seems angry.",
        "The woman sighs, worried about the exam.", "", "He laughs loudly, surprised and happy.",
        "A calm voice, no visible emotion.", "She cries quietly, sad and disappointed.",
    ])}
    source = tmp_path / "descriptions.csv"
    pd.DataFrame({"name": list(texts), "description": list(texts.values())}).to_csv(source, index=False)
    restore = single_threaded_torch()
    try:
        local = run_extract("tiny", "S0", backend="transformers", model=str(model), descriptions=source,
                            settings=GenerationSettings(max_new_tokens=8), batch_size=2,
                            backend_options={"device": "cpu", "dtype": "float32"},
                            store_root=tmp_path / "local", progress=False)
    finally:
        restore()
    assert local.done + local.failed == len(texts)
    ovmer("extract", "--baseline", "tiny", "--setting", "S0", "--input", str(source), "--backend", "transformers",
          "--model", str(model), "--device", "cpu", "--dtype", "float32", "--max-new-tokens", "8",
          "--batch-size", "2", "--output", str(tmp_path / "ray"), "--engine", "ray",
          "--ray-address", cluster.address, "--replicas", "2", "--quiet")
    expected = store_lines(store_path("extract", "tiny", "S0", tmp_path / "local"))
    got = store_lines(store_path("extract", "tiny", "S0", tmp_path / "ray"))
    assert sorted(r["name"] for r in got) == sorted(texts)
    assert sorted(got, key=lambda r: r["name"]) == sorted(expected, key=lambda r: r["name"])
    assert any(r["raw"] for r in got)  # the model answered (the empty description is settled by rule)
    wait_for_full_cluster(CLUSTER_CPUS)


def test_a_served_model_through_ray_replicas_gives_the_local_records(cluster, clips, tmp_path):
    from llm_helpers import ChatServer, Reply

    options = {"model": "org/Tiny-VL", "num_frames": 2, "image_format": "png", "concurrency": 2}
    with ChatServer(lambda index, body: Reply(content=f"{len(body['messages'][-1]['content'])} parts")) as server:
        options["base_url"] = server.base_url
        local = run_describe("openai-compatible", "S1", clips, store_root=tmp_path / "local", progress=False,
                             adapter_options=options)
        served = run_describe("openai-compatible", "S1", clips, store_root=tmp_path / "ray", progress=False,
                              adapter_options=options, engine=RayEngine(address=cluster.address, replicas=2))
    assert (local.done, served.done) == (len(NAMES), len(NAMES))
    assert len(server.requests) == 2 * len(NAMES)
    expected = store_lines(describe_store("Tiny-VL", "S1", tmp_path / "local").path)
    got = store_lines(describe_store("Tiny-VL", "S1", tmp_path / "ray").path)
    assert sorted(got, key=lambda r: r["name"]) == sorted(expected, key=lambda r: r["name"])  # keys, payloads
    assert {r["raw"] for r in got} == {"4 parts"}  # 2 frames, the audio and the text
    wait_for_full_cluster(CLUSTER_CPUS)


INTERRUPTED_RUN = textwrap.dedent("""
    import signal
    import sys
    from ray_helpers import TracedAdapter
    from ovmer.describe.runner import run_describe
    from ovmer.engines.ray_engine import RayEngine

    data, out, calls_file, address = sys.argv[1:]
    # Ctrl-C as in a terminal, even when the test runner was started in the background (which ignores SIGINT
    # and passes that on to its children).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    engine = RayEngine(address=address, replicas=2, cpus_per_replica=0.5)
    try:
        # 1 s a sample: after the first records land, 20 s of work remain for the Ctrl-C to cut short
        # even on a loaded machine.
        run_describe(TracedAdapter(calls_file, delay=1.0), "S0", data, store_root=out, engine=engine,
                     progress=False)
    except KeyboardInterrupt:
        sys.exit(130)
""")


def test_ctrl_c_keeps_what_finished_and_the_rerun_computes_only_the_rest(cluster, tmp_path):
    from media_helpers import make_mer2025_layout

    names = [f"sample_{i:08d}" for i in range(1, 49)]
    data = make_mer2025_layout(tmp_path / "data", names, with_audio_files=False, with_faces=False)
    out, first_calls = tmp_path / "out", tmp_path / "first-calls.txt"
    store = describe_store("test-traced-video", "S0", out)
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED_RUN)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(script), str(data), str(out), str(first_calls), cluster.address],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (store.path.exists() and len(store.path.read_text().splitlines()) >= 4):
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the interrupted run never got going"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, output
    wait_for_full_cluster(CLUSTER_CPUS)  # Ctrl-C stopped the replicas
    kept = store_lines(store.path)
    finished = {r["name"] for r in kept}
    assert 4 <= len(kept) < len(names) and len(finished) == len(kept)
    assert all(r["status"] == "ok" for r in kept)

    again_calls = tmp_path / "again-calls.txt"
    summary = run_describe(TracedAdapter(again_calls), "S0", data, store_root=out, progress=False,
                           engine=RayEngine(replicas=2, cpus_per_replica=0.5))
    assert (summary.done, summary.skipped, summary.failed) == (len(names) - len(kept), len(kept), 0)
    recomputed = [name for name, _, _ in calls(again_calls)]
    assert sorted(recomputed) == sorted(set(names) - finished)  # the model ran for the missing ones only
    assert len({pid for _, pid, _ in calls(again_calls)} - {os.getpid()}) >= 1  # in replicas, not here
    final = store_lines(store.path)
    assert final[: len(kept)] == kept  # finished records untouched
    assert sorted(r["name"] for r in final) == sorted(names)  # every sample exactly once
    assert run_describe(TracedAdapter(tmp_path / "none.txt"), "S0", data, store_root=out, progress=False,
                        engine=RayEngine(replicas=2)).skipped == len(names)
    assert calls(tmp_path / "none.txt") == []  # a finished run computes nothing (and starts no replica)
    wait_for_full_cluster(CLUSTER_CPUS)


def test_a_replica_too_big_for_the_cluster_is_a_clear_error(cluster, clips, tmp_path):
    from ovmer.errors import OvmerError

    with pytest.raises(OvmerError, match=r"each replica asks for 1 GPU\(s\) but the Ray cluster has 0"):
        run_describe(TracedAdapter(tmp_path / "calls.txt"), "S0", clips, store_root=tmp_path, progress=False,
                     engine=RayEngine(gpus_per_replica=1))
    assert calls(tmp_path / "calls.txt") == []
    assert Path(describe_store("test-traced-video", "S0", tmp_path).path).exists() is False


def test_replicas_that_cannot_start_stop_the_run_with_the_reason(cluster, tmp_path):
    from ray_helpers import UnbuildableWorker

    from ovmer.engines import StageWork, run_work
    from ovmer.errors import OvmerError
    from ovmer.store.jsonl import ResultsStore
    from ovmer.store.runner import WorkItem

    store = ResultsStore(tmp_path / "store.jsonl")
    with pytest.raises(OvmerError, match=r"no replica is alive.*cannot be rebuilt on a replica"):
        run_work(store, [WorkItem("a", "k")], StageWork(UnbuildableWorker()), RayEngine(replicas=2),
                 progress=False)
    assert not store.path.exists()
    wait_for_full_cluster(CLUSTER_CPUS)


def test_the_slurm_examples_are_valid_bash():
    for script in sorted((TESTS.parent / "examples" / "slurm").glob("*.sbatch")):
        checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, f"{script.name}: {checked.stderr}"
        assert "ovmer describe" in script.read_text()
