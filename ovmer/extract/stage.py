"""The extract stage: descriptions of one baseline and setting -> label lists in store stage ``extract``.

LLM backends get the extraction prompt; their raw reply is stored as ``raw``
and :func:`ovmer.labels.parse_labels` of it as ``value``. The ``cpu`` backend
runs the model-free extractor (loaded or fitted on first use) and stores only
the value, since there is no reply text. An empty description gives ``[]``
without a call.

The prompt asks for one bracketed list and nothing else, so by default a reply
ends at its first ``]`` (kept) within :data:`REPLY` 's token budget: the list is
all :func:`~ovmer.labels.parse_labels` reads of a reply that follows the prompt,
and the chatter a model may add after it costs time for nothing. The ``paper``
preset keeps the authors' 512 tokens without a stop.

:func:`run_extract_repeats` makes K sampled runs (``ovmer extract --repeats K
--seed S``), each in its own store file ``<setting>.seed-<s>.jsonl``, for the
run-to-run spread that :mod:`ovmer.scoring.variance` reports.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from ovmer.engines import Engine, resolve_engine
from ovmer.errors import OvmerError
from ovmer.extract.cpu import load_or_fit
from ovmer.keys import cpu_extract_key, rule_key
from ovmer.labels import label_reply_problem, parse_labels
from ovmer.llm.client import LLMBackend, ReplyError
from ovmer.llm.inputs import as_mapping, clean, select_names, stage_descriptions
from ovmer.llm.presets import DEFAULT_MAX_NEW_TOKENS, GenerationSettings, ReplyLimit, get_preset
from ovmer.llm.registry import resolve_backend
from ovmer.llm.text_stage import BatchResults, TextStage, TextTask
from ovmer.prompts import PromptTemplate, load_prompt
from ovmer.settings import Setting
from ovmer.store import ResultsStore, StageSummary, run_stage, store_path
from ovmer.store.runner import WorkItem

STAGE = "extract"
CPU_BACKEND = "cpu"
CPU_BATCH = 512
# A list of a dozen labels is about 40 tokens; the budget leaves room for a short preamble.
REPLY = ReplyLimit(max_new_tokens=128, stop=("]",), extend_to=DEFAULT_MAX_NEW_TOKENS)


def extract_tasks(texts: Mapping[str, str], names: Sequence[str], prompt: PromptTemplate) -> list[TextTask]:
    tasks = []
    for name in names:
        description = clean(texts[name])
        if not description:
            tasks.append(TextTask.settled(name, "empty-description", [], ""))
        else:
            tasks.append(TextTask(name, tuple(prompt.messages(description=description))))
    return tasks


def cpu_identity(extractor: object) -> str:
    """What names a fitted CPU extractor in store keys (its fingerprint when it has one)."""
    for attribute in ("fingerprint", "version", "model_id"):
        value = getattr(extractor, attribute, None)
        if callable(value):
            value = value()
        if value:
            return f"{type(extractor).__name__}:{value}"
    return type(extractor).__name__


def _run_cpu(
    store: ResultsStore,
    tasks: Sequence[TextTask],
    texts: Mapping[str, str],
    batch_size: int,
    progress: bool,
    meta: dict[str, Any],
) -> StageSummary:
    extractor = load_or_fit()
    identity = cpu_identity(extractor)
    items = []
    for task in tasks:
        if task.rule is not None:
            items.append(WorkItem(task.name, rule_key(STAGE, task.rule, task.inputs), task))
        else:
            description = clean(texts[task.name])
            items.append(WorkItem(task.name, cpu_extract_key(identity, description), description))

    def batch(chunk: Sequence[WorkItem]) -> BatchResults:
        results: BatchResults = [(None, []) for _ in chunk]
        todo = [i for i, item in enumerate(chunk) if not isinstance(item.payload, TextTask)]
        if todo:
            labels = extractor.extract([chunk[i].payload for i in todo])
            for i, found in zip(todo, labels, strict=True):
                results[i] = (None, parse_labels(found, where=f"cpu extractor: {chunk[i].name}"))
        return results

    return run_stage(
        store,
        items,
        desc=f"{STAGE} (cpu)",
        progress=progress,
        meta={**meta, "backend": CPU_BACKEND, "model": identity},
        batch=batch,
        batch_size=max(1, batch_size),
    )


def run_extract(
    baseline: str,
    setting: Setting | str,
    *,
    backend: str | LLMBackend,
    model: str | None = None,
    settings: GenerationSettings | str | None = None,
    store_root: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    names: Sequence[str] | None = None,
    source: str = "auto",
    descriptions: Mapping[str, str] | str | os.PathLike[str] | None = None,
    prompt: str = STAGE,
    batch_size: int | None = None,
    progress: bool = True,
    backend_options: dict[str, Any] | None = None,
    engine: str | Engine | None = None,
    store_seed: int | None = None,
) -> StageSummary:
    """Extract label lists from ``baseline``'s ``setting`` descriptions into store stage ``extract``.

    ``backend`` is ``cpu``, a registered LLM backend name (with ``model``) or
    an :class:`~ovmer.llm.client.LLMBackend`. Descriptions come from
    ``descriptions`` (a mapping or a file) or else the store/released files. ``engine``
    runs the LLM calls here (``local``) or on Ray replicas (``ray``). ``store_seed`` writes the
    store file of that seed's repeated run instead.
    """
    setting = Setting.parse(setting)
    template = load_prompt(prompt)
    if descriptions is not None:
        texts = as_mapping(descriptions)
        origin = "given" if isinstance(descriptions, Mapping) else str(descriptions)
    else:
        texts, origin = stage_descriptions(baseline, setting, source, store_root)
    chosen = select_names(list(texts), names, limit, origin)
    tasks = extract_tasks(texts, chosen, template)
    meta = {"baseline": baseline, "setting": setting.value, "input": origin}
    if backend == CPU_BACKEND:
        if store_seed is not None:
            raise OvmerError("the cpu extractor is deterministic: repeated runs need an LLM backend")
        if resolve_engine(engine).name != "local":
            warnings.warn("the cpu extractor runs no model (thousands of descriptions a second); "
                          "it runs in this process whatever the engine", stacklevel=2)
        store = ResultsStore(store_path(STAGE, baseline, setting, store_root))
        return _run_cpu(store, tasks, texts, batch_size or CPU_BATCH, progress, meta)
    job = TextStage.open(
        STAGE, baseline, setting, backend=backend, model=model, backend_options=backend_options,
        prompt=template, settings=get_preset(settings), store_root=store_root, reply=REPLY,
        store_seed=store_seed,
    )
    where = f"{baseline}/{setting.value}"
    return job.run(
        tasks, lambda raw, name: parse_label_reply(raw, f"{where}: {name}"),
        batch_size=batch_size or 8, progress=progress, meta=meta, engine=engine,
    )


def parse_label_reply(raw: str, where: str) -> list[str]:
    """An LLM's extraction reply -> its labels; a refusal or prose raises :class:`ReplyError` (text kept)."""
    problem = label_reply_problem(raw)
    if problem is not None:
        excerpt = " ".join(raw.split())[:120]
        raise ReplyError(f"{where}: {problem}: {excerpt!r}", raw=raw)
    return parse_labels(raw, where=where)


def run_extract_repeats(
    baseline: str,
    setting: Setting | str,
    *,
    repeats: int,
    seed: int,
    backend: str | LLMBackend,
    model: str | None = None,
    settings: GenerationSettings | str | None = None,
    backend_options: dict[str, Any] | None = None,
    **options: Any,
) -> dict[int, StageSummary]:
    """``repeats`` sampled extraction runs with seeds ``seed``, ``seed + 1``, ...: seed -> summary.

    Each run is :func:`run_extract` into its own store file (the seed is in its keys too),
    so runs resume one by one and more repeats later reuse the finished ones. The model
    loads once for all of them. ``settings`` must sample (e.g. the ``paper`` preset).
    """
    chosen = get_preset(settings)
    if repeats < 1:
        raise OvmerError(f"repeats must be at least 1, got {repeats}")
    if seed < 0:
        raise OvmerError(f"the first seed must not be negative, got {seed}")
    if not chosen.do_sample:
        raise OvmerError("repeated runs of greedy decoding are identical: use a sampling preset (--preset paper)")
    if backend == CPU_BACKEND:
        raise OvmerError("the cpu extractor is deterministic: repeated runs need an LLM backend")
    llm = resolve_backend(backend, model, **(backend_options or {}))
    summaries: dict[int, StageSummary] = {}
    try:
        for run_seed in range(seed, seed + repeats):
            summaries[run_seed] = run_extract(
                baseline, setting, backend=llm, settings=chosen.replace(seed=run_seed), store_seed=run_seed,
                **options,
            )
    finally:
        if not isinstance(backend, LLMBackend):
            llm.close()
    return summaries
