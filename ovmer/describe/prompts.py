"""The describe stage's prompts for the paper's two prompt settings, from the one prompt store.

The texts are the ``describe-<variant>-v<N>`` files of :mod:`ovmer.prompts`,
each with a ``system``, an ``instruction`` and a ``subtitle`` section (the
subtitle section holds ``{subtitle}`` once). Settings:

- ``nosubtitle`` (S0): the emotion-expert instruction alone;
- ``subtitle`` (S1): the subtitle content first, then the same instruction.

``nosubtitle-addsub`` (S2) is not a describe prompt: the clue-merging stage
makes it from the S0 description and the subtitle.

Variants follow the media the model reads: video-only models are pointed at
faces, body movements and the scene, audio-only models at acoustic cues, and
audio+video models at both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ovmer.errors import OvmerError
from ovmer.messages import SUBTITLE_FIELD, SubtitlePart, TextPart, part_text
from ovmer.prompts import CURRENT_PROMPTS as STORE_CURRENT
from ovmer.prompts import PROMPT_DIR, PromptTemplate, available_prompts, load_prompt, parse_prompt
from ovmer.settings import Setting

__all__ = [
    "CURRENT_PROMPTS",
    "PROMPT_DIR",
    "SUBTITLE_FIELD",
    "RenderedPrompt",
    "available_prompts",
    "describe_setting",
    "load_prompt_template",
    "parse_prompt_template",
    "prompt_variant",
    "render_describe_prompt",
]

VARIANTS = ("video", "audio", "audiovideo")
# The prompt each modality variant uses now (bump the id in ovmer.prompts to change a text).
CURRENT_PROMPTS: dict[str, str] = {variant: STORE_CURRENT[f"describe-{variant}"] for variant in VARIANTS}
SECTIONS = ("system", "instruction", "subtitle")


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready for a model: ``system`` for the system turn, ``parts`` for the user turn's text.

    ``parts`` is the subtitle (a :class:`~ovmer.messages.SubtitlePart` holding the
    prompt's subtitle line) in the subtitle setting, then the instruction;
    ``text`` is them rendered, one per line: what the store key hashes.
    """

    id: str
    sha256: str
    system: str
    parts: tuple[SubtitlePart | TextPart, ...]

    @property
    def text(self) -> str:
        return "\n".join(part_text(part) or "" for part in self.parts)

    @property
    def subtitle(self) -> str | None:
        return next((p.text for p in self.parts if isinstance(p, SubtitlePart)), None)


def check_describe_template(template: PromptTemplate) -> PromptTemplate:
    """``template`` if it has exactly the describe sections, else an error naming its file."""
    where = template.path or template.id
    unknown = [name for name in template.sections if name not in SECTIONS]
    if unknown:
        raise OvmerError(f"{where}: unknown section {unknown[0]!r}; expected one of {SECTIONS}")
    missing = [name for name in SECTIONS if not template.sections.get(name)]
    if missing:
        raise OvmerError(f"{where}: missing or empty section(s): {', '.join(missing)}")
    if template.sections["subtitle"].count(SUBTITLE_FIELD) != 1:
        raise OvmerError(f"{where}: the subtitle section must contain {SUBTITLE_FIELD} exactly once")
    return template


def parse_prompt_template(path: Path) -> PromptTemplate:
    """The describe prompt in ``path``, checked (see :func:`check_describe_template`)."""
    return check_describe_template(parse_prompt(path))


def load_prompt_template(prompt_id: str) -> PromptTemplate:
    """The describe prompt ``prompt_id`` of the prompt store, checked."""
    return check_describe_template(load_prompt(prompt_id))


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
    parts: tuple[SubtitlePart | TextPart, ...] = (TextPart(template.section("instruction")),)
    if parsed is Setting.SUBTITLE:
        if subtitle is None:
            raise OvmerError("the 'subtitle' setting needs the sample's subtitle, got None")
        parts = (SubtitlePart(str(subtitle), template.section("subtitle")), *parts)
    return RenderedPrompt(id=template.id, sha256=template.sha256, system=template.section("system"), parts=parts)
