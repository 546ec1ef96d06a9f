"""The one prompt store: every stage's prompt texts, each named by a versioned id and fingerprinted by sha256.

The texts are package files ``ovmer/prompt_texts/<id>.txt``; the id carries the
version (``extract-labels-v1``). A prompt's id and the sha256 of its file go
into the store key of every result made with it, so a changed text can never
pass for an old one: to change a prompt, add a file with a new id (never edit a
released one) and point :data:`CURRENT_PROMPTS` at it. The snapshot tests in
``tests/snapshots`` freeze every rendered text.

A file is either one user turn (the whole text, placeholders and all) or is cut
into named sections by lines ``--- <name>``, with ``#`` comment lines allowed
before the first one (the describe prompts: ``system``, ``instruction``,
``subtitle``). Placeholders are ``{name}``; :meth:`PromptTemplate.render`
inserts values verbatim (braces inside values are safe).

A prompt file ends with exactly one newline, so that the sha256 of its bytes is
also the sha256 of its text: the describe stage has always hashed the bytes and
the LLM stages the text, and both must keep giving the keys they gave.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ovmer.errors import OvmerError
from ovmer.messages import ChatMessage
from ovmer.registry import Registry

PROMPT_DIR = Path(__file__).resolve().parent / "prompt_texts"
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
SECTION_LINE = re.compile(r"^--- (\w+)\s*$")
USER = "user"  # the section name of a file without sections: the whole text is the user turn

# The prompt each stage (and each describe modality variant) uses now.
CURRENT_PROMPTS: dict[str, str] = {
    "merge": "merge-clues-v1",
    "extract": "extract-labels-v1",
    "group": "group-synonyms-v1",
    "describe-video": "describe-video-v1",
    "describe-audio": "describe-audio-v1",
    "describe-audiovideo": "describe-audiovideo-v1",
}


@dataclass(frozen=True)
class PromptTemplate:
    """One prompt file: its id, its text, and its sections (``user`` alone for a file without sections)."""

    id: str
    text: str
    sections: Mapping[str, str]
    path: Path | None = field(default=None, compare=False)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(PLACEHOLDER.findall(self.text)))

    def section(self, name: str) -> str:
        if name not in self.sections:
            raise OvmerError(f"prompt {self.id} has no section {name!r} (it has {', '.join(self.sections)})")
        return self.sections[name]

    def render_section(self, name: str, **values: str) -> str:
        """Section ``name`` with every placeholder filled; missing or unknown values are errors."""
        text = self.section(name)
        wanted = set(PLACEHOLDER.findall(text))
        missing = sorted(wanted - set(values))
        unknown = sorted(set(values) - wanted)
        if missing or unknown:
            raise OvmerError(
                f"prompt {self.id}: missing value(s) {missing} / unknown value(s) {unknown}; "
                f"it takes {sorted(wanted)}"
            )
        return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), text)

    def render(self, **values: str) -> str:
        """The user turn with every placeholder filled."""
        return self.render_section(USER, **values)

    def messages(self, **values: str) -> list[ChatMessage]:
        """The rendered user turn, after the file's ``system`` section when it has one.

        Without a system section the model's own default system prompt applies.
        """
        system = [ChatMessage("system", self.sections["system"])] if "system" in self.sections else []
        return [*system, ChatMessage("user", self.render(**values))]

    def identity(self) -> dict[str, str]:
        """What store keys and record metadata hold of the prompt."""
        return {"prompt_id": self.id, "prompt_sha256": self.sha256}


def parse_prompt(path: Path) -> PromptTemplate:
    """The prompt in ``path``; a malformed file is an error naming it (and the line)."""
    text = path.read_bytes().decode("utf-8")
    if text != text.rstrip() + "\n":
        raise OvmerError(f"{path}: a prompt file must end with exactly one newline and no trailing blank lines")
    lines = text.splitlines()
    if not any(SECTION_LINE.match(line) for line in lines):
        return PromptTemplate(path.stem, text, {USER: text}, path)
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for number, line in enumerate(lines, start=1):
        match = SECTION_LINE.match(line)
        if match:
            current = match.group(1)
            if current in sections:
                raise OvmerError(f"{path}:{number}: section {current!r} appears twice")
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
        elif line.strip() and not line.startswith("#"):
            raise OvmerError(f"{path}:{number}: text before the first '--- <section>' line")
    texts = {name: "\n".join(body).strip() for name, body in sections.items()}
    return PromptTemplate(path.stem, text, texts, path)


def available_prompts() -> list[str]:
    """Ids of every prompt file shipped with the package."""
    return sorted(p.stem for p in PROMPT_DIR.glob("*.txt"))


def _prompt_registry() -> Registry[str]:
    registry: Registry[str] = Registry("prompt")
    for prompt_id in available_prompts():
        registry.register(prompt_id, prompt_id, "prompt file", lazy=False)
    for name, prompt_id in CURRENT_PROMPTS.items():
        registry.register(name, prompt_id, f"current prompt: {prompt_id}", lazy=False)
    return registry


# Prompt ids and the current prompts' names, for lookups with a did-you-mean.
PROMPTS: Registry[str] = _prompt_registry()


def load_prompt(name: str) -> PromptTemplate:
    """The prompt ``name``: a prompt id (``extract-labels-v1``) or a current-prompt name (``extract``)."""
    return _load(PROMPTS.get(name))


@functools.cache
def _load(prompt_id: str) -> PromptTemplate:
    return parse_prompt(PROMPT_DIR / f"{prompt_id}.txt")
