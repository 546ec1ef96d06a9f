"""The emotion-wheel assets, read in one place for everything that needs them.

Files (``emotion_wheel/`` in the data folder):

- ``wheel1.xlsx`` … ``wheel5.xlsx``: columns ``level1, level2, level3``; a blank cell
  takes the value above it (the spreadsheets use merged cells).
- ``synonym.xlsx``: eight runs of columns ``word_runK, synonym_runK``; ``word_runK``
  is a wheel word and ``synonym_runK`` a comma list of its synonyms.
- ``format.csv``: columns ``name, format``; ``format`` is a comma list of the other
  word forms of ``name``.

Every cell is lower-cased and stripped, and comma lists are split with the authors'
rule (:func:`split_authors_list`): the exact scores depend on both. The readers give
rows in file order; what each user builds from them is its own job (the metrics'
label maps in :mod:`ovmer.scoring.resources`, the CPU extractor's lexicon, the
wheel figures). :mod:`ovmer.scoring.reference` reads the files on its own on
purpose: it is the independent check of this path.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovmer.assets import asset_path
from ovmer.data.csvfile import read_csv_columns
from ovmer.errors import LabelFormatError, OvmerError, reading
from ovmer.paths import data_dir

N_WHEELS = 5
WHEEL_FILES: tuple[str, ...] = tuple(f"emotion_wheel/wheel{k}.xlsx" for k in range(1, N_WHEELS + 1))
SYNONYM_FILE = "emotion_wheel/synonym.xlsx"
FORMAT_FILE = "emotion_wheel/format.csv"
# This order is part of the scoring cache key (ovmer.scoring.resources.resources_key).
WHEEL_ASSETS: tuple[str, ...] = (*WHEEL_FILES, SYNONYM_FILE, FORMAT_FILE)
SYNONYM_RUNS = 8
WHEEL_LEVELS = ("level1", "level2", "level3")

WheelRow = tuple[str, str, str]  # (level1, level2, level3), blanks filled from above
ListRow = tuple[str, tuple[str, ...]]  # a word and the words of its comma-list cell

_AUTHORS_SPLIT = re.compile("['\",]")


def split_authors_list(text: Any) -> list[str]:
    """``"[a, 'b']"`` -> ``['a', 'b']`` exactly as the authors' reader splits it (case kept).

    Their rule: drop one leading ``[`` and one trailing ``]``, split on quotes and
    commas, strip each piece, drop empty pieces. ``None`` and NaN give ``[]``.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    if not isinstance(text, str):
        raise LabelFormatError(f"expected text, got {type(text).__name__} {text!r:.60}")
    if text.startswith("["):
        text = text[1:]
    if text.endswith("]"):
        text = text[:-1]
    return [piece.strip() for piece in _AUTHORS_SPLIT.split(text) if piece.strip()]


def clean_cell(value: Any) -> str:
    """A cell as the metrics compare it: text, lower-cased, stripped."""
    return str(value).lower().strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _read_sheet(path: Path) -> Any:
    import pandas as pd  # lazy: pandas and openpyxl cost more than the rest of the import

    # openpyxl and zipfile raise many types on a damaged file (BadZipFile, KeyError, XML errors, zlib.error).
    with reading(path, "the spreadsheet"):
        return pd.read_excel(path)


def read_wheel_rows(path: str | os.PathLike[str]) -> list[WheelRow]:
    """One wheel spreadsheet -> its (level1, level2, level3) rows, blank cells filled from above."""
    path = Path(path)
    frame = _read_sheet(path)
    missing = [c for c in WHEEL_LEVELS if c not in frame.columns]
    if missing:
        raise OvmerError(f"{path}: missing column(s) {missing}; has {list(frame.columns)}")
    rows: list[WheelRow] = []
    current = ["", "", ""]
    for number, row in enumerate(frame[list(WHEEL_LEVELS)].itertuples(index=False), start=2):
        for level, cell in enumerate(row):
            if not is_blank(cell):
                current[level] = clean_cell(cell)
        if not all(current):
            raise OvmerError(f"{path}: row {number} has no {WHEEL_LEVELS[current.index('')]}")
        rows.append((current[0], current[1], current[2]))
    return rows


def read_synonym_runs(path: str | os.PathLike[str]) -> list[ListRow]:
    """synonym.xlsx -> (wheel word, its synonyms) of every row of every run, run by run."""
    path = Path(path)
    frame = _read_sheet(path)
    rows: list[ListRow] = []
    for run in range(1, SYNONYM_RUNS + 1):
        word_col, syn_col = f"word_run{run}", f"synonym_run{run}"
        if word_col not in frame.columns or syn_col not in frame.columns:
            raise OvmerError(f"{path}: missing column {word_col} or {syn_col}; has {list(frame.columns)}")
        for number, (word, synonyms) in enumerate(zip(frame[word_col], frame[syn_col], strict=True), start=2):
            if is_blank(word):
                raise OvmerError(f"{path}: row {number} has an empty {word_col}")
            pieces = split_authors_list(None if is_blank(synonyms) else synonyms)
            rows.append((clean_cell(word), tuple(clean_cell(s) for s in pieces)))
    return rows


def read_word_forms(path: str | os.PathLike[str]) -> list[ListRow]:
    """format.csv -> (name, its other word forms) per row; rows without a name are skipped."""
    frame = read_csv_columns(path, ("name", "format"), "the word-form table")
    rows: list[ListRow] = []
    for name, forms in zip(frame["name"], frame["format"], strict=True):
        name = clean_cell(name)
        if name:
            rows.append((name, tuple(clean_cell(form) for form in split_authors_list(forms))))
    return rows


@dataclass(frozen=True)
class WheelAssets:
    """The parsed emotion-wheel files: what every user of them starts from."""

    wheels: tuple[tuple[WheelRow, ...], ...]  # one per wheel file, in order
    synonyms: tuple[ListRow, ...]  # (wheel word, synonyms), all runs
    word_forms: tuple[ListRow, ...]  # (name, forms)

    def synonym_runs(self) -> list[tuple[int, str, tuple[str, ...]]]:
        """(run number from 1, wheel word, synonyms) of every synonym row.

        The runs are column pairs of one sheet, so the reader gives each the same number of rows.
        """
        per_run = max(1, len(self.synonyms) // SYNONYM_RUNS)
        return [(min(SYNONYM_RUNS, i // per_run + 1), word, synonyms) for i, (word, synonyms) in enumerate(self.synonyms)]

    def wheel_words(self) -> set[str]:
        """Every word of every level of every wheel."""
        return {word for rows in self.wheels for row in rows for word in row}


def read_wheel_assets(paths: Mapping[str, str | os.PathLike[str]]) -> WheelAssets:
    """Parse the files named by ``paths`` (manifest path, as in :data:`WHEEL_ASSETS` -> local file)."""
    return WheelAssets(
        wheels=tuple(tuple(read_wheel_rows(paths[rel])) for rel in WHEEL_FILES),
        synonyms=tuple(read_synonym_runs(paths[SYNONYM_FILE])),
        word_forms=tuple(read_word_forms(paths[FORMAT_FILE])),
    )


def wheel_asset_paths(data: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """Manifest path -> verified local file of every wheel asset (fetched first if needed)."""
    return {rel: asset_path(rel, data) for rel in WHEEL_ASSETS}


@functools.lru_cache(maxsize=4)
def _load(folder: str) -> WheelAssets:
    return read_wheel_assets(wheel_asset_paths(folder))


def load_wheel_assets(data: str | os.PathLike[str] | None = None) -> WheelAssets:
    """The parsed wheel assets of the data folder ``data`` (default ``OVMER_DATA``), once per process."""
    folder = Path(data).expanduser() if data is not None else data_dir()
    return _load(str(folder.resolve()))
