"""The ``ovmer`` command line: registry, ``fetch`` exit codes and messages, import and export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from asset_helpers import leftovers, make_source, offline_manifest
from cli_helpers import one_line_error, run_cli

from ovmer.assets import asset_path, load_manifest
from ovmer.data import released_file
from ovmer.store import Record, ResultsStore, store_path

# The manifest's first entry: a fetch of everything meets it first.
FIRST = next(iter(load_manifest()))


def test_fetch_from_mirror_twice(mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "fetch", "--source", str(mirror), "--dest", str(tmp_path), "--quiet")
    assert code == 0 and out.startswith("74 fetched, 0 already verified, 1 archives unpacked")
    code, out, _ = run_cli(capsys, "fetch", "--source", str(mirror), "--dest", str(tmp_path), "--quiet")
    assert code == 0 and out.startswith("0 fetched, 74 already verified, 0 archives unpacked")


@pytest.mark.parametrize("damage", ["tampered", "truncated", "missing"])
def test_fetch_bad_source_exits_non_zero(
    mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    files = [] if damage == "missing" else [FIRST]
    source = make_source(mirror, tmp_path / "source", files, damage)
    dest = tmp_path / "data"
    code, _, err = run_cli(capsys, "fetch", "--source", str(source), "--dest", str(dest), "--quiet")
    assert code == 1
    line = one_line_error(err, "fetch")
    assert f"error: {FIRST}: " in line
    assert ("missing from the asset source" if damage == "missing" else "checksum mismatch") in line
    assert not (dest / FIRST).exists()
    assert not dest.exists() or leftovers(dest) == []


def test_fetch_network_failure_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    offline_manifest(monkeypatch, FIRST)
    code, _, err = run_cli(capsys, "fetch", "--dest", str(tmp_path), "--quiet")
    assert code == 1
    line = one_line_error(err, "fetch")
    assert f"{FIRST}: download from http://127.0.0.1:" in line and "OVMER_ASSET_SOURCE" in line


def test_fetch_unwritable_destination_exits_non_zero(
    mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"  # tests run as root: a path below a file is unwritable for anyone
    blocker.write_text("")
    code, _, err = run_cli(capsys, "fetch", "--source", str(mirror), "--dest", str(blocker / "data"), "--quiet")
    assert code == 1
    assert f"{FIRST}: cannot write into" in one_line_error(err, "fetch")


def test_fetch_as_a_real_process(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "ovmer", "fetch", "--source", str(tmp_path / "empty"), "--dest", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"ovmer fetch: error: {FIRST}: missing from the asset source {tmp_path / 'empty'}"
    )


def test_import_released_then_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "import-released", "--baseline", "Video-LLaVA", "--setting", "S2", "--output", str(tmp_path)
    )
    assert code == 0
    assert out.strip().splitlines()[-1] == (
        "imported 2 released files: 664 records added, 0 already present, 0 failed"
    )
    assert store_path("merge", "Video-LLaVA", "S2", root=tmp_path).is_file()
    code, out, _ = run_cli(
        capsys, "import-released", "--baseline", "Video-LLaVA", "--setting", "nosubtitle-addsub",
        "--output", str(tmp_path), "--quiet",
    )
    assert code == 0 and out.strip() == "imported 2 released files: 0 records added, 664 already present, 0 failed"

    target = tmp_path / "exported" / "output-reason-7b-nosubtitle-addsub-eng-openset.npz"
    code, out, _ = run_cli(capsys, "export", "extract/Video-LLaVA/S2", str(target), "--output", str(tmp_path))
    assert code == 0 and "(openset)" in out
    original = asset_path(released_file("Video-LLaVA", "S2", "openset"))
    with np.load(original) as expected, np.load(target) as ours:
        assert ours.files == expected.files
        for key in ours.files:
            assert ours[key].dtype == expected[key].dtype
            np.testing.assert_array_equal(ours[key], expected[key])

    store_file = store_path("merge", "Video-LLaVA", "S2", root=tmp_path)
    code, out, _ = run_cli(capsys, "export", str(store_file), str(tmp_path / "reasons.npz"))
    assert code == 0 and "(description)" in out
    with np.load(tmp_path / "reasons.npz", allow_pickle=True) as ours:
        assert len(ours["name2reason"].item()) == 332


def test_os_errors_and_warnings_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, _, err = run_cli(
        capsys, "import-released", "--baseline", "Otter", "--output", str(blocker / "out"), "--quiet"
    )
    assert code == 1 and str(blocker) in one_line_error(err, "import-released")
    assert "Traceback" not in err

    store = ResultsStore(tmp_path / "torn.jsonl")
    store.append(Record("a", "ok", "k", raw="[x]", value=["x"]))
    with open(store.path, "a", encoding="utf-8") as handle:
        handle.write('{"name": "b", "sta')  # a killed writer's torn line
    result = subprocess.run(
        [sys.executable, "-m", "ovmer", "export", str(store.path), str(tmp_path / "x.npz"), "--format", "openset"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"ovmer export: warning: {store.path}: skipped 1 unreadable line(s) [2] (an interrupted write); "
        "those samples will be redone"
    ]
