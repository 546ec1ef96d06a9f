"""The engine shared by the merge, extract and group stages: prompts -> backend -> store.

Every sample becomes a :class:`TextTask`: either a conversation for the LLM,
or a value settled by a rule without a call (an empty subtitle, an empty
description). LLM tasks are keyed by backend, model, revision, prompt id and
sha256, the rendered conversation and the generation settings, so a re-run
skips exactly the samples whose inputs did not change. Empty replies and
replies that cannot be parsed (a stage's parser raises :class:`ReplyError` for a
refusal or prose) become error records that keep the reply's text, never cached
answers. Replies are cut to :data:`ovmer.store.jsonl.MAX_REPLY_CHARS` before parsing.

A reply that ran into a stage's short default budget before its stop string is
generated again with the longer ``extend_to`` budget (:func:`generate_replies`),
so the short budget saves time without changing what is parsed; the record says
so (``extended_to``), and a reply cut at its final budget is marked ``cut_at``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ovmer.engines import Engine, StageWork, resolve_engine, run_work
from ovmer.keys import llm_key, rule_key
from ovmer.llm.client import LLMBackend, LLMError, Outcome, ReplyError, was_cut
from ovmer.llm.presets import NO_LIMIT, GenerationSettings, ReplyLimit
from ovmer.llm.registry import resolve_backend
from ovmer.messages import ChatMessage
from ovmer.prompts import PromptTemplate
from ovmer.store import ResultsStore, StageSummary, run_stage, store_path
from ovmer.store.jsonl import cap_reply
from ovmer.store.runner import WorkItem

__all__ = ["BatchResults", "GenerateWorker", "Parser", "TextStage", "TextTask", "generate_replies", "llm_key",
           "rule_key", "run_text_stage"]

Parser = Callable[[str, str], Any]  # (raw reply, sample name) -> parsed value
BatchResults = list[tuple[str | None, Any] | BaseException]  # one (raw, value) or error per item


@dataclass(frozen=True)
class TextTask:
    name: str
    messages: tuple[ChatMessage, ...] = ()  # empty: settled by ``rule`` without a call
    rule: str | None = None
    value: Any = None  # the settled value of a rule task
    inputs: Any = None  # what a rule task's value depends on (its key)

    @classmethod
    def settled(cls, name: str, rule: str, value: Any, inputs: Any) -> TextTask:
        return cls(name=name, rule=rule, value=value, inputs=inputs)


def run_text_stage(
    *,
    stage: str,
    store: ResultsStore,
    tasks: Sequence[TextTask],
    backend: LLMBackend,
    prompt: PromptTemplate,
    settings: GenerationSettings,
    parse: Parser,
    batch_size: int = 8,
    progress: bool = True,
    meta: dict[str, Any] | None = None,
    engine: str | Engine | None = None,
) -> StageSummary:
    """Run ``tasks`` into ``store`` with resume; returns done/skipped/failed counts.

    The LLM calls run on ``engine`` (``local`` by default, or ``ray``: replicas of the backend on a
    Ray cluster); the tasks settled by a rule are recorded here either way. Settings that leave
    ``max_new_tokens`` or ``stop`` to the stage get the general defaults here (512 tokens, no
    stop); :meth:`TextStage.open` fills in a stage's own first.
    """
    settings = settings.resolved()
    summary = StageSummary()
    base_meta = dict(meta or {})

    rules = sorted({t.rule for t in tasks if t.rule is not None})
    for rule in rules:
        items = [WorkItem(t.name, rule_key(stage, rule, t.inputs), t) for t in tasks if t.rule == rule]
        part = run_stage(
            store,
            items,
            lambda item: (None, item.payload.value),
            desc=f"{stage} ({rule})",
            progress=False,
            meta={**base_meta, "rule": rule},
        )
        summary.add(part)

    llm_tasks = [t for t in tasks if t.rule is None]
    items = [WorkItem(t.name, llm_key(stage, backend, prompt, t.messages, settings), t) for t in llm_tasks]

    llm_meta = {
        **base_meta,
        **backend.run_info(),
        **prompt.identity(),
        "settings": settings.as_dict(),
    }

    work = StageWork(GenerateWorker(backend, settings, parse), batch_size=max(1, batch_size))
    summary.add(run_work(store, items, work, resolve_engine(engine), desc=stage, progress=progress, meta=llm_meta))
    return summary


@dataclass
class GenerateWorker:
    """A text stage's work on a chunk: one batched call of the backend, each reply checked and parsed.

    An engine may run a copy in another process (a Ray replica), where the backend loads its own model.
    """

    backend: LLMBackend
    settings: GenerationSettings
    parse: Parser

    def __call__(self, chunk: Sequence[WorkItem]) -> BatchResults:
        outcomes, budgets = generate_replies(
            self.backend, [list(item.payload.messages) for item in chunk], self.settings,
            names=[item.name for item in chunk],
        )
        results: BatchResults = []
        for item, outcome, budget in zip(chunk, outcomes, budgets, strict=True):
            if isinstance(outcome, BaseException):
                results.append(outcome)
                continue
            if not isinstance(outcome, str):
                results.append(LLMError(f"{item.name}: the backend returned {type(outcome).__name__}, not text"))
                continue
            # Parse what is stored: a runaway reply is cut to the store's cap first.
            reply, full_length = cap_reply(outcome)
            assert reply is not None
            if not reply.strip():
                results.append(ReplyError(f"{item.name}: the model returned an empty reply", raw=reply))
                continue
            try:
                value = self.parse(reply, item.name)
            except ReplyError as exc:
                results.append(exc if exc.raw is not None else ReplyError(str(exc), raw=reply))
            except Exception as exc:  # keep the raw text visible in the error record
                results.append(ReplyError(f"{item.name}: cannot parse the reply {reply[:200]!r}: {exc}", raw=reply))
            else:
                extra: dict[str, Any] = {"reply_chars": full_length} if full_length else {}
                if budget != self.settings.token_limit:
                    extra["extended_to"] = budget
                if was_cut(outcome):
                    extra["cut_at"] = budget
                results.append((reply, value, extra) if extra else (reply, value))
        return results


def generate_replies(
    backend: LLMBackend,
    batch: Sequence[Sequence[ChatMessage]],
    settings: GenerationSettings,
    names: Sequence[str] | None = None,
) -> tuple[list[Outcome], list[int]]:
    """One outcome per conversation and the token budget that produced it.

    Replies the backend reports cut at ``settings``' budget are generated again, together,
    with ``settings.extend_to`` tokens when the settings have a longer one.
    """
    outcomes = backend.generate_outcomes(batch, settings, names=names)
    budgets = [settings.token_limit] * len(batch)
    if settings.extend_to is None or settings.extend_to <= settings.token_limit:
        return outcomes, budgets
    again = [i for i, outcome in enumerate(outcomes) if was_cut(outcome)]
    if again:
        longer = settings.extended()
        redone = backend.generate_outcomes([batch[i] for i in again], longer,
                                           names=None if names is None else [names[i] for i in again])
        for i, outcome in zip(again, redone, strict=True):
            outcomes[i], budgets[i] = outcome, longer.token_limit
    return outcomes, budgets


@dataclass(frozen=True)
class TextStage:
    """One run of an LLM text stage: the store it writes and what every call shares."""

    stage: str
    store: ResultsStore
    backend: LLMBackend
    prompt: PromptTemplate
    settings: GenerationSettings

    @classmethod
    def open(
        cls,
        stage: str,
        baseline: str,
        setting: str,
        *,
        backend: str | LLMBackend,
        model: str | None,
        backend_options: dict[str, Any] | None,
        prompt: PromptTemplate,
        settings: GenerationSettings,
        store_root: str | os.PathLike[str] | None,
        reply: ReplyLimit = NO_LIMIT,
        store_seed: int | None = None,
    ) -> TextStage:
        """Resolve ``backend``, bind it to ``stage``/``baseline``/``setting`` and point at that store file.

        ``reply`` is the stage's reply limit, for settings that leave it to the stage;
        ``store_seed`` writes the seed's own store file (a repeated run, see :func:`store_path`).
        """
        llm = resolve_backend(backend, model, **(backend_options or {}))
        llm.bind(stage, baseline, setting)
        path = store_path(stage, baseline, setting, store_root, seed=store_seed)
        return cls(stage, ResultsStore(path), llm, prompt, settings.resolved(reply))

    def key(self, messages: Sequence[ChatMessage]) -> str:
        """The store key of a call with ``messages`` (see :func:`llm_key`)."""
        return llm_key(self.stage, self.backend, self.prompt, messages, self.settings)

    def run(
        self,
        tasks: Sequence[TextTask],
        parse: Parser,
        *,
        batch_size: int = 8,
        progress: bool = True,
        meta: dict[str, Any] | None = None,
        engine: str | Engine | None = None,
    ) -> StageSummary:
        """:func:`run_text_stage` of ``tasks`` with this run's store, backend, prompt and settings."""
        return run_text_stage(
            stage=self.stage,
            store=self.store,
            tasks=tasks,
            backend=self.backend,
            prompt=self.prompt,
            settings=self.settings,
            parse=parse,
            batch_size=batch_size,
            progress=progress,
            meta=meta,
            engine=engine,
        )
