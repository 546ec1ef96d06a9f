"""The merge stage: S0 description + subtitle -> merged description, stored as setting S2.

Edge rules, settled without an LLM call: an empty subtitle keeps the
description as it is; an empty description and an empty subtitle give the
fixed :data:`UNABLE_TO_JUDGE` text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ovmer.engines import Engine
from ovmer.errors import OvmerError
from ovmer.llm.client import LLMBackend
from ovmer.llm.inputs import as_mapping, clean, load_subtitles, select_names, stage_descriptions
from ovmer.llm.presets import GenerationSettings, get_preset
from ovmer.llm.text_stage import TextStage, TextTask
from ovmer.prompts import PromptTemplate, load_prompt
from ovmer.settings import Setting
from ovmer.store import StageSummary

UNABLE_TO_JUDGE = "There are no clues and no subtitle, so the characters' emotional states cannot be judged."
STAGE = "merge"


def merge_tasks(
    descriptions: Mapping[str, str],
    subtitles: Mapping[str, str],
    names: Sequence[str],
    prompt: PromptTemplate,
) -> list[TextTask]:
    """One task per sample; the edge rules settle some without a call."""
    missing = [n for n in names if n not in subtitles]
    if missing:
        raise OvmerError(
            f"no subtitle row for {len(missing)} sample(s), e.g. {missing[:5]}; give a subtitle file "
            "with a row (possibly empty) for every sample"
        )
    tasks = []
    for name in names:
        description, subtitle = clean(descriptions[name]), clean(subtitles[name])
        if not subtitle and not description:
            tasks.append(TextTask.settled(name, "nothing-to-merge", UNABLE_TO_JUDGE, ""))
        elif not subtitle:
            tasks.append(TextTask.settled(name, "no-subtitle", description, description))
        else:
            messages = prompt.messages(description=description, subtitle=subtitle)
            tasks.append(TextTask(name, tuple(messages)))
    return tasks


def _merged_text(raw: str, name: str) -> str:
    return raw.strip()


def run_merge(
    baseline: str,
    *,
    backend: str | LLMBackend,
    model: str | None = None,
    settings: GenerationSettings | str | None = None,
    store_root: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    names: Sequence[str] | None = None,
    source: str = "auto",
    descriptions: Mapping[str, str] | str | os.PathLike[str] | None = None,
    subtitles: Mapping[str, str] | str | os.PathLike[str] | None = None,
    prompt: str = STAGE,
    batch_size: int = 8,
    progress: bool = True,
    backend_options: dict[str, Any] | None = None,
    engine: str | Engine | None = None,
) -> StageSummary:
    """Merge ``baseline``'s nosubtitle descriptions with the subtitles into store stage ``merge`` (S2).

    Descriptions come from ``descriptions`` (a mapping or file) or else from
    the store/released files (``source``); subtitles from ``subtitles`` or
    OV-MERD's English subtitles.
    """
    settings = get_preset(settings)
    template = load_prompt(prompt)
    if descriptions is not None:
        texts, origin = (
            as_mapping(descriptions),
            "given" if isinstance(descriptions, Mapping) else str(descriptions),
        )
    else:
        texts, origin = stage_descriptions(baseline, Setting.NOSUBTITLE, source, store_root)
    subtitle_table = (
        load_subtitles(None)
        if subtitles is None
        else subtitles
        if isinstance(subtitles, Mapping)
        else load_subtitles(subtitles)
    )
    chosen = select_names(list(texts), names, limit, origin)
    tasks = merge_tasks(texts, subtitle_table, chosen, template)
    job = TextStage.open(
        STAGE, baseline, Setting.NOSUBTITLE_ADDSUB, backend=backend, model=model,
        backend_options=backend_options, prompt=template, settings=settings, store_root=store_root,
    )
    return job.run(
        tasks, _merged_text, batch_size=batch_size, progress=progress, meta={"baseline": baseline, "input": origin},
        engine=engine,
    )
