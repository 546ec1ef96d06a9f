"""Reading CSV files whose columns the caller names, with errors that say which file, line and column.

The file is checked before any cell is used: it must be UTF-8 text (a byte-order
mark is allowed), have a header row without repeated or empty column names, and
every row must have exactly as many fields as the header. That last check is what
catches an unquoted comma inside a description: the row gains a field, and pandas
would otherwise shift the columns (taking the first one for an index) without a word.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ovmer.errors import OvmerError, ReadError

if TYPE_CHECKING:
    import pandas as pd


def decode_text(data: bytes, path: str | os.PathLike[str], what: str) -> str:
    """``data`` as UTF-8 (a leading byte-order mark dropped); else an error naming the line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReadError(
            f"{path}: {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as UTF-8"
        ) from None


def read_csv_rows(path: str | os.PathLike[str], what: str = "CSV") -> tuple[list[str], list[list[str]]]:
    """The header and the rows of a CSV (``.tsv``: tab-separated), every cell as text, shape checked."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ReadError(f"{path}: is a folder, not {what}") from None
    except OSError as exc:
        raise ReadError(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    text = decode_text(data, path, what)
    if "\x00" in text:
        raise ReadError(f"{path}: {what} holds NUL bytes; not a text file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t" if path.suffix.lower() == ".tsv" else ",",
                        strict=True)  # strict: a quote left open at the end of the file is an error, not a cell
    header: list[str] | None = None
    rows: list[list[str]] = []
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip() and header is not None):
                continue  # blank lines are skipped, as pandas does
            if header is None:
                header = [cell.strip() for cell in row]
                continue
            if len(row) != len(header):
                raise ReadError(
                    f"{path}: line {reader.line_num} has {len(row)} fields but the header has {len(header)} "
                    f"({', '.join(header)}); a cell holding a comma must be quoted"
                )
            rows.append(row)
    except csv.Error as exc:
        raise ReadError(f"{path}: line {reader.line_num}: malformed CSV ({exc})") from exc
    if header is None:
        raise ReadError(f"{path}: {what} is empty (no header row)")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise ReadError(f"{path}: column(s) {repeated} appear more than once in the header")
    if "" in header:
        raise ReadError(f"{path}: the header has an empty column name (column {header.index('') + 1})")
    return header, rows


def read_csv_columns(
    path: str | os.PathLike[str], columns: Sequence[str], what: str = "CSV", one_of: Sequence[str] = ()
) -> pd.DataFrame:
    """All cells as text (empty cells stay ``""``); ``columns`` and one of ``one_of`` must be present.

    ``what`` names the kind of file in messages, e.g. ``"a prediction CSV"``. A
    ``.tsv`` file is read tab-separated. The shape is checked by :func:`read_csv_rows`.
    """
    import pandas as pd  # lazy: importing the data readers should not cost pandas' import

    header, rows = read_csv_rows(path, what)
    missing = [c for c in columns if c not in header]
    if one_of and not any(c in header for c in one_of):
        missing.append(" or ".join(one_of))
    if missing:
        needs = ", ".join(columns) + (f" and one of {', '.join(one_of)}" if one_of else "")
        raise OvmerError(f"{path}: missing column(s) {missing}; {what} needs {needs}; has {header}")
    return pd.DataFrame(rows, columns=header, dtype=str) if rows else pd.DataFrame(
        {name: pd.Series(dtype=str) for name in header}
    )
