"""Versioned describe prompts for the paper's two prompt settings.

The texts live in ``prompt_texts/<id>.txt`` (one file per modality variant and
version); a prompt is identified by its id and the sha256 of its file, so a
changed text can never pass for an old one. Settings:

- ``nosubtitle`` (S0): the emotion-expert instruction alone;
- ``subtitle`` (S1): the subtitle content first, then the same instruction.

``nosubtitle-addsub`` (S2) is not a describe prompt: the clue-merging stage
makes it from the S0 description and the subtitle.

Variants follow the media the model reads: video-only models are pointed at
faces, body movements and the scene, audio-only models at acoustic cues, and
audio+video models at both.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ovmer.errors import OvmerError
from ovmer.settings import Setting

PROMPT_DIR = Path(__file__).resolve().parent / "prompt_texts"

# The prompt each modality variant uses now; bump the id (never edit a released file) to change a text.
CURRENT_PROMPTS: dict[str, str] = {
    "video": "describe-video-v1",
    "audio": "describe-audio-v1",
    "audiovideo": "describe-audiovideo-v1",
}

_SECTIONS = ("system", "instruction", "subtitle")
_SECTION_LINE = re.compile(r"^--- (\w+)\s*$")
SUBTITLE_FIELD = "{subtitle}"


@dataclass(frozen=True)
class PromptTemplate:
    """One prompt file: its sections and the sha256 of its bytes."""

    id: str
    sha256: str
    system: str
    instruction: str
    subtitle: str  # contains ``{subtitle}`` exactly once
    path: Path


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready for a model: ``system`` for the system turn, ``text`` for the user turn."""

    id: str
    sha256: str
    system: str
    text: str


def parse_prompt_template(path: Path) -> PromptTemplate:
    raw = path.read_bytes()
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        match = _SECTION_LINE.match(line)
        if match:
            current = match.group(1)
            if current not in _SECTIONS:
                raise OvmerError(f"{path}:{number}: unknown section {current!r}; expected one of {_SECTIONS}")
            if current in sections:
                raise OvmerError(f"{path}:{number}: section {current!r} appears twice")
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
        elif line.strip() and not line.startswith("#"):
            raise OvmerError(f"{path}:{number}: text before the first '--- <section>' line")
    texts = {name: "\n".join(lines).strip() for name, lines in sections.items()}
    missing = [name for name in _SECTIONS if not texts.get(name)]
    if missing:
        raise OvmerError(f"{path}: missing or empty section(s): {', '.join(missing)}")
    if texts["subtitle"].count(SUBTITLE_FIELD) != 1:
        raise OvmerError(f"{path}: the subtitle section must contain {SUBTITLE_FIELD} exactly once")
    return PromptTemplate(
        id=path.stem,
        sha256=hashlib.sha256(raw).hexdigest(),
        system=texts["system"],
        instruction=texts["instruction"],
        subtitle=texts["subtitle"],
        path=path,
    )


@cache
def load_prompt_template(prompt_id: str) -> PromptTemplate:
    """The template ``prompt_texts/<prompt_id>.txt``."""
    path = PROMPT_DIR / f"{prompt_id}.txt"
    if not path.is_file():
        known = ", ".join(available_prompts())
        raise OvmerError(f"no prompt {prompt_id!r} (looked for {path}); available: {known}")
    return parse_prompt_template(path)


def available_prompts() -> list[str]:
    """Ids of every prompt file shipped with the package."""
    return sorted(p.stem for p in PROMPT_DIR.glob("*.txt"))


def prompt_variant(modalities: Iterable[str]) -> str:
    """``audio``, ``video`` or ``audiovideo`` from a model's modalities (text is always there)."""
    media = set(modalities)
    unknown = media - {"audio", "video", "text"}
    if unknown:
        raise OvmerError(f"unknown modalities {sorted(unknown)}; expected audio, video and/or text")
    if {"audio", "video"} <= media:
        return "audiovideo"
    if "video" in media:
        return "video"
    if "audio" in media:
        return "audio"
    raise OvmerError("a describe prompt needs audio or video: text-only input belongs to the clue-merging stage")


def describe_setting(setting: Setting | str) -> Setting:
    """``setting`` parsed for the describe stage, which makes S0 and S1 only.

    S2 (``nosubtitle-addsub``) is refused: the clue-merging stage makes it from
    the ``nosubtitle`` descriptions and the subtitles.
    """
    parsed = Setting.parse(setting)  # SettingError (an OvmerError) names the choices
    if parsed is Setting.NOSUBTITLE_ADDSUB:
        raise OvmerError(
            "setting 'nosubtitle-addsub' (S2) has no describe prompt: it is made by the clue-merging stage "
            "from the 'nosubtitle' description and the subtitle; describe with 'nosubtitle' first, "
            "then run the merge stage"
        )
    return parsed


def render_describe_prompt(
    setting: Setting | str, modalities: Iterable[str], subtitle: str | None = None
) -> RenderedPrompt:
    """The describe prompt for ``setting`` and a model reading ``modalities``.

    ``subtitle`` is required (it may be empty) in the ``subtitle`` setting and
    ignored in ``nosubtitle``.
    """
    parsed = describe_setting(setting)
    template = load_prompt_template(CURRENT_PROMPTS[prompt_variant(modalities)])
    if parsed is Setting.NOSUBTITLE:
        text = template.instruction
    else:
        if subtitle is None:
            raise OvmerError("the 'subtitle' setting needs the sample's subtitle, got None")
        # One line, so the subtitle cannot smuggle in its own paragraph structure.
        one_line = " ".join(str(subtitle).split())
        text = template.subtitle.replace(SUBTITLE_FIELD, one_line) + "\n" + template.instruction
    return RenderedPrompt(id=template.id, sha256=template.sha256, system=template.system, text=text)
