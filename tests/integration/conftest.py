"""Integration set-up: the assets, read through the fetch step.

Every session that runs an integration test fetches the assets (from
``OVMER_ASSET_SOURCE``, else the local mirror ``../shared/ovmer-data`` when
present, else upstream) into a temporary data folder and points ``OVMER_DATA``
at it, so the tests exercise the same fetch-and-verify path a user does.
Outputs go to a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from asset_helpers import asset_source, fetch_session_data


@pytest.fixture(scope="session", autouse=True)
def ovmer_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's verified data folder (``OVMER_DATA``)."""
    return fetch_session_data(tmp_path_factory)


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The local asset mirror (tests that tamper with copies of it)."""
    source = asset_source()
    if source is None:
        pytest.skip("no local asset mirror; set OVMER_ASSET_SOURCE")
    return Path(source)
