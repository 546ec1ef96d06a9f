"""The group stage: for each sample, ground-truth ∪ predicted labels -> synonym groups.

Each reply is stored in store stage ``group`` (raw text apart from the parsed
groups) and then written to the grouping cache that the GPT-grouping metric
reads. Samples whose label set the cache already holds are not asked again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ovmer.data import load_ovmerd
from ovmer.data.name_values import PREDICTION_FILES, read_name_values
from ovmer.data.released import RELEASED_BASELINES
from ovmer.engines import Engine
from ovmer.errors import OvmerError
from ovmer.labels import format_labels, parse_labels
from ovmer.llm.client import LLMBackend, ReplyError
from ovmer.llm.inputs import select_names
from ovmer.llm.presets import DEFAULT_MAX_NEW_TOKENS, GenerationSettings, ReplyLimit, get_preset
from ovmer.llm.text_stage import TextStage, TextTask
from ovmer.paths import cache_dir
from ovmer.prompts import PromptTemplate, load_prompt
from ovmer.registry import did_you_mean
from ovmer.scoring.grouping import GroupingCache, parse_groups
from ovmer.settings import Setting
from ovmer.store import StageSummary, store_path

STAGE = "group"
# The reply is one list of lists: by default it ends at the first "]]" (kept); a dozen quoted
# labels take about 60 tokens.
REPLY = ReplyLimit(max_new_tokens=256, stop=("]]",), extend_to=DEFAULT_MAX_NEW_TOKENS)


def group_labels(ground_truth: Sequence[str], predicted: Sequence[str]) -> list[str]:
    """The label set to group: the union, sorted so that the same set always gives the same prompt."""
    return sorted(set(parse_labels(list(ground_truth))) | set(parse_labels(list(predicted))))


def read_predictions(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """name -> labels from a ``name, openset`` CSV, an openset npz or an extract-stage store file."""
    path = Path(path).expanduser()
    values = read_name_values(path, PREDICTION_FILES.with_columns(("openset", "labels", "prediction")))
    return {n: parse_labels(v, where=f"{path}: {n}") for n, v in values.items()}


def stored_predictions(
    baseline: str, setting: Setting, root: str | os.PathLike[str] | None
) -> dict[str, list]:
    path = store_path("extract", baseline, setting, root)
    if not path.is_file():
        stored = [p.name for p in path.parent.parent.iterdir() if p.is_dir()] if path.parent.parent.is_dir() else []
        raise OvmerError(
            f"{path}: no extracted labels for {baseline}/{setting.value}; run `ovmer extract` first."
            + did_you_mean(baseline, [*RELEASED_BASELINES, *stored], n=3, loose=True)
        )
    return read_predictions(path)


def default_cache(model_id: str) -> GroupingCache:
    """The grouping cache of one model: ``<data cache>/groupings/<model id, file-safe>.jsonl``."""
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_id)
    return GroupingCache(cache_dir() / "groupings" / f"{slug}.jsonl")


def run_group(
    baseline: str,
    setting: Setting | str = Setting.NOSUBTITLE_ADDSUB,
    *,
    backend: str | LLMBackend,
    model: str | None = None,
    settings: GenerationSettings | str | None = None,
    store_root: str | os.PathLike[str] | None = None,
    predictions: Mapping[str, Sequence[str]] | str | os.PathLike[str] | None = None,
    ground_truth: Mapping[str, Sequence[str]] | None = None,
    cache: GroupingCache | str | os.PathLike[str] | None = None,
    limit: int | None = None,
    names: Sequence[str] | None = None,
    prompt: str = STAGE,
    batch_size: int = 8,
    progress: bool = True,
    backend_options: dict[str, Any] | None = None,
    engine: str | Engine | None = None,
) -> StageSummary:
    """Group each sample's ground-truth and predicted labels into synonym groups.

    Predictions come from ``predictions`` (a mapping or a file) or else the
    extract stage of ``baseline``/``setting``; the ground truth defaults to
    OV-MERD's. ``cache`` is a ``GroupingCache`` or a path to one; by default
    one per model in the data folder's cache. Cached label sets are skipped.
    """
    setting = Setting.parse(setting)
    settings = get_preset(settings)
    template: PromptTemplate = load_prompt(prompt)
    if predictions is None:
        predicted = stored_predictions(baseline, setting, store_root)
    elif isinstance(predictions, Mapping):
        predicted = {n: parse_labels(list(v), where=f"predictions: {n}") for n, v in predictions.items()}
    else:
        predicted = read_predictions(predictions)
    if ground_truth is None:
        ground_truth = load_ovmerd().ground_truth
    missing = [n for n in predicted if n not in ground_truth]
    if missing:
        raise OvmerError(f"no ground truth for {len(missing)} predicted sample(s), e.g. {missing[:5]}")
    chosen = select_names(list(predicted), names, limit, "predictions")

    job = TextStage.open(
        STAGE, baseline, setting, backend=backend, model=model, backend_options=backend_options,
        prompt=template, settings=settings, store_root=store_root, reply=REPLY,
    )
    if cache is None:
        cache = default_cache(job.backend.model_id)
    elif not isinstance(cache, GroupingCache):
        cache = GroupingCache(cache)

    summary_skipped = 0
    tasks: list[TextTask] = []
    label_sets: dict[str, list[str]] = {}
    for name in chosen:
        labels = group_labels(ground_truth[name], predicted[name])
        label_sets[name] = labels
        if cache.get(name, labels) is not None:
            summary_skipped += 1
            continue
        tasks.append(TextTask(name, tuple(template.messages(labels=format_labels(labels)))))

    def parse(raw: str, name: str) -> list[list[str]]:
        groups = parse_groups(raw)
        if not groups:
            excerpt = " ".join(raw.split())[:120]
            raise ReplyError(f"{name}: no label groups found in the reply (not a list of lists): {excerpt!r}", raw=raw)
        return groups

    summary = job.run(
        tasks, parse, batch_size=batch_size, progress=progress,
        meta={"baseline": baseline, "setting": setting.value}, engine=engine,
    )
    summary.skipped += summary_skipped
    # Fill the cache from the store, so finished replies reach it even after an interrupted run.
    latest = job.store.latest()
    for task in tasks:
        record = latest.get(task.name)
        key = job.key(task.messages)
        if record is not None and record.ok and record.key == key:
            cache.put(task.name, label_sets[task.name], record.value, record.raw)
    return summary
