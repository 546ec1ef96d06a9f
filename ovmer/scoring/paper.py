"""Published numbers of the paper, kept apart from anything we compute.

``PAPER_GPT_GROUPING``: the set-level accuracy and recall (and their average)
that the authors' GPT-3.5 groupings (``gpt-grouping/openset-synonym.zip``) give
for ``gpt-grouping/predict-openset.csv`` against ``ovmerd/check-openset.csv``,
as published with those assets.

``PAPER_EW_TABLE``: the paper's table comparing the GPT-based metric with the
emotion-wheel metrics over 12 systems, with its PCC row (Lian et al., "OV-MER:
Towards Open-Vocabulary Multimodal Emotion Recognition", ICML 2025,
arXiv:2410.01495). Its values have not been transcribed into this package yet:
they could not be retrieved from a source this project can cite, and made-up
numbers are worse than none. Accessing it raises :class:`PaperTableMissing`
with that explanation; :func:`paper_ew_table_available` tells notebooks whether
to show the comparison.
"""

from __future__ import annotations

from typing import Any

from ovmer.errors import OvmerError

PAPER_GPT_GROUPING: dict[str, float] = {
    "accuracy": 0.581777108433735,
    "recall": 0.4977911646586345,
    "average": 0.5397841365461847,
}

# Column layout the table will have once transcribed (values ×100 as printed; index: systems as the
# paper writes them, plus a "PCC" row).
PAPER_EW_COLUMNS: tuple[str, ...] = (
    "GPT",
    "M1",
    "M2",
    *(f"M3-W{w}-L{level}" for w in range(1, 6) for level in (1, 2)),
    "M-avg",
)

# None until the published values are transcribed from the paper (table and section cited here).
_PAPER_EW_ROWS: dict[str, tuple[float, ...]] | None = None


class PaperTableMissing(OvmerError):
    """The paper's EW/PCC table is not transcribed in this package."""


def paper_ew_table_available() -> bool:
    return _PAPER_EW_ROWS is not None


def _paper_ew_table() -> Any:
    if _PAPER_EW_ROWS is None:
        raise PaperTableMissing(
            "PAPER_EW_TABLE: the paper's GPT-vs-emotion-wheel table (12 systems and the PCC row, "
            "arXiv:2410.01495) is not transcribed into ovmer/scoring/paper.py yet; no published values "
            "are shipped rather than unverified ones. Compare against our own scores "
            "(ovmer.scoring.score_released) or add the table from the paper."
        )
    import pandas as pd

    return pd.DataFrame.from_dict(_PAPER_EW_ROWS, orient="index", columns=list(PAPER_EW_COLUMNS))


def __getattr__(name: str) -> Any:
    if name == "PAPER_EW_TABLE":
        return _paper_ew_table()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
