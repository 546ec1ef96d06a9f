"""Reading CSV files whose columns the caller names, with errors that say which file and column."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from ovmer.errors import OvmerError


def read_csv_columns(path: str | os.PathLike[str], columns: Sequence[str], what: str = "CSV") -> pd.DataFrame:
    """All cells as text (empty cells stay ``""``); ``columns`` must be present.

    ``what`` names the kind of file in messages, e.g. ``"a prediction CSV"``.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError) as exc:
        raise OvmerError(f"{path}: cannot read {what} ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise OvmerError(
            f"{path}: missing column(s) {missing}; {what} needs {', '.join(columns)}; has {list(frame.columns)}"
        )
    return frame
