"""Reproduce the paper: stage notebooks run headlessly with papermill, tables, figures, records.

``ovmer reproduce`` (and ``make reproduce``) runs ``notebooks/04_score``,
``05_tables`` and ``06_figures`` (plus ``02_merge_clues``/``03_extract_labels``
when asked) in dependency order (:mod:`~ovmer.reproduce.steps`), skipping steps
whose declared inputs did not change. Tables and figures are one registry of
artefacts (:mod:`~ovmer.reproduce.artefacts`). Importing this package is cheap:
papermill, pandas and matplotlib load where used.
"""

from ovmer.reproduce.record import read_records, record, record_outputs

__all__ = ["read_records", "record", "record_outputs"]
