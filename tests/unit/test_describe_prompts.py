"""Describe prompts: versioned texts, the two settings, per-modality variants, frozen by a snapshot.

Run with ``OVMER_UPDATE_SNAPSHOTS=1`` to rewrite ``tests/snapshots/describe_prompts.json``
after an intended change (a changed text needs a new prompt id as well).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from ovmer.describe.prompts import (
    CURRENT_PROMPTS,
    PROMPT_DIR,
    available_prompts,
    load_prompt_template,
    parse_prompt_template,
    prompt_variant,
    render_describe_prompt,
)
from ovmer.errors import OvmerError
from ovmer.settings import Setting

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "describe_prompts.json"
UPDATE_ENV = "OVMER_UPDATE_SNAPSHOTS"
SUBTITLE = "I told you already,\nI'm not going back there."
MODALITIES = {
    "audio": {"audio", "text"},
    "video": {"video", "text"},
    "audiovideo": {"audio", "video", "text"},
}


def _rendered_prompts() -> dict[str, dict[str, str]]:
    out = {}
    for variant, modalities in MODALITIES.items():
        for setting in ("nosubtitle", "subtitle"):
            out[f"{variant}/{setting}"] = asdict(render_describe_prompt(setting, modalities, subtitle=SUBTITLE))
    return out


def test_rendered_prompts_match_snapshot() -> None:
    rendered = _rendered_prompts()
    if os.environ.get(UPDATE_ENV) == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert SNAPSHOT.is_file(), f"no snapshot at {SNAPSHOT}; run with {UPDATE_ENV}=1 to create it"
    frozen = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert rendered == frozen, f"describe prompts changed; if intended, bump the prompt id and rerun with {UPDATE_ENV}=1"


def test_prompt_id_and_sha_identify_the_file() -> None:
    for variant, prompt_id in CURRENT_PROMPTS.items():
        template = load_prompt_template(prompt_id)
        assert template.id == prompt_id
        assert template.sha256 == hashlib.sha256((PROMPT_DIR / f"{prompt_id}.txt").read_bytes()).hexdigest()
        rendered = render_describe_prompt("nosubtitle", MODALITIES[variant])
        assert (rendered.id, rendered.sha256) == (template.id, template.sha256)
    assert set(CURRENT_PROMPTS.values()) <= set(available_prompts())


def test_subtitle_setting_puts_the_subtitle_before_the_same_instruction() -> None:
    plain = render_describe_prompt(Setting.NOSUBTITLE, MODALITIES["video"])
    with_sub = render_describe_prompt(Setting.SUBTITLE, MODALITIES["video"], subtitle=SUBTITLE)
    assert with_sub.text.endswith("\n" + plain.text)
    first_line = with_sub.text.split("\n")[0]
    # the subtitle is folded onto one line, verbatim otherwise
    assert "I told you already, I'm not going back there." in first_line
    assert "subtitle" in first_line.lower()
    assert "told you" not in plain.text
    assert with_sub.system == plain.system


def test_short_setting_names_and_an_empty_subtitle() -> None:
    assert render_describe_prompt("S0", MODALITIES["audio"]) == render_describe_prompt("nosubtitle", {"audio"})
    empty = render_describe_prompt("S1", MODALITIES["audio"], subtitle="")
    assert '""' in empty.text.split("\n")[0]


def test_nosubtitle_ignores_a_given_subtitle() -> None:
    assert render_describe_prompt("nosubtitle", {"video"}, subtitle=SUBTITLE) == render_describe_prompt(
        "nosubtitle", {"video"}
    )


def test_addsub_is_rejected_and_points_to_clue_merging() -> None:
    for value in ("nosubtitle-addsub", "S2", Setting.NOSUBTITLE_ADDSUB):
        with pytest.raises(OvmerError, match="clue-merging"):
            render_describe_prompt(value, MODALITIES["video"], subtitle=SUBTITLE)


def test_subtitle_setting_needs_a_subtitle_and_settings_are_checked() -> None:
    with pytest.raises(OvmerError, match="needs the sample's subtitle"):
        render_describe_prompt("subtitle", MODALITIES["video"])
    with pytest.raises(OvmerError, match="unknown setting"):
        render_describe_prompt("subtitles", MODALITIES["video"])


def test_variants_follow_the_modalities() -> None:
    assert prompt_variant({"audio", "text"}) == "audio"
    assert prompt_variant(["video"]) == "video"
    assert prompt_variant(frozenset({"video", "audio", "text"})) == "audiovideo"
    with pytest.raises(OvmerError, match="clue-merging"):
        prompt_variant({"text"})
    with pytest.raises(OvmerError, match="unknown modalities"):
        prompt_variant({"video", "depth"})


def test_each_variant_names_its_own_clues() -> None:
    audio = render_describe_prompt("nosubtitle", MODALITIES["audio"]).text.lower()
    video = render_describe_prompt("nosubtitle", MODALITIES["video"]).text.lower()
    both = render_describe_prompt("nosubtitle", MODALITIES["audiovideo"]).text.lower()
    for text in (audio, video, both):
        assert "expert" in text and "emotional state" in text and "detail" in text
    for cue in ("facial expressions", "body movements", "environment"):
        assert cue in video and cue in both and cue not in audio
    for cue in ("tone", "pitch", "voice"):
        assert cue in audio and cue in both and cue not in video


GOOD_TEMPLATE = "--- system\nS\n--- instruction\nI\n--- subtitle\nSub: {subtitle}\n"


def test_a_well_formed_template_parses(tmp_path: Path) -> None:
    path = tmp_path / "describe-test-v1.txt"
    path.write_text("# comment\n" + GOOD_TEMPLATE)
    template = parse_prompt_template(path)
    assert (template.id, template.system, template.instruction, template.subtitle) == (
        "describe-test-v1", "S", "I", "Sub: {subtitle}")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("--- system\nS\n--- instruction\nI\n", "missing or empty section"),
        (GOOD_TEMPLATE + "--- footer\nx\n", "unknown section 'footer'"),
        (GOOD_TEMPLATE + "--- system\nT\n", "appears twice"),
        (GOOD_TEMPLATE.replace("{subtitle}", "nothing"), "exactly once"),
        ("hello\n" + GOOD_TEMPLATE, "before the first"),
    ],
)
def test_malformed_templates_are_refused_with_the_file_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "describe-test-v1.txt"
    path.write_text(text)
    with pytest.raises(OvmerError, match="describe-test-v1.txt") as info:
        parse_prompt_template(path)
    assert problem in str(info.value)


def test_unknown_prompt_id() -> None:
    with pytest.raises(OvmerError, match="no prompt 'describe-nope'"):
        load_prompt_template("describe-nope")
