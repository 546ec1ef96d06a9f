"""The authors' list splitting, kept for exact reproduction of their evaluation.

The OV-MER evaluation code reads every label-list string (the wheel resources'
comma-separated cells, the ground truth and the predictions) with one small rule:
drop one leading ``[`` and one trailing ``]``, split on quotes and commas, strip
each piece and drop empty pieces. Nothing is lower-cased here; callers do that.

:func:`split_authors_list` lives with the asset reader (:mod:`ovmer.data.wheels`), whose
files were written for it. :func:`parse_labels_authors` applies the same rule to
predictions and is selectable with ``parser="authors"``; it differs from
:func:`ovmer.labels.parse_labels` only on malformed replies (text after ``[]``, a
reply that is a sentence, semicolons, apostrophes), see ``LABEL_PARSERS``.
"""

from __future__ import annotations

from typing import Any

from ovmer.data.wheels import split_authors_list
from ovmer.errors import LabelFormatError

__all__ = ["parse_labels_authors", "split_authors_list"]


def parse_labels_authors(value: Any, where: str = "label list") -> list[str]:
    """The authors' reading of a label list: their split, then lower-case and strip, de-duplicated.

    Lists, tuples and numpy arrays are read item by item (each item is one label,
    as in the authors' code, which passes lists through unchanged).
    """
    if hasattr(value, "tolist") and getattr(value, "shape", None) is not None:
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        pieces: list[str] = []
        for item in value:
            if not isinstance(item, str):
                raise LabelFormatError(
                    f"{where}: label list items must be text, got {type(item).__name__} {item!r:.60}"
                )
            pieces.append(item)
    elif isinstance(value, bytes):
        pieces = split_authors_list(value.decode("utf-8", errors="replace"))
    else:
        try:
            pieces = split_authors_list(value)
        except LabelFormatError as exc:
            raise LabelFormatError(f"{where}: {exc}") from None
    labels = (piece.lower().strip() for piece in pieces)
    return list(dict.fromkeys(label for label in labels if label))
