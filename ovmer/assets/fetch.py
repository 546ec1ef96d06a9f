"""Fetch the authors' public files into the data folder and verify them.

Sources, in order of preference: an explicit ``source`` folder, the
``OVMER_ASSET_SOURCE`` environment variable (a local mirror laid out like the
data folder), else the upstream GitHub URLs in ``manifest.tsv``. Every file is
checked against its sha256 before it is put in place; a file is written to a
temporary name and renamed, so an interrupted fetch never leaves half a file.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

from ovmer.errors import AssetError
from ovmer.paths import data_dir

SOURCE_ENV = "OVMER_ASSET_SOURCE"
# Archives that are unpacked next to themselves after verification.
ARCHIVES = {"gpt-grouping/openset-synonym.zip": "gpt-grouping"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class AssetEntry:
    path: str  # relative path inside the data folder
    sha256: str
    bytes: int
    url: str


@dataclass
class FetchReport:
    dest: Path
    fetched: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    unpacked: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.fetched)} fetched, {len(self.already_present)} already verified, "
            f"{len(self.unpacked)} archives unpacked into {self.dest}"
        )


@functools.lru_cache(maxsize=1)
def load_manifest() -> dict[str, AssetEntry]:
    """The packaged manifest: relative path -> entry."""
    text = resources.files("ovmer.assets").joinpath("manifest.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip()]
    header, body = rows[0], rows[1:]
    if header != ["path", "sha256", "bytes", "url"]:
        raise AssetError(f"ovmer/assets/manifest.tsv: unexpected header {header}")
    return {r[0]: AssetEntry(r[0], r[1], int(r[2]), r[3]) for r in body}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def manifest_hashes() -> frozenset[str]:
    return frozenset(entry.sha256 for entry in load_manifest().values())


def _is_verified(path: Path, entry: AssetEntry) -> bool:
    return path.is_file() and path.stat().st_size == entry.bytes and sha256_file(path) == entry.sha256


def _resolve_source(source: str | os.PathLike[str] | None) -> Path | None:
    if source is None:
        source = os.environ.get(SOURCE_ENV) or None
    if source is None:
        return None
    folder = Path(source).expanduser()
    if not folder.is_dir():
        raise AssetError(f"asset source {folder} is not a folder")
    return folder


def _copy_into(tmp: Path, entry: AssetEntry, source: Path | None, timeout: float) -> None:
    if source is not None:
        origin = source / entry.path
        if not origin.is_file():
            raise AssetError(f"{entry.path}: missing from the asset source {source}")
        try:
            shutil.copyfile(origin, tmp)
        except OSError as exc:
            raise AssetError(f"{entry.path}: cannot copy from {origin} ({exc.strerror or exc})") from exc
        return
    try:
        with urllib.request.urlopen(entry.url, timeout=timeout) as reply, open(tmp, "wb") as out:
            shutil.copyfileobj(reply, out, _CHUNK)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise AssetError(
            f"{entry.path}: download from {entry.url} failed ({exc}); "
            f"offline? set {SOURCE_ENV}=<local mirror folder>"
        ) from exc


def _install_one(entry: AssetEntry, dest: Path, source: Path | None, timeout: float) -> None:
    target = dest / entry.path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp_name = tempfile.mkstemp(prefix=".partial-", dir=target.parent)
        os.close(handle)
    except OSError as exc:
        raise AssetError(f"{entry.path}: cannot write into {target.parent} ({exc.strerror})") from exc
    tmp = Path(tmp_name)
    try:
        _copy_into(tmp, entry, source, timeout)
        size = tmp.stat().st_size
        digest = sha256_file(tmp)
        if size != entry.bytes or digest != entry.sha256:
            raise AssetError(
                f"{entry.path}: checksum mismatch (got {size} bytes, sha256 {digest[:12]}…; "
                f"expected {entry.bytes} bytes, sha256 {entry.sha256[:12]}…); file refused"
            )
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise AssetError(f"{entry.path}: cannot install at {target} ({exc.strerror or exc})") from exc
    finally:
        tmp.unlink(missing_ok=True)


def extract_zip_safely(archive: Path, dest: Path) -> list[Path]:
    """Unpack ``archive`` into ``dest``, refusing absolute paths and ``..`` parts."""
    try:
        return _extract_members(archive, dest)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:  # a damaged archive: one line
        raise AssetError(f"{archive}: damaged zip archive ({type(exc).__name__}: {exc}); fetch it again") from exc


def _extract_members(archive: Path, dest: Path) -> list[Path]:
    written: list[Path] = []
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            member = PurePosixPath(info.filename.replace("\\", "/"))
            if member.is_absolute() or ".." in member.parts or info.filename.startswith("/"):
                raise AssetError(f"{archive.name}: unsafe member path {info.filename!r}; refused")
        for info in zf.infolist():
            target = dest.joinpath(*PurePosixPath(info.filename).parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".partial-{target.name}")
            with zf.open(info) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out)
            os.replace(tmp, target)
            written.append(target)
    return written


def _unpacked_marker(dest: Path, rel: str) -> Path:
    entry = load_manifest()[rel]
    return dest / ARCHIVES[rel] / f".unpacked-{entry.sha256[:16]}"


def fetch(
    source: str | os.PathLike[str] | None = None,
    dest: str | os.PathLike[str] | None = None,
    only: Iterable[str] | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> FetchReport:
    """Fetch (or copy from ``source``) every manifest asset into ``dest`` and verify it.

    Idempotent: a file already present with the right checksum is not fetched again.
    Raises :class:`AssetError` naming the first file that could not be installed;
    files installed before it stay (each is verified on its own).
    """
    manifest = load_manifest()
    wanted = list(manifest) if only is None else list(only)
    unknown = [rel for rel in wanted if rel not in manifest]
    if unknown:
        raise AssetError(f"not in the asset manifest: {', '.join(unknown)}")
    dest_dir = Path(dest).expanduser() if dest is not None else data_dir()
    src = _resolve_source(source)
    report = FetchReport(dest=dest_dir)

    from tqdm.auto import tqdm

    bar = tqdm(wanted, desc="fetch assets", unit="file", disable=not progress)
    for rel in bar:
        entry = manifest[rel]
        if _is_verified(dest_dir / rel, entry):
            report.already_present.append(rel)
        else:
            _install_one(entry, dest_dir, src, timeout)
            report.fetched.append(rel)
        if rel in ARCHIVES:
            marker = _unpacked_marker(dest_dir, rel)
            if not marker.exists():
                extract_zip_safely(dest_dir / rel, dest_dir / ARCHIVES[rel])
                marker.touch()
                report.unpacked.append(rel)
    return report


_verified_this_process: set[tuple[str, str]] = set()


def asset_path(rel: str, dest: str | os.PathLike[str] | None = None, fetch_missing: bool = True) -> Path:
    """Local path of a verified asset, fetching it first if it is absent or altered.

    ``rel`` is a manifest path (``ovmerd/check-openset.csv``) or a path inside an
    unpacked archive (``gpt-grouping/openset-synonym/sample_00000000.npy``).
    """
    dest_dir = Path(dest).expanduser() if dest is not None else data_dir()
    manifest = load_manifest()
    if rel not in manifest:
        for archive, folder in ARCHIVES.items():
            stem = PurePosixPath(archive).stem
            if rel.startswith(f"{folder}/{stem}"):
                asset_path(archive, dest_dir, fetch_missing)
                path = dest_dir / rel
                if not path.exists():
                    raise AssetError(f"{rel}: not found in the unpacked {archive}")
                return path
        raise AssetError(f"{rel}: not an asset of the manifest (see `ovmer fetch --list`)")
    path = dest_dir / rel
    key = (str(dest_dir.resolve()), rel)
    if key in _verified_this_process and path.is_file():
        return path
    if not _is_verified(path, manifest[rel]) or (
        rel in ARCHIVES and not _unpacked_marker(dest_dir, rel).exists()
    ):
        if not fetch_missing:
            raise AssetError(f"{rel}: not fetched into {dest_dir}; run `ovmer fetch`")
        fetch(dest=dest_dir, only=[rel], progress=False)
    _verified_this_process.add(key)
    return path
