"""The emotion lexicon the CPU extractor matches in descriptions.

Surface forms come from the authors' word-form table (``emotion_wheel/format.csv``:
label -> its other word forms), their synonym table (``synonym.xlsx``), the five
emotion wheels, and labels learned from released (description -> label list)
pairs that occur verbatim in their descriptions. Every form belongs to a *group*:
the word-form table's canonical label for it (the first of its labels in sorted
order, the same reduction the EW metrics apply first), so ``anger``/``angry`` and
``sadness``/``sad`` count as one candidate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ovmer.assets import asset_path
from ovmer.errors import OvmerError

FORMAT_TABLE = "emotion_wheel/format.csv"
SYNONYM_TABLE = "emotion_wheel/synonym.xlsx"
WHEELS = tuple(f"emotion_wheel/wheel{i}.xlsx" for i in range(1, 6))
VOCABULARY_ASSETS: tuple[str, ...] = (FORMAT_TABLE, SYNONYM_TABLE, *WHEELS)

MAX_PHRASE_WORDS = 3
# A form is letters with inner hyphens/apostrophes/spaces; anything else (digits,
# slashes, parentheses) is table noise that never occurs in prose as a label.
_FORM = re.compile(r"^[a-z]+(?:[-' ][a-z]+)*$")


def normalize_form(text: str) -> str:
    """Lower-case, trim and collapse the spaces of one label; ``at_ease`` -> ``at ease``."""
    return " ".join(text.replace("_", " ").strip().lower().split())


def _split_forms(cell: object) -> list[str]:
    if not isinstance(cell, str):
        return []
    return [normalize_form(piece) for piece in cell.split(",") if piece.strip()]


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


def read_format_table(path: Path) -> dict[str, list[str]]:
    """``format.csv`` -> form -> the labels it is a form of (each label is a form of itself)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(frame.columns[:2]) != ["name", "format"]:
        raise OvmerError(f"{path}: expected columns name, format; found {list(frame.columns)}")
    form_to_labels: dict[str, list[str]] = {}
    for name, forms in zip(frame["name"], frame["format"], strict=True):
        label = normalize_form(name)
        if not label:
            continue
        for form in [label, *_split_forms(forms)]:
            form_to_labels.setdefault(form, [])
            if label not in form_to_labels[form]:
                form_to_labels[form].append(label)
    return form_to_labels


def read_synonym_words(path: Path) -> list[str]:
    """Every wheel word and synonym of ``synonym.xlsx`` (eight runs of word -> synonyms)."""
    frame = pd.read_excel(path)
    words: list[str] = []
    runs = sorted(c[len("word_") :] for c in frame.columns if str(c).startswith("word_"))
    if not runs:
        raise OvmerError(f"{path}: expected word_runK / synonym_runK columns; found {list(frame.columns)}")
    for run in runs:
        for word, synonyms in zip(frame[f"word_{run}"], frame[f"synonym_{run}"], strict=True):
            words += _split_forms(word) + _split_forms(synonyms)
    return words


def read_wheel_words(path: Path) -> list[str]:
    frame = pd.read_excel(path)
    missing = {"level1", "level2", "level3"} - set(frame.columns)
    if missing:
        raise OvmerError(f"{path}: missing wheel column(s) {sorted(missing)}")
    cells = frame[["level1", "level2", "level3"]].to_numpy().ravel()
    return [normalize_form(c) for c in cells if isinstance(c, str) and c.strip()]


def build_lexicon(data: str | Path | None = None, learned: Iterable[str] = ()) -> Lexicon:
    """The lexicon from the assets in ``data`` (default: the data folder) plus ``learned`` labels."""
    form_to_labels = read_format_table(asset_path(FORMAT_TABLE, data))
    groups = {form: sorted(labels)[0] for form, labels in form_to_labels.items()}
    extra = read_synonym_words(asset_path(SYNONYM_TABLE, data))
    for wheel in WHEELS:
        extra += read_wheel_words(asset_path(wheel, data))
    extra += [normalize_form(label) for label in learned]
    for form in extra:
        groups.setdefault(form, form)
    kept = {
        form: group
        for form, group in groups.items()
        if _FORM.match(form) and len(form) >= 3 and len(form.split()) <= MAX_PHRASE_WORDS
    }
    return Lexicon.from_forms(kept)
