"""Fetching the authors' assets: verified, idempotent, atomic, and clear when something is wrong."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from asset_helpers import leftovers, make_source, offline_manifest

from ovmer.assets import asset_path, fetch, load_manifest, load_pickled_npz, sha256_file
from ovmer.assets.fetch import SOURCE_ENV
from ovmer.errors import AssetError, UntrustedPickleError

GROUND_TRUTH = "ovmerd/check-openset.csv"
SMALL = ["LICENSE-upstream-AffectGPT", GROUND_TRUTH, "emotion_wheel/wheel1.xlsx"]
ARCHIVE = "gpt-grouping/openset-synonym.zip"
RELEASED_DESCRIPTION = "results-ovmerd/Otter/output-reason-7b-subtitle-eng.npz"


def test_manifest_matches_the_mirror(mirror: Path) -> None:
    manifest = load_manifest()
    rows = [line.split("\t") for line in (mirror / "MANIFEST.tsv").read_text().splitlines()[1:] if line]
    assert len(manifest) == len(rows) == 74
    for path, sha, size, repo, upstream in rows:
        entry = manifest[path]
        assert (entry.sha256, entry.bytes) == (sha, int(size))
        assert entry.url == f"https://raw.githubusercontent.com/{repo}/HEAD/{upstream}"


def test_session_fetch_installed_every_file_verified(ovmer_data: Path) -> None:
    for rel, entry in load_manifest().items():
        path = ovmer_data / rel
        assert path.stat().st_size == entry.bytes, rel
        assert sha256_file(path) == entry.sha256, rel
    unpacked = sorted((ovmer_data / "gpt-grouping" / "openset-synonym").glob("*.npy"))
    assert len(unpacked) == 332
    assert leftovers(ovmer_data) == []


def test_fetch_from_mirror_then_refetch_is_idempotent(mirror: Path, tmp_path: Path) -> None:
    wanted = [*SMALL, ARCHIVE]
    first = fetch(source=mirror, dest=tmp_path, only=wanted, progress=False)
    assert first.fetched == wanted and first.already_present == []
    assert first.unpacked == [ARCHIVE]
    for rel in wanted:
        assert sha256_file(tmp_path / rel) == load_manifest()[rel].sha256
    assert len(list((tmp_path / "gpt-grouping" / "openset-synonym").glob("*.npy"))) == 332
    stamps = {rel: (tmp_path / rel).stat().st_mtime_ns for rel in wanted}

    second = fetch(source=mirror, dest=tmp_path, only=wanted, progress=False)
    assert second.fetched == [] and second.unpacked == []
    assert second.already_present == wanted
    assert {rel: (tmp_path / rel).stat().st_mtime_ns for rel in wanted} == stamps
    assert "0 fetched, 4 already verified" in second.summary()


def test_source_from_environment(mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOURCE_ENV, str(mirror))
    report = fetch(dest=tmp_path, only=[GROUND_TRUTH], progress=False)
    assert report.fetched == [GROUND_TRUTH]


@pytest.mark.parametrize("damage", ["tampered", "truncated"])
def test_damaged_copy_is_refused_and_not_installed(mirror: Path, tmp_path: Path, damage: str) -> None:
    source = make_source(mirror, tmp_path / "source", [GROUND_TRUTH], damage)
    dest = tmp_path / "data"
    with pytest.raises(AssetError) as caught:
        fetch(source=source, dest=dest, only=[GROUND_TRUTH], progress=False)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{GROUND_TRUTH}: checksum mismatch")
    assert "refused" in message
    assert not (dest / GROUND_TRUTH).exists()
    assert leftovers(dest) == []


def test_damaged_file_after_good_ones_keeps_the_good_ones(mirror: Path, tmp_path: Path) -> None:
    # The damaged file is the last one fetched: the verified ones before it stay installed.
    files = [GROUND_TRUTH, "emotion_wheel/wheel1.xlsx"]
    source = make_source(mirror, tmp_path / "source", files[::-1], "tampered")
    dest = tmp_path / "data"
    with pytest.raises(AssetError, match="emotion_wheel/wheel1.xlsx: checksum mismatch"):
        fetch(source=source, dest=dest, only=files, progress=False)
    assert sha256_file(dest / GROUND_TRUTH) == load_manifest()[GROUND_TRUTH].sha256
    assert not (dest / "emotion_wheel/wheel1.xlsx").exists()


def test_damaged_installed_file_is_replaced(mirror: Path, tmp_path: Path) -> None:
    fetch(source=mirror, dest=tmp_path, only=[GROUND_TRUTH], progress=False)
    target = tmp_path / GROUND_TRUTH
    target.write_bytes(target.read_bytes()[:-1])
    report = fetch(source=mirror, dest=tmp_path, only=[GROUND_TRUTH], progress=False)
    assert report.fetched == [GROUND_TRUTH]
    assert sha256_file(target) == load_manifest()[GROUND_TRUTH].sha256


def test_file_missing_from_source(mirror: Path, tmp_path: Path) -> None:
    source = make_source(mirror, tmp_path / "source", ["LICENSE-upstream-AffectGPT"])
    with pytest.raises(AssetError, match=f"^{GROUND_TRUTH}: missing from the asset source"):
        fetch(source=source, dest=tmp_path / "data", only=[GROUND_TRUTH], progress=False)
    assert not (tmp_path / "data" / GROUND_TRUTH).exists()


def test_network_failure_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    offline_manifest(monkeypatch, GROUND_TRUTH)
    dest = tmp_path / "data"
    with pytest.raises(AssetError) as caught:
        fetch(dest=dest, only=[GROUND_TRUTH], progress=False, timeout=5)
    message = str(caught.value)
    assert message.startswith(f"{GROUND_TRUTH}: download from http://127.0.0.1:")
    assert "failed" in message and SOURCE_ENV in message and "\n" not in message
    assert not (dest / GROUND_TRUTH).exists()
    assert leftovers(dest) == []


def test_unwritable_destination(mirror: Path, tmp_path: Path) -> None:
    # Tests run as root, which writes through read-only permissions; a destination
    # below a regular file cannot be created by anyone.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(AssetError, match=f"^{GROUND_TRUTH}: cannot write into .*a-file"):
        fetch(source=mirror, dest=blocker / "data", only=[GROUND_TRUTH], progress=False)
    assert blocker.read_text() == "not a folder"


def test_destination_occupied_by_a_folder(mirror: Path, tmp_path: Path) -> None:
    (tmp_path / GROUND_TRUTH / "inside").mkdir(parents=True)
    with pytest.raises(AssetError, match=f"^{GROUND_TRUTH}: cannot install at "):
        fetch(source=mirror, dest=tmp_path, only=[GROUND_TRUTH], progress=False)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_destination(mirror: Path, tmp_path: Path) -> None:
    dest = tmp_path / "data"
    (dest / "ovmerd").mkdir(parents=True)
    (dest / "ovmerd").chmod(0o500)
    try:
        with pytest.raises(AssetError, match="cannot write into"):
            fetch(source=mirror, dest=dest, only=[GROUND_TRUTH], progress=False)
    finally:
        (dest / "ovmerd").chmod(0o700)


def test_asset_path_refetches_an_altered_file(
    mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SOURCE_ENV, str(mirror))
    fetch(dest=tmp_path, only=[GROUND_TRUTH], progress=False)
    (tmp_path / GROUND_TRUTH).write_text("name,openset\n")
    path = asset_path(GROUND_TRUTH, tmp_path)
    assert sha256_file(path) == load_manifest()[GROUND_TRUTH].sha256


def test_asset_path_errors_and_archive_members(ovmer_data: Path, tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="not fetched into .*run `ovmer fetch`"):
        asset_path(GROUND_TRUTH, tmp_path, fetch_missing=False)
    with pytest.raises(AssetError, match="not an asset of the manifest"):
        asset_path("ovmerd/unknown.csv")
    member = asset_path("gpt-grouping/openset-synonym/sample_00000000.npy")
    assert member == ovmer_data / "gpt-grouping/openset-synonym/sample_00000000.npy"
    assert str(np.load(member)).startswith("[[")
    with pytest.raises(AssetError, match="not found in the unpacked"):
        asset_path("gpt-grouping/openset-synonym/sample_99999999.npy")


def test_pickle_guard_accepts_manifest_files_and_rejects_altered_copies(tmp_path: Path) -> None:
    released = asset_path(RELEASED_DESCRIPTION)
    data = load_pickled_npz(released)
    assert isinstance(data["name2reason"], dict) and len(data["name2reason"]) == 332
    copy = tmp_path / "copy.npz"
    shutil.copyfile(released, copy)
    assert load_pickled_npz(copy)["name2reason"] == data["name2reason"]  # same bytes, same sha
    with open(copy, "ab") as handle:
        handle.write(b"\0")  # still a valid zip, but no longer the authors' file
    with pytest.raises(UntrustedPickleError):
        load_pickled_npz(copy)
    assert load_pickled_npz(copy, trust=True)["name2reason"] == data["name2reason"]
