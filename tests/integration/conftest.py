"""Integration set-up: the assets, read through the fetch step.

Every session that runs an integration test fetches the assets (from
``OVMER_ASSET_SOURCE``, else the local mirror ``../shared/ovmer-data`` when
present, else upstream) into a temporary data folder and points ``OVMER_DATA``
at it, so the tests exercise the same fetch-and-verify path a user does.
Outputs go to a temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MIRROR = ROOT.parent / "shared" / "ovmer-data"


def asset_source() -> str | None:
    env = os.environ.get("OVMER_ASSET_SOURCE")
    if env:
        return env
    return str(DEFAULT_MIRROR) if DEFAULT_MIRROR.is_dir() else None


@pytest.fixture(scope="session", autouse=True)
def ovmer_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's verified data folder (``OVMER_DATA``)."""
    from ovmer.assets import fetch

    dest = tmp_path_factory.mktemp("ovmer-data")
    fetch(source=asset_source(), dest=dest, progress=False)
    os.environ["OVMER_DATA"] = str(dest)
    os.environ["OVMER_OUTPUT"] = str(tmp_path_factory.mktemp("ovmer-output"))
    return dest


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The local asset mirror (tests that tamper with copies of it)."""
    source = asset_source()
    if source is None:
        pytest.skip("no local asset mirror; set OVMER_ASSET_SOURCE")
    return Path(source)
