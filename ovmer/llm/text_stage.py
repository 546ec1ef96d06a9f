"""The engine shared by the merge, extract and group stages: prompts -> backend -> store.

Every sample becomes a :class:`TextTask`: either a conversation for the LLM,
or a value settled by a rule without a call (an empty subtitle, an empty
description). LLM tasks are keyed by backend, model, revision, prompt id and
sha256, the rendered conversation and the generation settings, so a re-run
skips exactly the samples whose inputs did not change. Empty replies and
replies that cannot be parsed become error records, never cached answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ovmer.llm.client import ChatMessage, LLMBackend, LLMError, conversation_dicts
from ovmer.llm.presets import GenerationSettings
from ovmer.llm.prompts import PromptTemplate
from ovmer.store import ResultsStore, StageSummary, compute_key, run_stage
from ovmer.store.runner import WorkItem

Parser = Callable[[str, str], Any]  # (raw reply, sample name) -> parsed value


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


def llm_key(
    stage: str,
    backend: LLMBackend,
    prompt: PromptTemplate,
    messages: Sequence[ChatMessage],
    settings: GenerationSettings,
) -> str:
    return compute_key(
        stage=stage,
        backend=backend.name,
        model=backend.model_id,
        revision=backend.revision,
        **prompt.identity(),
        messages=conversation_dicts(messages),
        settings=settings.as_dict(),
    )


def rule_key(stage: str, rule: str, inputs: Any) -> str:
    return compute_key(stage=stage, rule=rule, inputs=inputs)


def _merge(total: StageSummary, part: StageSummary) -> None:
    total.done += part.done
    total.skipped += part.skipped
    total.failed += part.failed
    total.failures.update(part.failures)


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
) -> StageSummary:
    """Run ``tasks`` into ``store`` with resume; returns done/skipped/failed counts."""
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
        _merge(summary, part)

    llm_tasks = [t for t in tasks if t.rule is None]
    items = [WorkItem(t.name, llm_key(stage, backend, prompt, t.messages, settings), t) for t in llm_tasks]

    def batch(chunk: Sequence[WorkItem]) -> list[tuple[str | None, Any] | BaseException]:
        outcomes = backend.generate_outcomes(
            [list(item.payload.messages) for item in chunk], settings, names=[item.name for item in chunk]
        )
        results: list[tuple[str | None, Any] | BaseException] = []
        for item, outcome in zip(chunk, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                results.append(outcome)
            elif not outcome.strip():
                results.append(LLMError(f"{item.name}: the model returned an empty reply"))
            else:
                try:
                    results.append((outcome, parse(outcome, item.name)))
                except Exception as exc:  # keep the raw text visible in the error record
                    results.append(LLMError(f"{item.name}: cannot parse the reply {outcome[:200]!r}: {exc}"))
        return results

    llm_meta = {
        **base_meta,
        **backend.describe(),
        **prompt.identity(),
        "settings": settings.as_dict(),
    }

    def single(item: WorkItem) -> tuple[str | None, Any]:
        result = batch([item])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    part = run_stage(
        store,
        items,
        single,
        desc=stage,
        progress=progress,
        meta=llm_meta,
        batch=batch,
        batch_size=max(1, batch_size),
    )
    _merge(summary, part)
    return summary
