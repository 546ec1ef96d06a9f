"""The one prompt store: every shipped prompt by id and sha256, both file forms, lookups by stage name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ovmer.errors import OvmerError
from ovmer.messages import ChatMessage
from ovmer.prompts import CURRENT_PROMPTS, PROMPT_DIR, USER, available_prompts, load_prompt, parse_prompt

# The sha256 that store keys of records made with each prompt hold: a changed value redoes all of them.
SHIPPED = {
    "describe-audio-v1": "5ce90de3184d15f789037f10a5756c580f424cd6731e3726a10bb87ca0d9425c",
    "describe-audiovideo-v1": "1dbc115f91f040c9bf962d893796823121d193b34b27e205ce9c79d2e7eef045",
    "describe-video-v1": "0c0f3a50845aeeafa9c46cae2a973cb87c010aeba658afb44182ec4239d14027",
    "extract-labels-v1": "2e0d5f3e2fbc8ca5eabe88a1db6686a308c887076ebecd96f2864b560e4db2ad",
    "group-synonyms-v1": "0098192607cb97cb0dffdcea25f4de4d78ca7f894e16829e2de3b1cbbdd27f1a",
    "merge-clues-v1": "efe1478a6cbe88058c2faf2f0f3070cd83127943580469ddb028499076add22d",
}


def test_every_shipped_prompt_keeps_its_id_and_sha256() -> None:
    assert available_prompts() == sorted(SHIPPED)
    for prompt_id, sha in SHIPPED.items():
        prompt = load_prompt(prompt_id)
        raw = (PROMPT_DIR / f"{prompt_id}.txt").read_bytes()
        # the bytes (how describe keys hashed it) and the text (how the LLM stages did) agree
        assert prompt.id == prompt_id and prompt.sha256 == sha == hashlib.sha256(raw).hexdigest()
        assert prompt.identity() == {"prompt_id": prompt_id, "prompt_sha256": sha}


def test_current_prompts_are_looked_up_by_stage_name() -> None:
    for name, prompt_id in CURRENT_PROMPTS.items():
        assert load_prompt(name) is load_prompt(prompt_id)
    assert set(load_prompt("describe-video").sections) == {"system", "instruction", "subtitle"}
    assert set(load_prompt("extract").sections) == {USER}


def test_a_plain_file_is_one_user_turn_with_placeholders(tmp_path: Path) -> None:
    path = tmp_path / "ask-v1.txt"
    path.write_text("Say {word} twice.\n\n--not a section\n")
    prompt = parse_prompt(path)
    assert prompt.sections == {USER: prompt.text} and prompt.placeholders == ("word",)
    assert prompt.render(word="{x}") == "Say {x} twice.\n\n--not a section\n"
    assert prompt.messages(word="hi") == [ChatMessage("user", "Say hi twice.\n\n--not a section\n")]


def test_a_sectioned_file_gives_a_system_turn(tmp_path: Path) -> None:
    path = tmp_path / "ask-v2.txt"
    path.write_text("# a comment\n--- system\n  Be brief.  \n--- user\nSay {word}.\n")
    prompt = parse_prompt(path)
    assert prompt.sections == {"system": "Be brief.", "user": "Say {word}."}
    assert prompt.messages(word="hi") == [ChatMessage("system", "Be brief."), ChatMessage("user", "Say hi.")]
    with pytest.raises(OvmerError, match="has no section 'instruction'"):
        prompt.section("instruction")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no newline at the end", "exactly one newline"),
        ("two newlines\n\n", "exactly one newline"),
        ("--- user\na\n--- user\nb\n", "appears twice"),
        ("stray\n--- user\na\n", "before the first"),
    ],
)
def test_malformed_files_are_refused_naming_the_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "bad-v1.txt"
    path.write_text(text)
    with pytest.raises(OvmerError, match=problem) as info:
        parse_prompt(path)
    assert "bad-v1.txt" in str(info.value)


def test_unknown_prompts_get_a_did_you_mean() -> None:
    with pytest.raises(OvmerError, match="unknown prompt 'merge-clue-v1'. Did you mean 'merge-clues-v1'"):
        load_prompt("merge-clue-v1")
