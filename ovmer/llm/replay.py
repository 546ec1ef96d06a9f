"""Replay backend: serves stored replies by sample name and never runs a model.

Sources: ``released`` (the authors' published outputs for the stage being run:
merged S2 descriptions for ``merge``, label lists for ``extract``, GPT-3.5
synonym groups for ``group``), a
results-store JSONL file (the raw replies of its ok records), an authors'
npz file (label lists or descriptions), or a mapping given in code. A sample
without a stored reply is an error naming it, so a replay never silently
falls back to anything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ovmer.data.name_values import REPLY_FILES, read_name_values
from ovmer.data.released import load_released_descriptions, load_released_labels
from ovmer.errors import OvmerError
from ovmer.llm.client import ChatMessage, LLMBackend, LLMError, Outcome
from ovmer.llm.presets import GenerationSettings
from ovmer.scoring.grouping import released_groupings
from ovmer.settings import Setting

RELEASED = "released"


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def read_reply_file(path: Path) -> dict[str, str]:
    """name -> reply text from a results-store JSONL (raw replies) or an authors' npz file."""
    return read_name_values(path, REPLY_FILES)


def released_replies(stage: str, baseline: str, setting: Setting | str) -> dict[str, str]:
    """The authors' published replies of ``stage`` for one baseline and setting."""
    setting = Setting.parse(setting)
    if stage == "merge":
        return load_released_descriptions(baseline, Setting.NOSUBTITLE_ADDSUB)
    if stage == "extract":
        return load_released_labels(baseline, setting)
    if stage == "group":
        # The authors' GPT-3.5 groupings, made for gpt-grouping/predict-openset.csv's predictions.
        return {name: str(groups) for name, groups in released_groupings().items()}
    raise OvmerError(f"no released replies for stage {stage!r}; replay a results-store file instead")


class ReplayBackend(LLMBackend):
    name = "replay"

    def __init__(self, model: str | Path | Mapping[str, str] = RELEASED, model_id: str | None = None) -> None:
        self._replies: dict[str, str] | None = None
        self.source = model
        if isinstance(model, Mapping):
            self._replies = {str(k): str(v) for k, v in model.items()}
            digest = hashlib.sha256(repr(sorted(self._replies.items())).encode()).hexdigest()[:16]
            self._model_id = model_id or f"mapping:{digest}"
        elif str(model) == RELEASED:
            self._model_id = model_id or RELEASED  # completed by bind()
        else:
            path = Path(model).expanduser()
            self._replies = read_reply_file(path)
            self._model_id = model_id or f"file:{path.name}:{_file_digest(path)}"

    @property
    def model_id(self) -> str:
        return self._model_id

    def run_info(self) -> dict[str, Any]:
        return {
            **super().run_info(),
            "source": str(self.source) if not isinstance(self.source, Mapping) else "mapping",
        }

    def bind(self, stage: str, baseline: str, setting: Setting | str) -> None:
        """Called by a stage before it runs; loads the released replies for that stage's task."""
        if isinstance(self.source, Mapping) or str(self.source) != RELEASED:
            return
        setting = Setting.parse(setting)
        self._replies = released_replies(stage, baseline, setting)
        self._model_id = f"{RELEASED}:{stage}/{baseline}/{setting.value}"

    def reply(self, name: str) -> str:
        if self._replies is None:
            raise OvmerError("replay of released replies needs a stage: run it through merge/extract")
        if name not in self._replies:
            raise LLMError(f"replay ({self.model_id}): no stored reply for sample {name!r}")
        return self._replies[name]

    def generate_outcomes(
        self,
        batch: Sequence[Sequence[ChatMessage]],
        settings: GenerationSettings,
        names: Sequence[str] | None = None,
    ) -> list[Outcome]:
        if names is None or len(names) != len(batch):
            raise OvmerError("the replay backend serves replies by sample name; pass one name per prompt")
        outcomes: list[Outcome] = []
        for name in names:
            try:
                outcomes.append(self.reply(name))
            except LLMError as exc:
                outcomes.append(exc)
        return outcomes

    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings: GenerationSettings) -> list[str]:
        raise OvmerError(
            "the replay backend serves replies by sample name; use generate_outcomes(..., names)"
        )
