"""Published numbers of the paper, kept apart from anything we compute.

``PAPER_GPT_GROUPING``: the set-level accuracy and recall (and their average)
that the authors' GPT-3.5 groupings (``gpt-grouping/openset-synonym.zip``) give
for ``gpt-grouping/predict-openset.csv`` against ``ovmerd/check-openset.csv``,
as published with those assets.

``PAPER_EW_ROWS``: the paper's table comparing the GPT-based metric with the
emotion-wheel (EW) metrics on OV-MERD in the clue-merging setting (S2,
``nosubtitle-addsub``), for the 12 systems it evaluates. Source: Lian et al.,
"OV-MER: Towards Open-Vocabulary Multimodal Emotion Recognition", ICML 2025
(arXiv:2410.01495), the table reporting the GPT-based metric beside M1, M2,
M3-W1..W5 (L1, L2) and their average, with the PCC of each EW column against
the GPT column. Values ×100 as printed; systems named as the paper names them
(for the ten with released outputs, as :data:`ovmer.data.RELEASED_BASELINES`
does). The PCC row is not transcribed: :func:`paper_pcc` computes it from the
12 rows (Pearson correlation over systems of each column with ``GPT``).

The paper's numbers come from one LLM label-extraction run with sampling, so a
re-score of the released label files differs from them by up to about one point
of M-avg (the released files themselves are scored exactly).
"""

from __future__ import annotations

from typing import Any

import numpy as np

PAPER_GPT_GROUPING: dict[str, float] = {
    "accuracy": 0.581777108433735,
    "recall": 0.4977911646586345,
    "average": 0.5397841365461847,
}

PAPER_CITATION = (
    'Lian et al., "OV-MER: Towards Open-Vocabulary Multimodal Emotion Recognition", ICML 2025 (arXiv:2410.01495)'
)
# Column layout (values ×100 as printed).
PAPER_EW_COLUMNS: tuple[str, ...] = (
    "GPT",
    "M1",
    "M2",
    *(f"M3-W{w}-L{level}" for w in range(1, 6) for level in (1, 2)),
    "M-avg",
)
PCC_ROW = "PCC"

# In the paper's row order (ascending GPT).
PAPER_EW_ROWS: dict[str, tuple[float, ...]] = {
    "Qwen-Audio": (38.13, 20.49, 23.37, 43.85, 26.60, 41.52, 26.68, 39.46, 30.65, 36.64, 27.33, 35.89, 29.66, 31.84),
    "Otter": (43.51, 22.21, 27.99, 49.75, 33.50, 49.93, 33.04, 51.03, 37.12, 47.54, 34.77, 50.51, 35.54, 39.41),
    "Video-LLaMA": (44.73, 23.56, 28.39, 52.90, 36.08, 53.60, 35.33, 47.50, 36.50, 52.97, 35.78, 46.39, 34.77, 40.31),
    "VideoChat": (45.53, 22.15, 26.24, 47.79, 32.64, 47.76, 32.14, 46.78, 34.37, 49.53, 32.82, 45.93, 32.85, 37.58),
    "SECap": (45.72, 26.52, 32.88, 52.26, 37.55, 52.11, 37.71, 50.77, 40.49, 50.43, 38.21, 49.97, 40.25, 42.43),
    "Video-LLaVA": (47.07, 25.47, 30.73, 54.65, 37.65, 54.54, 38.25, 52.29, 40.58, 52.45, 39.91, 52.97, 39.69, 43.27),
    "SALMONN": (47.96, 23.57, 28.83, 54.90, 38.93, 54.29, 37.79, 56.25, 43.01, 50.53, 38.54, 53.65, 42.09, 43.53),
    "VideoChat2": (49.07, 26.92, 31.40, 52.38, 36.44, 53.56, 36.91, 52.14, 40.57, 50.63, 39.64, 51.37, 39.89, 42.65),
    "Video-ChatGPT": (50.52, 28.99, 34.05, 57.66, 41.48, 57.37, 40.95, 55.50, 44.15, 55.24, 42.42, 52.93, 41.54, 46.02),
    "LLaMA-VID": (51.25, 28.28, 32.85, 56.59, 41.22, 57.49, 40.39, 55.12, 44.06, 56.62, 42.42, 53.03, 41.65, 45.81),
    "mPLUG-Owl": (52.73, 27.47, 32.47, 57.60, 41.32, 56.32, 40.83, 55.67, 43.71, 55.06, 40.67, 54.44, 42.00, 45.63),
    "Chat-UniVi": (53.08, 28.89, 33.23, 57.00, 42.25, 57.50, 42.43, 56.80, 45.66, 55.86, 41.97, 55.81, 43.61, 46.75),
}


def paper_value(system: str, metric: str) -> float:
    """One published value (×100); KeyError for a system or metric the table does not have."""
    return PAPER_EW_ROWS[system][PAPER_EW_COLUMNS.index(metric)]


def paper_pcc() -> dict[str, float]:
    """The paper's PCC row: each EW column's Pearson correlation with ``GPT`` over its 12 systems."""
    gpt = [row[0] for row in PAPER_EW_ROWS.values()]
    return {
        column: float(np.corrcoef([row[k] for row in PAPER_EW_ROWS.values()], gpt)[0, 1])
        for k, column in enumerate(PAPER_EW_COLUMNS)
        if column != "GPT"
    }


def paper_ew_table() -> Any:
    """The table as a pandas DataFrame: the 12 systems and the computed ``PCC`` row (GPT column empty)."""
    import pandas as pd

    frame = pd.DataFrame.from_dict(PAPER_EW_ROWS, orient="index", columns=list(PAPER_EW_COLUMNS))
    frame.loc[PCC_ROW] = pd.Series(paper_pcc())
    return frame


def __getattr__(name: str) -> Any:
    if name == "PAPER_EW_TABLE":
        return paper_ew_table()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
