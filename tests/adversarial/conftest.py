"""Adversarial layer: every command fed damaged, hostile and odd input, as a careless or hostile user would.

The assets are fetched once per session (the integration layer's fetch step,
``asset_helpers.fetch_session_data``), and the scoring resources and the CPU
extractor are warmed in that folder. Each test gets an empty output folder; a test
that damages the data folder asks for ``private_data``, a copy of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from adversarial_helpers import Ovmer
from asset_helpers import fetch_session_data


@pytest.fixture(scope="session", autouse=True)
def ovmer_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's verified data folder with warm caches (``OVMER_DATA``)."""
    from ovmer.extract.cpu import load_or_fit
    from ovmer.scoring.resources import load_resources

    data = fetch_session_data(tmp_path_factory)
    load_resources(data)
    load_or_fit(data)
    return data


@pytest.fixture(autouse=True)
def output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``OVMER_OUTPUT`` for each test; ``OVMER_DEBUG`` unset."""
    folder = tmp_path / "output"
    folder.mkdir()
    monkeypatch.setenv("OVMER_OUTPUT", str(folder))
    monkeypatch.delenv("OVMER_DEBUG", raising=False)
    return folder


@pytest.fixture()
def private_data(ovmer_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the data folder (caches included) that the test may damage; ``OVMER_DATA`` points at it."""
    folder = tmp_path / "data"
    shutil.copytree(ovmer_data, folder, symlinks=True)
    monkeypatch.setenv("OVMER_DATA", str(folder))
    return folder


@pytest.fixture()
def ovmer(capsys: pytest.CaptureFixture[str]) -> Ovmer:
    return Ovmer(capsys)
