"""The transformers backend on a tiny random Qwen2 chat model built offline (no download)."""

from __future__ import annotations

from pathlib import Path

import pytest
from llm_helpers import build_tiny_chat_model

from ovmer.errors import OvmerError
from ovmer.llm import ChatMessage, GenerationSettings, get_preset

pytest.importorskip("transformers")
pytestmark = pytest.mark.slow

SHORT = GenerationSettings(max_new_tokens=6)
CONVERSATIONS = [
    [ChatMessage("user", "She smiles, cheerful.")],
    [
        ChatMessage("system", "You are an expert in human emotions."),
        ChatMessage("user", "The man frowns and speaks in a low voice; he seems angry and disappointed."),
    ],
    [ChatMessage("user", "happy, sad")],
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_chat_model(tmp_path_factory.mktemp("models") / "tiny-qwen2-chat")


@pytest.fixture(scope="module")
def backend(tiny_model: Path):
    from ovmer.llm.transformers_backend import TransformersBackend

    return TransformersBackend(str(tiny_model), device="cpu", dtype="float32", batch_size=3)


def test_chat_template_renders_the_conversation(backend) -> None:
    text = backend.render(CONVERSATIONS[1])
    assert text == (
        "<|im_start|>system\nYou are an expert in human emotions.<|im_end|>\n"
        "<|im_start|>user\nThe man frowns and speaks in a low voice; he seems angry and disappointed."
        "<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert backend.model_id == "tiny-qwen2-chat"
    assert len(backend.revision) == 16


def test_greedy_batches_are_left_padded_and_repeatable(backend, tiny_model: Path) -> None:
    from ovmer.llm.transformers_backend import TransformersBackend

    first = backend.generate(CONVERSATIONS, SHORT)
    second = backend.generate(CONVERSATIONS, SHORT)
    assert first == second
    assert len(first) == 3 and all(isinstance(reply, str) for reply in first)
    assert any(reply for reply in first)
    # Prompts of different lengths share one padded batch; left padding makes each
    # reply equal to the one generated for its prompt alone.
    one_by_one = TransformersBackend(str(tiny_model), device="cpu", dtype="float32", batch_size=1)
    assert one_by_one.generate(CONVERSATIONS, SHORT) == first
    assert backend._tokenizer.padding_side == "left"


def test_sampling_with_a_seed_is_reproducible_and_differs_from_greedy(backend) -> None:
    sampled = get_preset("paper").replace(max_new_tokens=12, seed=3)
    # A random model's distribution is nearly flat, so sampling wanders away from greedy.
    first = backend.generate(CONVERSATIONS, sampled)
    assert backend.generate(CONVERSATIONS, sampled) == first
    assert first != backend.generate(CONVERSATIONS, SHORT.replace(max_new_tokens=12))


def test_extract_stage_through_the_model_stores_raw_and_parsed(backend, tmp_path: Path) -> None:
    from ovmer.extract import run_extract
    from ovmer.labels import parse_labels
    from ovmer.store import ResultsStore, store_path

    texts = {"a": "She smiles, cheerful.", "b": "He frowns, angry.", "c": ""}
    summary = run_extract(
        "tiny", "S0", backend=backend, settings=SHORT, store_root=tmp_path, descriptions=texts, progress=False
    )
    assert summary.done + summary.failed == 3
    records = ResultsStore(store_path("extract", "tiny", "S0", tmp_path)).latest()
    assert records["c"].ok and records["c"].value == [] and records["c"].meta["rule"] == "empty-description"
    for name in ("a", "b"):
        record = records[name]
        if record.ok:
            assert record.raw and record.value == parse_labels(record.raw)
            assert (
                record.meta["model"] == "tiny-qwen2-chat" and record.meta["prompt_id"] == "extract-labels-v1"
            )
        else:
            assert "empty reply" in record.error
    again = run_extract(
        "tiny", "S0", backend=backend, settings=SHORT, store_root=tmp_path, descriptions=texts, progress=False
    )
    assert again.skipped == summary.done and again.done + again.failed == summary.failed


def test_not_a_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    from ovmer.llm.transformers_backend import TransformersBackend

    with pytest.raises(OvmerError, match="no config.json"):
        TransformersBackend(str(tmp_path))
