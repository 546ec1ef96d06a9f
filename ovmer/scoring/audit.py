"""An audit of the label mapping: labels the alphabetical rule sends somewhere surprising.

A label is flagged when one of the routes that decide its values (:mod:`ovmer.scoring.explain`)

- runs through an **antonym form**: the label -> name link (``format.csv``) or the name ->
  wheel word link (``synonym.xlsx``) joins two words of which one carries a negating affix
  the other lacks ("fear" is listed as a form of "fearless"); or
- lands in **another top-level group**: at level 1, in a wheel that lists the label (or its
  M1 name), the chosen group is not the label's own group there.

:func:`cut_paths` is the diagnostic variant: the flagged links removed, the label table
compiled again with the same rules (:func:`ovmer.scoring.resources.resources_from_maps`).
It only serves to measure how much such paths move a score; the default protocol, the
paper's, never uses it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ovmer.data.wheels import WheelAssets, load_wheel_assets
from ovmer.scoring.explain import LabelExplanation, Route, explain_with, negating_affix, synonym_run_index
from ovmer.scoring.resources import WheelResources, load_resources, resources_from_maps

FORM = "form"  # label -> name (format.csv)
SYNONYM = "synonym"  # name -> wheel word (synonym.xlsx)
_MAX_ROUNDS = 8  # cutting a crossing route can expose another; a label has few routes


@dataclass(frozen=True, order=True)
class Link:
    """One link of a path: ``kind`` FORM (label -> name) or SYNONYM (name -> wheel word)."""

    kind: str
    source: str
    target: str

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({'word form' if self.kind == FORM else 'synonym'})"


@dataclass(frozen=True)
class Finding:
    """A flagged label: why, the links the diagnostic variant cuts, its values before and after."""

    label: str
    reasons: tuple[str, ...]
    cuts: tuple[Link, ...]
    before: Mapping[str, str | None]  # metric -> value (None: dropped)
    after: Mapping[str, str | None]

    @property
    def changed(self) -> tuple[str, ...]:
        return tuple(m for m in self.before if self.before[m] != self.after[m])

    @property
    def kinds(self) -> tuple[str, ...]:
        """"antonym" and/or "group", the kinds of reason."""
        return tuple(k for k in ("antonym", "group") if any(r.startswith(k) for r in self.reasons))


def _without(names_of: Mapping[str, Any], wheel_words_of: Mapping[str, Any], cuts: Iterable[Link],
             only: Iterable[str] | None = None) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The two maps with the ``cuts`` removed (``only``: keep just these labels' word-form entries)."""
    cut = set(cuts)
    labels = names_of if only is None else [label for label in only if label in names_of]
    forms = {label: tuple(n for n in names_of[label] if Link(FORM, label, n) not in cut) for label in labels}
    sources = {link.source for link in cut if link.kind == SYNONYM}
    synonyms = dict(wheel_words_of)
    for name in sources & set(synonyms):
        synonyms[name] = tuple(w for w in synonyms[name] if Link(SYNONYM, name, w) not in cut)
    return {k: v for k, v in forms.items() if v}, {k: v for k, v in synonyms.items() if v}


def _antonym_cuts(e: LabelExplanation) -> list[tuple[Link, str]]:
    """(link, reason) for each antonym link on a route that decides a value."""
    found: list[tuple[Link, str]] = []
    deciding: list[Route] = [r for c in e.choices if c.word for r in e.routes_to(c.word)]
    deciding += [r for r in e.routes if r.name == e.m1 and r.wheel_word == e.m2]
    for route in deciding:
        affix = route.form_link(e.label)
        if affix:
            found.append((Link(FORM, e.label, route.name), f"antonym form: {e.label} is listed as a form of "
                                                             f"{route.name} ({affix})"))
        affix = route.synonym_link()
        if affix:
            found.append((Link(SYNONYM, route.name, route.wheel_word),
                          f"antonym synonym: {route.name} stands for {route.wheel_word} ({affix})"))
    if e.m1 and e.m1 != e.label and negating_affix(e.label, e.m1):
        found.append((Link(FORM, e.label, e.m1), f"antonym form: the M1 name of {e.label} is {e.m1}"))
    return found


def _crossing_cuts(e: LabelExplanation) -> list[tuple[Link, str]]:
    """(link, reason) for each route deciding a level-1 group other than the label's own."""
    found: list[tuple[Link, str]] = []
    for choice in e.choices:
        if not choice.crosses_group or choice.word is None:
            continue
        reason = (f"group: on wheel {choice.wheel} {e.label} is under {choice.own_group}, but "
                  f"{choice.word} (alphabetically first) puts it under {choice.value}")
        for route in e.routes_to(choice.word):
            # A name standing for itself is cut at the label's own link, never for every label.
            link = (Link(FORM, e.label, route.name) if route.name == route.wheel_word
                    else Link(SYNONYM, route.name, route.wheel_word))
            found.append((link, reason))
    return found


def audit_label(
    label: str, resources: WheelResources, runs: Mapping[tuple[str, str], tuple[int, ...]]
) -> Finding | None:
    """The label's finding, or None when no deciding route is flagged."""
    label = label.lower().strip()

    def explain(names_of: Mapping[str, Any], wheel_words_of: Mapping[str, Any]) -> LabelExplanation:
        return explain_with(label, names_of, wheel_words_of, resources.wheels, dict(runs))

    first = explain(resources.names_of, resources.wheel_words_of)
    if not first.known:
        return None
    flagged = _antonym_cuts(first)
    cuts = {link for link, _ in flagged}
    reasons = list(dict.fromkeys(reason for _, reason in flagged))
    current = first
    for _ in range(_MAX_ROUNDS):
        if cuts:
            current = explain(*_without(resources.names_of, resources.wheel_words_of, cuts, only=[label]))
        crossing = _crossing_cuts(current)
        new = {link for link, _ in crossing} - cuts
        reasons += [reason for _, reason in crossing if reason not in reasons]
        if not new:
            break
        cuts |= new
    if not cuts:
        return None
    return Finding(label, tuple(reasons), tuple(sorted(cuts)), first.values(), current.values())


def audit_vocabulary(
    labels: Iterable[str], resources: WheelResources | None = None, assets: WheelAssets | None = None
) -> list[Finding]:
    """The findings over ``labels`` (deduplicated, lower-cased), sorted by label."""
    resources = resources or load_resources()
    runs = synonym_run_index(assets or load_wheel_assets())
    unique = sorted({label.lower().strip() for label in labels if label.strip()})
    return [f for f in (audit_label(label, resources, runs) for label in unique) if f is not None]


def cut_paths(
    resources: WheelResources, cuts: Iterable[Link], vocabulary: Iterable[str] | None = None
) -> WheelResources:
    """The diagnostic variant: ``resources`` with the ``cuts`` removed, compiled again.

    ``vocabulary`` keeps only those labels (enough to score files using no other label, and faster).
    Never the default protocol: the paper's scores use the maps as the authors made them.
    """
    cut = sorted(set(cuts))
    names_of, wheel_words_of = _without(resources.names_of, resources.wheel_words_of, cut, only=vocabulary)
    digest = hashlib.sha256(repr((cut, sorted(set(vocabulary or ())))).encode()).hexdigest()[:16]
    return resources_from_maps(names_of, wheel_words_of, resources.wheels, f"{resources.key}:cut-paths:{digest}")
