"""The adversarial layer's tools: run a command like a user, check its one-line outcome, damage files.

``Ovmer.run`` calls :func:`ovmer.cli.main` in-process (fast) and checks what every
outcome must satisfy: no traceback, and at most one error line, which starts with
``ovmer <command>: error:``. ``Ovmer.fails`` also checks the exit code and that
the message names the file or sample. ``store_snapshot`` / ``finished_records``
record a store before and after, so a test can assert that nothing was lost.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ovmer.cli import main


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """stderr without warnings, progress bars and per-sample failure lines of a summary."""
        return [
            line for line in self.err.splitlines()
            if line.strip() and ": warning: " not in line and not line.startswith("  ")
        ]

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.err.splitlines() if ": warning: " in line]


class Ovmer:
    """The ``ovmer`` command line, run in-process with the test's captured output."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def run(self, *argv: object) -> Outcome:
        self.capsys.readouterr()
        code = main([str(arg) for arg in argv])
        out, err = self.capsys.readouterr()
        outcome = Outcome(code, out, err)
        assert "Traceback (most recent call last)" not in out + err, err
        assert len(outcome.error_lines) <= 1 or code == 0, err
        return outcome

    def ok(self, *argv: object) -> Outcome:
        outcome = self.run(*argv)
        assert outcome.code == 0, outcome.err
        return outcome

    def fails(self, *argv: object, names: Iterable[str] = (), code: int = 1) -> str:
        """Run, expect exit ``code`` and one error line naming each of ``names``; the line."""
        outcome = self.run(*argv)
        assert outcome.code == code, (outcome.code, outcome.out, outcome.err)
        lines = outcome.error_lines
        assert len(lines) == 1, outcome.err
        line = lines[0]
        command = str(argv[0]) if argv[0] != "--debug" else str(argv[1])
        if code == 70:
            assert line.startswith(f"ovmer: internal error in {command}: "), line
        else:
            assert line.startswith(f"ovmer {command}: error: "), line
        for name in names:
            assert str(name) in line, (name, line)
        return line


# --------------------------------------------------------------------------- store snapshots


def store_snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (relative path -> bytes)."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def ok_lines(path: Path) -> list[tuple[str, str, str]]:
    """(name, key, value as canonical JSON) of every ok line of a store file, in file order."""
    out = []
    for line in path.read_bytes().split(b"\n"):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("status") == "ok":
            out.append((data["name"], data["key"], json.dumps(data["value"], sort_keys=True)))
    return out


def finished_records(root: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(store file, sample) -> every ok record's (key, value JSON) in file order."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for path in sorted(root.rglob("*.jsonl")) if root.exists() else []:
        for name, key, value in ok_lines(path):
            out.setdefault((str(path.relative_to(root)), name), []).append((key, value))
    return out


def assert_nothing_lost(before: Mapping[tuple[str, str], list], after: Mapping[tuple[str, str], list]) -> None:
    """Every ok record of ``before`` is still in ``after`` (same file, sample, key and value)."""
    for where, records in before.items():
        kept = after.get(where, [])
        for record in records:
            assert record in kept, f"{where}: finished record {record!r:.120} was lost"


# --------------------------------------------------------------------------- files


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def npz_bytes(compressed: bool = False, **arrays: Any) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def npy_bytes(array: Any) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array))
    return buffer.getvalue()


def record_line(name: Any = "sample_00000000", status: Any = "ok", key: Any = "k", **fields: Any) -> str:
    return json.dumps({"name": name, "status": status, "key": key, **fields}) + "\n"


def truncated(data: bytes, fraction: float = 0.5) -> bytes:
    return data[: max(1, int(len(data) * fraction))]


def bit_flipped(data: bytes, at: float = 0.5) -> bytes:
    flipped = bytearray(data)
    flipped[int(len(data) * at)] ^= 0xFF
    return bytes(flipped)


def mutated(data: bytes, seed: int, count: int = 8) -> bytes:
    """``data`` with ``count`` random bytes replaced (reproducible by ``seed``)."""
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(count):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def zip_with(members: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
