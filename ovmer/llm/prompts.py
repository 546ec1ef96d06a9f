"""Versioned prompt texts: each is a package resource named by its id, fingerprinted by sha256.

A prompt's id carries its version (``extract-labels-v1``); changing a text
changes its sha256, which is part of every store key, so results made with
the old text are recomputed rather than silently reused. Placeholders are
``{name}``; values are inserted verbatim (braces inside values are safe).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from ovmer.errors import OvmerError
from ovmer.llm.client import ChatMessage

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# The prompt each text stage uses by default.
STAGE_PROMPTS: dict[str, str] = {
    "merge": "merge-clues-v1",
    "extract": "extract-labels-v1",
    "group": "group-synonyms-v1",
}


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(PLACEHOLDER.findall(self.text)))

    def render(self, **values: str) -> str:
        """The prompt with every placeholder filled; missing or unknown values are errors."""
        wanted = set(self.placeholders)
        missing = sorted(wanted - set(values))
        unknown = sorted(set(values) - wanted)
        if missing or unknown:
            raise OvmerError(
                f"prompt {self.id}: missing value(s) {missing} / unknown value(s) {unknown}; "
                f"it takes {sorted(wanted)}"
            )
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), self.text)

    def messages(self, **values: str) -> list[ChatMessage]:
        """The rendered prompt as a single user turn (the model's own default system prompt applies)."""
        return [ChatMessage("user", self.render(**values))]

    def identity(self) -> dict[str, str]:
        return {"prompt_id": self.id, "prompt_sha256": self.sha256}


def available_prompts() -> list[str]:
    folder = resources.files("ovmer.llm").joinpath("prompt_texts")
    return sorted(p.name[: -len(".txt")] for p in folder.iterdir() if p.name.endswith(".txt"))


@functools.cache
def load_prompt(prompt_id: str) -> PromptTemplate:
    """The packaged prompt ``prompt_id`` (e.g. ``extract-labels-v1``) or a stage name (``extract``)."""
    prompt_id = STAGE_PROMPTS.get(prompt_id, prompt_id)
    resource = resources.files("ovmer.llm").joinpath("prompt_texts", f"{prompt_id}.txt")
    if not resource.is_file():
        choices = available_prompts()
        close = difflib.get_close_matches(prompt_id, choices, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise OvmerError(f"unknown prompt {prompt_id!r}{hint} (prompts: {', '.join(choices)})")
    text = resource.read_text(encoding="utf-8").rstrip() + "\n"
    return PromptTemplate(prompt_id, text)
