"""The ``ovmer`` command line without assets: usage, did-you-mean, the manifest listing, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_helpers import one_line_error, run_cli

from ovmer.assets import load_manifest
from ovmer.cli import COMMANDS
from ovmer.store import Record, ResultsStore

# The manifest's first entry: a fetch of everything meets it first.
FIRST = next(iter(load_manifest()))


def test_usage_and_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    for name in ("fetch", "import-released", "export"):
        assert name in out and name in COMMANDS
    assert run_cli(capsys)[0] == 2
    code, _, err = run_cli(capsys, "fetc")
    assert code == 2 and "did you mean 'fetch'" in err.lower()


def test_fetch_lists_the_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "fetch", "--list")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 74
    assert lines[0].split() == [load_manifest()[FIRST].sha256, str(load_manifest()[FIRST].bytes), FIRST]


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "import-released", "--baseline", "Video-Llava", "--output", str(tmp_path))
    assert code == 1 and "Did you mean 'Video-LLaVA'" in one_line_error(err, "import-released")
    code, _, err = run_cli(capsys, "import-released", "--setting", "S3", "--output", str(tmp_path))
    assert code == 1 and "unknown setting 'S3'" in one_line_error(err, "import-released")
    code, _, err = run_cli(capsys, "export", "nothing/here", str(tmp_path / "x.npz"))
    assert code == 1 and "neither a store .jsonl file nor STAGE/BASELINE/SETTING" in one_line_error(err, "export")
    code, _, err = run_cli(capsys, "export", "extract/Otter/S9", str(tmp_path / "x.npz"))
    assert code == 1 and "unknown setting 'S9'" in one_line_error(err, "export")

    store = ResultsStore(tmp_path / "s.jsonl")
    store.append(Record("a", "ok", "k", raw="[x]", value=["x"]))
    store.append(Record("b", "error", "k", error="boom"))
    code, _, err = run_cli(capsys, "export", str(store.path), str(tmp_path / "x.npz"), "--format", "openset")
    assert code == 1 and "have error records (b)" in one_line_error(err, "export")
    code, _, _ = run_cli(
        capsys, "export", str(store.path), str(tmp_path / "x.npz"), "--format", "openset", "--skip-errors"
    )
    assert code == 0
    with np.load(tmp_path / "x.npz") as data:
        assert data["filenames"].tolist() == ["a"]


def test_unknown_setting_is_an_ovmer_error_and_still_a_value_error() -> None:
    from ovmer.errors import OvmerError
    from ovmer.settings import Setting

    for error in (OvmerError, ValueError):
        with pytest.raises(error, match=r"unknown setting 'subtitel'; choose one of: nosubtitle \(S0\)"):
            Setting.parse("subtitel")
