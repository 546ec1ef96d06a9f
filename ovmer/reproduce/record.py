"""Named values stored inside an executed notebook and read back afterwards.

A notebook cell calls ``record("m_avg/Chat-UniVi/S2", 47.2197)``; the value is
emitted as a display output with its own MIME type, so it travels inside the
``.ipynb`` that papermill writes. Tests and ``ovmer reproduce`` read it back with
:func:`read_records` instead of scraping printed text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ovmer.errors import OvmerError
from ovmer.reproduce.jsonfile import read_json
from ovmer.reproduce.layout import display_path

RECORD_MIME = "application/vnd.ovmer.record+json"


def _jsonable(value: Any, name: str) -> Any:
    """Plain JSON types only, so a record reads back exactly as it was written."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OvmerError(f"record {name!r}: value {value!r} is not a finite number")
        return float(value)
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalar
        return _jsonable(value.item(), name)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, name) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, name) for v in value]
    raise OvmerError(f"record {name!r}: cannot store a {type(value).__name__}; use numbers, text, lists, dicts")


def record(name: str, value: Any) -> Any:
    """Store ``value`` under ``name`` in the running notebook's outputs; returns ``value``.

    Outside a notebook kernel this only validates the value, so library code can
    call it unconditionally.
    """
    payload = {"name": str(name), "value": _jsonable(value, name)}
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is an optional (notebooks) dependency
        return value
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return value
    from IPython.display import display

    display({RECORD_MIME: payload}, raw=True)
    return value


def records_from_notebook(notebook: Mapping[str, Any], where: str = "notebook") -> dict[str, Any]:
    """Every record in an already-loaded notebook (a later record of a name wins)."""
    out: dict[str, Any] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if RECORD_MIME not in data:
                continue
            payload = data[RECORD_MIME]
            if isinstance(payload, str):  # some writers store JSON MIME data as text
                payload = json.loads(payload)
            if not isinstance(payload, Mapping) or "name" not in payload:
                raise OvmerError(f"{where}: malformed record output {payload!r:.80}")
            out[str(payload["name"])] = payload.get("value")
    return out


def read_records(path: str | Path) -> dict[str, Any]:
    """The records stored in an executed ``.ipynb`` file: name -> value."""
    notebook = read_json(path, missing="executed notebook not found", malformed="not a notebook ({error})")
    return records_from_notebook(notebook, where=str(path))


def record_outputs(paths: list[str | Path] | tuple[str | Path, ...]) -> list[str]:
    """Record the files a notebook wrote as ``outputs`` (machine-independent spellings).

    ``ovmer reproduce`` keeps them in the step's stamp and re-runs the step when
    one of them goes missing.
    """
    shown = [display_path(p) for p in paths]
    record("outputs", shown)
    return shown
