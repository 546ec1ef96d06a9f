"""A plain, per-label implementation of the wheel metrics, written straight from the spec.

It shares nothing with the fast path but the label parser: it reads the wheel
files itself, maps every label of every sample under every metric one at a
time, and averages with plain loops. It exists to check the fast path (tests and
``benchmarks/bench_scoring.py`` require agreement to 1e-12) and as readable
documentation of the rules; it makes no attempt at speed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


def _split(text: Any) -> list[str]:
    # The resource cells are comma-separated strings (the authors' reader also splits on quotes).
    if not isinstance(text, str):
        return []
    text = text[1:] if text.startswith("[") else text
    text = text[:-1] if text.endswith("]") else text
    return [p.strip() for p in text.replace('"', ",").replace("'", ",").split(",") if p.strip()]


@dataclass
class PlainResources:
    forms: dict[str, list[str]]  # word form -> names
    synonyms: dict[str, list[str]]  # label -> wheel words
    wheels: list[dict[str, dict[str, list[str]]]]  # level1 -> level2 -> level3 words


def read_plain_resources(folder: Path) -> PlainResources:
    import pandas as pd

    forms: dict[str, list[str]] = {}
    table = pd.read_csv(folder / "format.csv", dtype=str, keep_default_na=False)
    for name, cell in zip(table["name"], table["format"], strict=True):
        name = name.lower().strip()
        for form in _split(cell):
            forms.setdefault(form.lower().strip(), []).append(name)
        forms.setdefault(name, []).append(name)

    synonyms: dict[str, list[str]] = {}
    sheet = pd.read_excel(folder / "synonym.xlsx")
    for run in range(1, 9):
        for word, cell in zip(sheet[f"word_run{run}"], sheet[f"synonym_run{run}"], strict=True):
            word = str(word).lower().strip()
            synonyms.setdefault(word, []).append(word)
            for synonym in _split(cell):
                synonyms.setdefault(synonym.lower().strip(), []).append(word)

    wheels = []
    for k in range(1, 6):
        tree: dict[str, dict[str, list[str]]] = {}
        l1 = l2 = l3 = ""
        for a, b, c in pd.read_excel(folder / f"wheel{k}.xlsx")[["level1", "level2", "level3"]].itertuples(
            index=False
        ):
            l1 = l1 if pd.isna(a) else str(a).lower().strip()
            l2 = l2 if pd.isna(b) else str(b).lower().strip()
            l3 = l3 if pd.isna(c) else str(c).lower().strip()
            tree.setdefault(l1, {}).setdefault(l2, []).append(l3)
        wheels.append(tree)
    return PlainResources(forms, synonyms, wheels)


def wheel_cluster(tree: dict[str, dict[str, list[str]]], level: int) -> dict[str, str]:
    """Every word of a wheel -> its level-1 or level-2 label (later places overwrite earlier ones)."""
    out: dict[str, str] = {}
    for top, middles in tree.items():
        out[top] = top if level == 1 else sorted(middles)[0]
        for middle, leaves in middles.items():
            out[middle] = top if level == 1 else middle
            for leaf in leaves:
                out[leaf] = top if level == 1 else middle
    return out


def plain_mappers(res: PlainResources) -> list[Callable[[str], str]]:
    """One function per metric (``METRIC_NAMES`` order): label -> mapped label, '' when dropped."""

    def m1(label: str) -> str:
        return sorted(res.forms[label])[0] if label in res.forms else ""

    def m2(label: str) -> str:
        name = m1(label)
        return sorted(res.synonyms[name])[0] if name and name in res.synonyms else ""

    def m3(cluster: dict[str, str]) -> Callable[[str], str]:
        def mapper(label: str) -> str:
            if label not in res.forms:
                return ""
            words = []
            for name in res.forms[label]:
                words.extend(res.synonyms.get(name, []))
            for word in sorted(words):
                if word in cluster:
                    return cluster[word]
            return ""

        return mapper

    mappers = [m1, m2]
    for tree in res.wheels:
        mappers.append(m3(wheel_cluster(tree, 1)))
        mappers.append(m3(wheel_cluster(tree, 2)))
    return mappers


def plain_scores(
    gt: Mapping[str, list[str]],
    pred: Mapping[str, list[str]],
    mappers: list[Callable[[str], str]],
) -> tuple[list[tuple[float, float, float]], float]:
    """[(precision, recall, F) per metric], M-avg — from parsed label lists, in ground-truth order."""
    results = []
    for mapper in mappers:
        precisions, recalls = [], []
        for name in gt:
            g = {mapper(label.lower().strip()) for label in gt[name]} - {""}
            p = {mapper(label.lower().strip()) for label in pred.get(name, [])} - {""}
            if not g:
                continue
            if not p:
                precisions.append(0.0)
                recalls.append(0.0)
            else:
                precisions.append(len(g & p) / len(p))
                recalls.append(len(g & p) / len(g))
        precision = float(np.mean(precisions)) if precisions else float("nan")
        recall = float(np.mean(recalls)) if recalls else float("nan")
        f = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
        results.append((precision, recall, f))
    return results, float(np.mean([f for _, _, f in results]))
