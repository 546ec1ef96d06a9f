"""Reading CSV files whose columns the caller names, with errors that say which file and column."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ovmer.errors import OvmerError

if TYPE_CHECKING:
    import pandas as pd


def read_csv_columns(
    path: str | os.PathLike[str], columns: Sequence[str], what: str = "CSV", one_of: Sequence[str] = ()
) -> pd.DataFrame:
    """All cells as text (empty cells stay ``""``); ``columns`` and one of ``one_of`` must be present.

    ``what`` names the kind of file in messages, e.g. ``"a prediction CSV"``. A
    ``.tsv`` file is read tab-separated.
    """
    import pandas as pd  # lazy: importing the data readers should not cost pandas' import

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep="\t" if Path(path).suffix == ".tsv" else ",")
    except (ValueError, OSError) as exc:
        raise OvmerError(f"{path}: cannot read {what} ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if one_of and not any(c in frame.columns for c in one_of):
        missing.append(" or ".join(one_of))
    if missing:
        needs = ", ".join(columns) + (f" and one of {', '.join(one_of)}" if one_of else "")
        raise OvmerError(f"{path}: missing column(s) {missing}; {what} needs {needs}; has {list(frame.columns)}")
    return frame
