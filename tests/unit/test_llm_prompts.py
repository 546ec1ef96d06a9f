"""Prompt resources, presets and the backend registry (no model needed)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from ovmer.errors import OvmerError
from ovmer.llm import PRESETS, ChatMessage, GenerationSettings, backend_class, get_preset, load_prompt
from ovmer.llm.prompts import STAGE_PROMPTS, available_prompts

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "llm_prompts.json"
SAMPLE_VALUES = {
    "merge-clues-v1": {
        "description": "The woman's brows are knit {tight} and she speaks quickly.",
        "subtitle": "Why did you not tell me earlier?",
    },
    "extract-labels-v1": {"description": "He laughs loudly; he is clearly happy and relieved."},
    "group-synonyms-v1": {"labels": "[happy, joyful, relieved, sad]"},
}


def rendered_snapshot() -> dict[str, dict[str, str]]:
    out = {}
    for prompt_id in available_prompts():
        prompt = load_prompt(prompt_id)
        out[prompt_id] = {"sha256": prompt.sha256, "rendered": prompt.render(**SAMPLE_VALUES[prompt_id])}
    return out


def test_rendered_prompts_match_the_snapshot() -> None:
    """A prompt change must show up in review: update with OVMER_UPDATE_SNAPSHOTS=1 and commit the diff."""
    current = rendered_snapshot()
    if os.environ.get("OVMER_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert json.loads(SNAPSHOT.read_text(encoding="utf-8")) == current


def test_every_stage_prompt_exists_and_is_fingerprinted() -> None:
    assert set(STAGE_PROMPTS.values()) <= set(available_prompts())
    for stage, prompt_id in STAGE_PROMPTS.items():
        prompt = load_prompt(stage)
        assert prompt.id == prompt_id and prompt.id.endswith("-v1")
        assert prompt.sha256 == hashlib.sha256(prompt.text.encode()).hexdigest()
    assert load_prompt("extract").placeholders == ("description",)
    assert load_prompt("merge").placeholders == ("description", "subtitle")
    assert load_prompt("group").placeholders == ("labels",)


def test_extraction_prompt_carries_the_papers_intent() -> None:
    text = load_prompt("extract").text
    assert "most detailed clues" in text and "[]" in text
    assert "Output: [cheerful, excited, proud]" in text


def test_render_inserts_values_verbatim_and_checks_names() -> None:
    prompt = load_prompt("extract")
    messages = prompt.messages(description="a {brace} and $dollar")
    assert messages == [ChatMessage("user", prompt.text.replace("{description}", "a {brace} and $dollar"))]
    with pytest.raises(OvmerError, match=r"missing value\(s\) \['description'\]"):
        prompt.render()
    with pytest.raises(OvmerError, match=r"unknown value\(s\) \['subtitle'\]"):
        prompt.render(description="x", subtitle="y")
    with pytest.raises(OvmerError, match="did you mean 'extract-labels-v1'"):
        load_prompt("extract-label-v1")


def test_presets() -> None:
    paper = PRESETS["paper"]
    assert (
        paper.do_sample,
        paper.temperature,
        paper.top_p,
        paper.repetition_penalty,
        paper.max_new_tokens,
    ) == (True, 0.7, 0.8, 1.05, 512)
    assert get_preset() == PRESETS["deterministic"] and not get_preset().do_sample
    assert get_preset().as_dict() == {"do_sample": False, "repetition_penalty": 1.0, "max_new_tokens": 512}
    assert paper.as_dict()["temperature"] == 0.7
    assert get_preset("paper").replace(max_new_tokens=64, seed=None).max_new_tokens == 64
    with pytest.raises(OvmerError, match="did you mean 'paper'"):
        get_preset("papr")
    with pytest.raises(OvmerError, match="top_p"):
        GenerationSettings(top_p=0)


def test_registry_and_messages() -> None:
    assert backend_class("openai").__name__ == "OpenAIBackend"
    with pytest.raises(OvmerError, match="did you mean 'transformers'"):
        backend_class("transfomers")
    with pytest.raises(OvmerError, match="role"):
        ChatMessage("robot", "hi")  # type: ignore[arg-type]


def test_vllm_backend_reports_a_missing_vllm_clearly() -> None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vllm is installed here")
    from ovmer.llm.vllm_backend import VLLMBackend

    backend = VLLMBackend("/models/Qwen2.5-7B-Instruct")
    assert backend.model_id == "Qwen2.5-7B-Instruct"
    with pytest.raises(OvmerError, match=r"needs the `vllm` package.*--backend openai"):
        backend.generate([[ChatMessage("user", "hi")]], get_preset())
