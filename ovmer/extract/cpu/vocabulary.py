"""The emotion lexicon the CPU extractor matches in descriptions.

Surface forms come from the authors' word-form table (``emotion_wheel/format.csv``:
label -> its other word forms), their synonym table (``synonym.xlsx``), the five
emotion wheels (all read by :mod:`ovmer.data.wheels`), and labels learned from
released (description -> label list) pairs that occur verbatim in their
descriptions. Every form belongs to a *group*:
the word-form table's canonical label for it (the first of its labels in sorted
order, the same reduction the EW metrics apply first), so ``anger``/``angry`` and
``sadness``/``sad`` count as one candidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ovmer.data.wheels import load_wheel_assets

MAX_PHRASE_WORDS = 3
# A form is letters with inner hyphens/apostrophes/spaces; anything else (digits,
# slashes, parentheses) is table noise that never occurs in prose as a label.
_FORM = re.compile(r"^[a-z]+(?:[-' ][a-z]+)*$")


def normalize_form(text: str) -> str:
    """Lower-case, trim and collapse the spaces of one label; ``at_ease`` -> ``at ease``."""
    return " ".join(text.replace("_", " ").strip().lower().split())


@dataclass(frozen=True)
class Lexicon:
    """Surface form -> group, with the lookup tables the matcher needs."""

    groups: Mapping[str, str]  # form -> group
    # first word -> second word -> multi-word forms starting so, longest first
    phrase_starts: Mapping[str, Mapping[str, tuple[tuple[str, ...], ...]]]
    first_words: frozenset[str]  # one-word forms and first words of phrases: what a token must be to match

    def __len__(self) -> int:
        return len(self.groups)

    def group_of(self, label: str) -> str:
        """The group a label counts as (the label itself when the lexicon lacks it)."""
        form = normalize_form(label)
        return self.groups.get(form, form)

    def to_dict(self) -> dict[str, str]:
        return dict(self.groups)

    @classmethod
    def from_forms(cls, groups: Mapping[str, str]) -> Lexicon:
        starts: dict[str, dict[str, list[tuple[str, ...]]]] = {}
        for form in groups:
            words = tuple(form.split())
            if len(words) > 1:
                starts.setdefault(words[0], {}).setdefault(words[1], []).append(words)
        ordered = {
            first: {second: tuple(sorted(p, key=lambda x: (-len(x), x))) for second, p in seconds.items()}
            for first, seconds in starts.items()
        }
        first_words = frozenset(f for f in groups if " " not in f) | frozenset(ordered)
        return cls(groups=dict(sorted(groups.items())), phrase_starts=ordered, first_words=first_words)


def build_lexicon(data: str | Path | None = None, learned: Iterable[str] = ()) -> Lexicon:
    """The lexicon from the assets in ``data`` (default: the data folder) plus ``learned`` labels."""
    assets = load_wheel_assets(data)
    form_to_labels: dict[str, set[str]] = {}
    for name, forms in assets.word_forms:
        label = normalize_form(name)
        for form in (label, *map(normalize_form, forms)) if label else ():
            form_to_labels.setdefault(form, set()).add(label)
    groups = {form: min(labels) for form, labels in form_to_labels.items()}
    extra = [*assets.wheel_words(), *learned]
    for wheel_word, synonyms in assets.synonyms:
        extra += [wheel_word, *synonyms]
    for form in map(normalize_form, extra):
        groups.setdefault(form, form)
    kept = {
        form: group
        for form, group in groups.items()
        if _FORM.match(form) and len(form) >= 3 and len(form.split()) <= MAX_PHRASE_WORDS
    }
    return Lexicon.from_forms(kept)
