"""Run the CLI in-process and read its one-line errors (the CLI tests)."""

from __future__ import annotations

import pytest

from ovmer.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ovmer {command}: error: ")
    return lines[0]
