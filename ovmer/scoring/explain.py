"""Why a label scores as it does: its path through the word forms, the synonym runs and the wheels.

An explanation is read off the compiled maps of :mod:`ovmer.scoring.resources` with the rule
functions of :mod:`ovmer.scoring.mapping` (the ones the label table is compiled with), so it
cannot disagree with the exact scores; only the synonym-run numbers, which the compiled maps
merge away, come from the parsed rows of :mod:`ovmer.data.wheels`.

The path of a label: it is a word form of one or more ``format.csv`` names; each name stands
for one or more wheel words (``synonym.xlsx``: the wheel word itself, or a synonym listed under
it in some run); of all the wheel words reached, sorted alphabetically, the first one a wheel
contains decides the label's group in that wheel (level 1: its top-level group, level 2: its
middle group). That alphabetical rule is the authors'; for example "fear" is also a form of
"fearless", which stands for "courageous", so on wheel 2 "fear" counts as "happy".
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from typing import Any

from ovmer.data.wheels import WheelAssets, load_wheel_assets
from ovmer.errors import OvmerError
from ovmer.scoring.mapping import METRIC_NAMES, first_in_wheel, map_m1, map_m2, reachable_wheel_words
from ovmer.scoring.resources import WheelResources, load_resources

LEVELS = (1, 2)
# Negating affixes an antonym form carries (a prefix, or the suffix "-less").
NEGATING_PREFIXES = ("un", "dis", "non", "in", "im", "ir", "il")
NEGATING_SUFFIX = "less"
_MIN_STEM = 4


def metric_name(wheel: int, level: int) -> str:
    return f"M3-W{wheel}-L{level}"


def _negations(word: str) -> list[tuple[str, str]]:
    """(affix, stem) for each negating affix ``word`` could carry."""
    found = [(f"{p}-", word[len(p):]) for p in NEGATING_PREFIXES if word.startswith(p) and len(word) - len(p) >= 3]
    if word.endswith(NEGATING_SUFFIX) and len(word) - len(NEGATING_SUFFIX) >= 3:
        found.append((f"-{NEGATING_SUFFIX}", word[: -len(NEGATING_SUFFIX)]))
    return found


def _shares_stem(word: str, stem: str) -> bool:
    common = 0
    for a, b in zip(word, stem, strict=False):
        if a != b:
            break
        common += 1
    return common >= min(len(stem), max(_MIN_STEM, len(stem) // 2 + 1))


def _carries(word: str, affix: str) -> bool:
    return NEGATING_SUFFIX in word if affix.startswith("-") else word.startswith(affix.rstrip("-"))


def negating_affix(word: str, other: str) -> str | None:
    """The affix that makes ``other`` an antonym form of ``word`` (or the reverse), e.g. ``-less``."""
    for a, b in ((word, other), (other, word)):
        for affix, stem in _negations(b):
            if _shares_stem(a, stem) and not _carries(a, affix):
                return affix
    return None


@dataclass(frozen=True)
class Route:
    """One way from the label to a wheel word: label -> name (format.csv) -> wheel word (synonym.xlsx)."""

    name: str  # a name the label is a word form of (the label itself when it is a name)
    wheel_word: str
    runs: tuple[int, ...]  # synonym runs listing ``name`` under ``wheel_word`` (or the word as itself)

    def form_link(self, label: str) -> str | None:
        """The antonym affix of the label -> name link, if any."""
        return None if self.name == label else negating_affix(label, self.name)

    def synonym_link(self) -> str | None:
        """The antonym affix of the name -> wheel word link, if any."""
        return None if self.name == self.wheel_word else negating_affix(self.name, self.wheel_word)

    def describe(self, label: str) -> str:
        form = "itself" if self.name == label else f"form of {self.name}"
        how = "a wheel word" if self.name == self.wheel_word else f"synonym of {self.wheel_word}"
        runs = f"run{'s' if len(self.runs) != 1 else ''} {_ranges(self.runs)}" if self.runs else "no run"
        marks = [f"antonym form {a}" for a in (self.form_link(label), self.synonym_link()) if a]
        note = f"  [{'; '.join(marks)}]" if marks else ""
        return f"{label} ({form}) -> {self.name}: {how} ({runs}){note}"


@dataclass(frozen=True)
class WheelChoice:
    """The M3 value of one wheel and level, and how the alphabetical rule picked it."""

    wheel: int
    level: int
    candidates: tuple[str, ...]  # reachable wheel words this wheel has, alphabetically
    word: str | None  # the first candidate: it decides (None: the label is dropped)
    value: str | None  # the wheel word's level-1 or level-2 group: the metric's value
    own_group: str | None  # level-1 group of the label (or its M1 name) where this wheel lists it

    @property
    def metric(self) -> str:
        return metric_name(self.wheel, self.level)

    @property
    def crosses_group(self) -> bool:
        """Level 1 only: the chosen group is not the label's own top-level group in this wheel."""
        return self.level == 1 and self.own_group is not None and self.value != self.own_group

    def describe(self) -> str:
        head = f"wheel {self.wheel} level {self.level} ({self.metric}): "
        if self.word is None:
            return head + "no reachable wheel word is in this wheel: dropped"
        others = [w for w in self.candidates if w != self.word]
        text = head + f"{self.word} -> {self.value}"
        if others:
            text += f" (first of {', '.join(self.candidates)})"
        if self.crosses_group:
            text += f"  [own group in this wheel: {self.own_group}]"
        return text


@dataclass(frozen=True)
class LabelExplanation:
    """The whole path of one label under every metric."""

    label: str
    names: tuple[str, ...]  # format.csv names it is a form of, sorted
    m1: str | None
    m2: str | None
    routes: tuple[Route, ...]  # sorted by name, then wheel word
    choices: tuple[WheelChoice, ...]  # wheels 1..5, levels 1 and 2, in METRIC_NAMES order

    @property
    def known(self) -> bool:
        return bool(self.names)

    @property
    def reachable(self) -> tuple[str, ...]:
        return tuple(sorted({r.wheel_word for r in self.routes}))

    def values(self) -> dict[str, str | None]:
        """Metric -> the label's value, in ``METRIC_NAMES`` order (None: dropped)."""
        out = {"M1": self.m1, "M2": self.m2}
        out.update({c.metric: c.value for c in self.choices})
        return {m: out[m] for m in METRIC_NAMES}

    def choice(self, wheel: int, level: int) -> WheelChoice:
        for choice in self.choices:
            if (choice.wheel, choice.level) == (wheel, level):
                return choice
        raise OvmerError(f"no wheel {wheel} level {level}: wheels 1-{len(self.choices) // 2}, levels 1 and 2")

    def routes_to(self, word: str) -> list[Route]:
        return [r for r in self.routes if r.wheel_word == word]

    def lines(self, wheel: int | None = None, level: int | None = None) -> list[str]:
        """The explanation as text lines; ``wheel``/``level`` keep only those wheel choices."""
        if not self.known:
            return [f"{self.label}: not in the word-form table (format.csv), so every metric drops it"]
        lines = [
            f"{self.label}",
            f"  word forms (format.csv): a form of {', '.join(self.names)}",
            f"  M1: {self.m1}  (the alphabetically first name)",
            f"  M2: {self.m2 or 'dropped'}  (the alphabetically first wheel word of {self.m1})",
            "  routes to wheel words (synonym.xlsx):",
            *(f"    {r.describe(self.label)}" for r in self.routes),
            f"  reachable wheel words, alphabetically: {', '.join(self.reachable) or '-'}",
            "  rule: in each wheel the first of these the wheel contains decides; level 1 is its top-level",
            "  group, level 2 its middle group (a top-level word takes its alphabetically first middle group)",
        ]
        for choice in self.choices:
            if (wheel is None or choice.wheel == wheel) and (level is None or choice.level == level):
                lines.append(f"  {choice.describe()}")
                if choice.word is not None and (wheel is not None or level is not None):
                    lines += [f"      via {r.describe(self.label)}" for r in self.routes_to(choice.word)]
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        return explanation_html(self)


def explanation_html(explanation: LabelExplanation, open_: bool = False) -> str:
    """A collapsible block: the label's values per wheel and level, then its routes and the rule."""
    e = explanation
    esc = html.escape
    if not e.known:
        return f"<details><summary><b>{esc(e.label)}</b>: not in format.csv, dropped by every metric</summary></details>"
    wheels = sorted({c.wheel for c in e.choices})
    cells = []
    for wheel in wheels:
        row = [f"<td>W{wheel}</td>"]
        for level in LEVELS:
            c = e.choice(wheel, level)
            text = "dropped" if c.word is None else f"{c.word} &rarr; <b>{esc(c.value or '')}</b>"
            style = ' style="background:#fde2cf"' if c.crosses_group else ""
            title = f' title="own group: {esc(c.own_group)}"' if c.crosses_group else ""
            row.append(f"<td{style}{title}>{text}</td>")
        cells.append("<tr>" + "".join(row) + "</tr>")
    routes = "".join(f"<li>{esc(r.describe(e.label))}</li>" for r in e.routes)
    flagged = any(c.crosses_group for c in e.choices) or any(r.form_link(e.label) or r.synonym_link() for r in e.routes)
    mark = " &#9888;" if flagged else ""
    return (
        f"<details{' open' if open_ else ''}><summary><b>{esc(e.label)}</b>{mark}: a form of "
        f"{esc(', '.join(e.names))}; M1 {esc(e.m1 or '-')}, M2 {esc(e.m2 or 'dropped')}</summary>"
        "<table><tr><th>wheel</th><th>L1 (top-level group)</th><th>L2 (middle group)</th></tr>"
        + "".join(cells)
        + f"</table><ul>{routes}</ul><p>Reachable wheel words, alphabetically: {esc(', '.join(e.reachable))}. "
        "In each wheel the first one it contains decides (shaded: not the label's own group in that wheel).</p>"
        "</details>"
    )


def _ranges(runs: tuple[int, ...]) -> str:
    """(1, 2, 3, 5) -> "1-3, 5"."""
    parts: list[str] = []
    start = prev = None
    for run in runs:
        if prev is not None and run == prev + 1:
            prev = run
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = run
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


@functools.lru_cache(maxsize=4)  # the assets are a frozen value: cached per content
def synonym_run_index(assets: WheelAssets) -> dict[tuple[str, str], tuple[int, ...]]:
    """(name, wheel word) -> the synonym runs that link them (a wheel word links to itself)."""
    index: dict[tuple[str, str], set[int]] = {}
    for run, word, synonyms in assets.synonym_runs():
        for name in (word, *synonyms):
            index.setdefault((name, word), set()).add(run)
    return {key: tuple(sorted(runs)) for key, runs in index.items()}


def own_group(label: str, m1: str | None, level1: Any) -> str | None:
    """The label's top-level group in a wheel that lists it (or, failing that, its M1 name)."""
    for word in (label, m1):
        if word is not None and word in level1:
            return level1[word]
    return None


def explain_with(
    label: str,
    names_of: Any,
    wheel_words_of: Any,
    wheels: Any,
    runs: dict[tuple[str, str], tuple[int, ...]],
) -> LabelExplanation:
    """The explanation under the given maps (the compiled ones, or a diagnostic variant of them)."""
    label = label.lower().strip()
    names = tuple(sorted(names_of.get(label, ())))
    m1 = map_m1(label, names_of)
    routes = tuple(
        Route(name, word, runs.get((name, word), ()))
        for name in names
        for word in sorted(wheel_words_of.get(name, ()))
    )
    reachable = reachable_wheel_words(label, names_of, wheel_words_of)
    choices = []
    for k, wheel in enumerate(wheels, start=1):
        for level, level_map in zip(LEVELS, (wheel.level1, wheel.level2), strict=True):
            word = first_in_wheel(reachable, level_map)
            choices.append(
                WheelChoice(
                    wheel=k,
                    level=level,
                    candidates=tuple(sorted({w for w in reachable if w in level_map})),
                    word=word,
                    value=None if word is None else level_map[word],
                    own_group=own_group(label, m1, wheel.level1),
                )
            )
    return LabelExplanation(
        label=label,
        names=names,
        m1=m1,
        m2=map_m2(label, names_of, wheel_words_of),
        routes=routes,
        choices=tuple(choices),
    )


def explain_label(
    label: str, resources: WheelResources | None = None, assets: WheelAssets | None = None
) -> LabelExplanation:
    """The whole path of ``label`` (lower-cased and stripped, as the metrics read it)."""
    return explain_labels([label], resources, assets)[0]


def explain_labels(
    labels: list[str] | tuple[str, ...], resources: WheelResources | None = None, assets: WheelAssets | None = None
) -> list[LabelExplanation]:
    """:func:`explain_label` for several labels (the resources and assets are read once)."""
    resources = resources or load_resources()
    runs = synonym_run_index(assets or load_wheel_assets())
    return [explain_with(label, resources.names_of, resources.wheel_words_of, resources.wheels, runs)
            for label in labels]
