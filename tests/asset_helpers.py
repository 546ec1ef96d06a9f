"""Helpers for the fetch tests: damaged source folders and an unreachable upstream."""

from __future__ import annotations

import importlib
import os
import socket
from pathlib import Path

import pytest

from ovmer.assets import AssetEntry, load_manifest
from ovmer.assets.fetch import SOURCE_ENV

# ``ovmer.assets.fetch`` the attribute is the function; the module is needed for monkeypatching.
fetch_module = importlib.import_module("ovmer.assets.fetch")
DEFAULT_MIRROR = Path(__file__).resolve().parents[1].parent / "shared" / "ovmer-data"


def asset_source() -> str | None:
    """``OVMER_ASSET_SOURCE``, else the local mirror ``../shared/ovmer-data`` when present, else None (upstream)."""
    env = os.environ.get(SOURCE_ENV)
    if env:
        return env
    return str(DEFAULT_MIRROR) if DEFAULT_MIRROR.is_dir() else None


def fetch_session_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fetch the assets into a fresh folder, point ``OVMER_DATA`` (and ``OVMER_OUTPUT``) at it; the folder."""
    from ovmer.assets import fetch

    dest = tmp_path_factory.mktemp("ovmer-data")
    fetch(source=asset_source(), dest=dest, progress=False)
    os.environ["OVMER_DATA"] = str(dest)
    os.environ["OVMER_OUTPUT"] = str(tmp_path_factory.mktemp("ovmer-output"))
    return dest


def make_source(mirror: Path, folder: Path, files: list[str], damage: str | None = None) -> Path:
    """A source folder holding copies of ``files``; the first one damaged as asked."""
    for index, rel in enumerate(files):
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = (mirror / rel).read_bytes()
        if index == 0 and damage == "tampered":  # one byte changed, same size
            data = data[:100] + bytes([data[100] ^ 0x01]) + data[101:]
        elif index == 0 and damage == "truncated":
            data = data[: len(data) // 2]
        target.write_bytes(data)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def leftovers(folder: Path) -> list[Path]:
    """Temporary files a fetch must never leave behind."""
    return [p for p in folder.rglob("*") if p.name.startswith(".partial-")]


def closed_port_url(rel: str) -> str:
    """A URL on 127.0.0.1 at a port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{rel}"


def offline_manifest(monkeypatch: pytest.MonkeyPatch, rel: str) -> None:
    """A manifest holding only ``rel``, downloaded from a closed local port; no local source."""
    real = load_manifest()[rel]
    entry = AssetEntry(real.path, real.sha256, real.bytes, closed_port_url(rel))
    monkeypatch.setattr(fetch_module, "load_manifest", lambda: {rel: entry})
    monkeypatch.delenv(SOURCE_ENV, raising=False)
