"""Statistics of OV-MERD's ground truth and of the emotion-wheel vocabulary (table 3, figures)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ovmer.data import load_ovmerd, load_released_descriptions
from ovmer.data.wheels import N_WHEELS, WHEEL_LEVELS, load_wheel_assets
from ovmer.errors import OvmerError
from ovmer.scoring import METRIC_NAMES
from ovmer.settings import Setting

VOCABULARY_STAGES = ("wheel words", "+ synonyms", "+ word forms")


def label_count_distribution(ground_truth: Mapping[str, Sequence[str]]) -> pd.Series:
    """Number of samples with k labels, for every k from 1 to the maximum (zeros kept)."""
    counts = Counter(len(labels) for labels in ground_truth.values())
    if not counts:
        raise OvmerError("ground truth is empty")
    index = range(1, max(counts) + 1)
    return pd.Series([counts.get(k, 0) for k in index], index=pd.Index(index, name="labels per sample"),
                     name="samples")


def label_frequencies(ground_truth: Mapping[str, Sequence[str]]) -> pd.Series:
    """Occurrences of every ground-truth label, most frequent first (ties alphabetical)."""
    counts = Counter(label for labels in ground_truth.values() for label in labels)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return pd.Series(dict(ordered), name="samples", dtype="int64").rename_axis("label")


def wheel_rows(wheel: int, data: str | None = None) -> pd.DataFrame:
    """One wheel spreadsheet as drawn: rows of (level1, level2, level3), blank cells filled from above."""
    if not 1 <= wheel <= N_WHEELS:
        raise OvmerError(f"wheel must be 1 to {N_WHEELS}, got {wheel}")
    return pd.DataFrame(list(load_wheel_assets(data).wheels[wheel - 1]), columns=list(WHEEL_LEVELS))


def _wheel_words(resources: object, wheel: int | None) -> set[str]:
    wheels = resources.wheels  # type: ignore[attr-defined]
    chosen = wheels if wheel is None else [wheels[wheel - 1]]
    return set().union(*(set(w.level1) for w in chosen))


def vocabulary_stages(resources: object) -> pd.DataFrame:
    """How the metric vocabulary grows per wheel: wheel words, + their synonyms, + word forms.

    For wheel k: its words; labels whose synonym targets include one of them;
    labels (any word form) the M3-Wk metrics map. For all wheels together: every
    wheel word; every synonym-table label; every word form M2 maps.
    """
    ids = resources.table.ids  # type: ignore[attr-defined]
    synonyms = resources.wheel_words_of  # type: ignore[attr-defined]
    rows = {}
    n_wheels = len(resources.wheels)  # type: ignore[attr-defined]
    for wheel in [*range(1, n_wheels + 1), None]:
        words = _wheel_words(resources, wheel)
        with_synonyms = words | {label for label, targets in synonyms.items() if words.intersection(targets)}
        metric = "M2" if wheel is None else f"M3-W{wheel}-L1"
        mapped = int(np.count_nonzero(ids[:, METRIC_NAMES.index(metric)] >= 0))
        rows["all wheels" if wheel is None else f"W{wheel}"] = [len(words), len(with_synonyms), mapped]
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(VOCABULARY_STAGES)).rename_axis("wheel")


def ground_truth_coverage(ground_truth: Mapping[str, Sequence[str]], resources: object) -> pd.DataFrame:
    """Share (%) of distinct ground-truth labels and of label occurrences each vocabulary covers.

    Rows: the plain wheel words, the synonym table, then each metric's
    vocabulary (a label is covered when the metric does not drop it).
    """
    frequencies = label_frequencies(ground_truth)
    total = int(frequencies.sum())
    wheel_words = _wheel_words(resources, None)
    synonym_labels = wheel_words | set(resources.wheel_words_of)  # type: ignore[attr-defined]
    mapped = {label: resources.map_label(label) for label in frequencies.index}  # type: ignore[attr-defined]

    def row(covered: set[str], size: int) -> list[float]:
        hits = [label for label in frequencies.index if label in covered]
        return [size, 100.0 * len(hits) / len(frequencies), 100.0 * frequencies[hits].sum() / total]

    rows = {"wheel words": row(wheel_words, len(wheel_words)),
            "synonym table": row(synonym_labels, len(synonym_labels))}
    ids = resources.table.ids  # type: ignore[attr-defined]
    for m, metric in enumerate(METRIC_NAMES):
        if metric.endswith("-L2"):  # L1 and L2 of a wheel drop the same labels
            continue
        covered = {label for label, values in mapped.items() if values[m] is not None}
        size = int((ids[:, m] >= 0).sum())
        rows[metric.removesuffix("-L1")] = row(covered, size)
    columns = ["vocabulary size", "distinct labels covered (%)", "occurrences covered (%)"]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns).rename_axis("vocabulary")
    frame["vocabulary size"] = frame["vocabulary size"].astype(int)
    return frame


def description_lengths(baselines: Sequence[str], settings: Sequence[object]) -> pd.DataFrame:
    """Words per description: the reference descriptions and each released baseline x setting.

    Long format with columns ``source`` (``reference`` or the baseline), ``setting``
    (short name, ``-`` for the reference), ``name`` and ``words``.
    """
    dataset = load_ovmerd()
    rows = [("reference", "-", n, len(dataset.reference_en[n].split())) for n in dataset.names]
    for baseline in baselines:
        for setting in settings:
            setting = Setting.parse(setting)  # type: ignore[arg-type]
            texts = load_released_descriptions(baseline, setting)
            rows += [(baseline, setting.short, n, len(texts.get(n, "").split())) for n in dataset.names]
    return pd.DataFrame(rows, columns=["source", "setting", "name", "words"])
