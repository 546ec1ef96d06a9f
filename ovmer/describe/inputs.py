"""What a describe run gives the model for each sample: keyed work items, then the decoded chat.

:func:`prepare_items` is cheap (it hashes files and decodes nothing): one keyed
:class:`~ovmer.store.runner.WorkItem` per sample, so finished samples are skipped
before any media is read. :func:`build_message` decodes a sample's media by the
baseline's frame policy and makes its :class:`~ovmer.messages.Chat`: the
prompt's system turn, then a user turn of the media, the subtitle and the
instruction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ovmer.data.mer2025 import SUBTITLE_CSV, MediaKind, MER2025Layout, MER2025Sample
from ovmer.describe.adapter import BaselineSpec
from ovmer.describe.media import MediaError, load_audio, load_faces, load_video_frames
from ovmer.describe.prompts import RenderedPrompt
from ovmer.keys import FileIdentities, describe_key
from ovmer.messages import AudioPart, Chat, Part, VideoPart
from ovmer.settings import Setting
from ovmer.store.runner import WorkItem

Visual = Literal["frames", "faces"]
PromptRenderer = Callable[[Setting, frozenset[str], str | None], RenderedPrompt]


@dataclass(frozen=True)
class DescribeItem:
    """What one sample needs at compute time (decoding happens then, not when keys are made)."""

    sample: MER2025Sample
    prompt: RenderedPrompt
    subtitle: str | None
    problems: tuple[str, ...] = ()  # why it cannot run (missing media, no subtitle row): an error record


def input_problems(item: DescribeItem) -> str | None:
    """The sample's problems in one message, or None when it can run."""
    return f"{item.sample.name}: " + "; ".join(item.problems) if item.problems else None


def media_kinds(spec: BaselineSpec, visual: Visual = "frames") -> list[MediaKind]:
    """Which files of a sample the baseline reads."""
    kinds: list[MediaKind] = []
    if "video" in spec.modalities:
        kinds.append("face" if visual == "faces" else "video")
    if "audio" in spec.modalities:
        kinds.append("audio")
    return kinds


def media_paths(sample: MER2025Sample, kinds: Iterable[MediaKind]) -> dict[str, Path | None]:
    """kind -> the file read for it (audio falls back to the clip's own track)."""
    out: dict[str, Path | None] = {}
    for kind in kinds:
        if kind == "audio":
            out[kind] = sample.audio if sample.audio is not None else sample.video
        else:
            out[kind] = sample.media(kind)
    return out


def prepare_items(
    spec: BaselineSpec,
    setting: Setting,
    layout: MER2025Layout,
    names: Sequence[str],
    *,
    model: dict[str, Any],
    generation: dict[str, object],
    render_prompt: PromptRenderer,
    visual: Visual = "frames",
    subtitle_language: Literal["english", "chinese"] = "english",
    runner: str = "native",
    extra: dict[str, Any] | None = None,
) -> list[WorkItem]:
    """One work item per sample, keyed; cheap (hashes files, decodes nothing)."""
    identities = FileIdentities()
    kinds = media_kinds(spec, visual)
    modalities = frozenset(spec.modalities)
    items: list[WorkItem] = []
    for name in names:
        sample = layout[name]
        subtitle = None
        problems = list(layout.problems.get(name, ()))
        if setting is Setting.SUBTITLE:
            subtitle = sample.subtitle(subtitle_language) or ""
            if not sample.subtitle_row:  # an empty cell is an empty subtitle; no row is a gap in the csv
                problems.append(
                    f"no row in {layout.root / SUBTITLE_CSV} (setting subtitle needs one; an empty cell is fine)"
                )
        prompt = render_prompt(setting, modalities, subtitle)
        media = {kind: identities(path) for kind, path in media_paths(sample, kinds).items()}
        key = describe_key(
            baseline=spec.name,
            model=model,
            prompt=prompt,
            generation=generation,
            frames=spec.frame_policy,
            visual=visual,
            media=media,
            setting=setting,
            runner=runner,
            extra=extra,
        )
        items.append(WorkItem(name, key, DescribeItem(sample, prompt, subtitle, tuple(problems))))
    return items


def build_message(
    item: DescribeItem,
    spec: BaselineSpec,
    *,
    visual: Visual = "frames",
    max_side: int | None = None,
) -> Chat:
    """Decoded media, subtitle and instruction for one sample (raises MediaError naming a bad file)."""
    sample = item.sample
    problem = input_problems(item)
    if problem is not None:
        raise MediaError(problem)
    parts: list[Part] = []
    paths = media_paths(sample, media_kinds(spec, visual))
    for kind, path in paths.items():
        if path is None:
            raise MediaError(f"{sample.name}: no {kind} file for this sample")
        part: VideoPart | AudioPart
        if kind == "video":
            part = load_video_frames(path, spec.frame_policy, max_side=max_side)
        elif kind == "face":
            part = load_faces(path, spec.frame_policy)
        else:
            part = load_audio(path)
        parts.append(part)
    return Chat.user(
        [*parts, *item.prompt.parts],
        system=item.prompt.system,
        name=sample.name,
        meta={"prompt_id": item.prompt.id, "media": {k: str(v) for k, v in paths.items()}},
    )
