"""Read and write the JSON files of a reproduction run (notebooks, stamps, the scores cache)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ovmer.errors import OvmerError


def read_json(path: str | Path, *, missing: str, malformed: str) -> Any:
    """The content of ``path``; a missing or unparsable file raises ``"<path>: <missing>"`` or
    ``"<path>: <malformed>"`` (``{error}`` in ``malformed`` becomes the parser's message)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OvmerError(f"{path}: {missing}") from None
    except (ValueError, RecursionError) as exc:  # bad JSON, or bytes that are not UTF-8
        raise OvmerError(f"{path}: {malformed.format(error=exc)}") from exc


def write_json(data: Any, path: str | Path) -> Path:
    """Write ``data`` to ``path`` through a temporary file, so a killed run never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".partial-{path.name}")
    tmp.write_text(json.dumps(data, indent=1, allow_nan=True), encoding="utf-8")
    os.replace(tmp, path)
    return path
