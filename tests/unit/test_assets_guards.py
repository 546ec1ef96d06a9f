"""Asset fetching refusals that need no mirror: bad sources, unknown names, unsafe archives, pickles."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from ovmer.assets import fetch, load_pickled_npz
from ovmer.assets.fetch import extract_zip_safely
from ovmer.errors import AssetError, UntrustedPickleError

GROUND_TRUTH = "ovmerd/check-openset.csv"


def test_source_that_is_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="is not a folder"):
        fetch(source=tmp_path / "nowhere", dest=tmp_path / "data", only=[GROUND_TRUTH], progress=False)


def test_unknown_asset_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="not in the asset manifest: ovmerd/nope.csv"):
        fetch(dest=tmp_path, only=["ovmerd/nope.csv"], progress=False)


def build_zip(path: Path, members: list[str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in members:
            archive.writestr(zipfile.ZipInfo(name), b"payload")
    return path


@pytest.mark.parametrize(
    "bad_member", ["../escape.txt", "/abs/escape.txt", "inner/../../escape.txt", "..\\escape.txt"]
)
def test_zip_extraction_refuses_unsafe_members(tmp_path: Path, bad_member: str) -> None:
    archive = build_zip(tmp_path / "evil.zip", ["openset-synonym/ok.npy", bad_member])
    dest = tmp_path / "out" / "inside"
    dest.mkdir(parents=True)
    with pytest.raises(AssetError, match="evil.zip: unsafe member path"):
        extract_zip_safely(archive, dest)
    # Checked before anything is written: not even the safe member is extracted.
    assert list(dest.rglob("*")) == []
    assert not list(tmp_path.rglob("escape.txt"))


def test_zip_extraction_of_safe_members(tmp_path: Path) -> None:
    archive = build_zip(tmp_path / "good.zip", ["folder/", "folder/a.npy", "folder/sub/b.npy"])
    written = extract_zip_safely(archive, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "folder/a.npy",
        "folder/sub/b.npy",
    ]
    assert (tmp_path / "out" / "folder" / "a.npy").read_bytes() == b"payload"


class _TouchOnUnpickle:
    """Unpickling this creates ``marker``: proof of whether a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


def test_pickle_guard_refuses_unknown_files_before_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    holder = np.empty((), dtype=object)
    holder[()] = _TouchOnUnpickle(marker)
    npz = tmp_path / "untrusted.npz"
    np.savez(npz, name2reason=holder)
    with pytest.raises(UntrustedPickleError) as caught:
        load_pickled_npz(npz)
    message = str(caught.value)
    assert str(npz) in message and "sha256" in message and "trust=True" in message
    assert "arbitrary code" in message
    assert not marker.exists()
    load_pickled_npz(npz, trust=True)
    assert marker.exists()
