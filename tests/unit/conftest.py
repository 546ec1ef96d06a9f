"""Unit layer: no assets, no models, no subprocesses, no network.

Each test gets empty data and output folders (and no asset source), so it can
never read the real assets by accident, and a guard that fails it when it opens
a network socket or starts a process: such a test belongs in tests/integration.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

NETWORK_FAMILIES = {socket.AF_INET, socket.AF_INET6}


class LayerViolation(AssertionError):
    """A unit test reached for the network or a process."""


@pytest.fixture(autouse=True)
def empty_ovmer_folders(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty ``OVMER_DATA`` and ``OVMER_OUTPUT`` folders, and no ``OVMER_ASSET_SOURCE``."""
    root = tmp_path_factory.mktemp("unit-ovmer")
    (root / "data").mkdir()
    (root / "output").mkdir()
    monkeypatch.setenv("OVMER_DATA", str(root / "data"))
    monkeypatch.setenv("OVMER_OUTPUT", str(root / "output"))
    monkeypatch.delenv("OVMER_ASSET_SOURCE", raising=False)
    return root


@pytest.fixture(autouse=True)
def layer_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse network sockets and processes; the test fails even if the code swallowed the error."""
    violations: list[str] = []

    def refuse(what: str) -> None:
        violations.append(what)
        raise LayerViolation(f"unit tests must not {what}: move the test to tests/integration")

    def guard_socket(method: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(self: socket.socket, address: Any, *args: Any) -> Any:
            if self.family in NETWORK_FAMILIES:
                refuse(f"open a network socket ({method.__name__} {address!r})")
            return method(self, address, *args)

        return guarded

    for name in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, name, guard_socket(getattr(socket.socket, name)))

    def no_process(*args: Any, **kwargs: Any) -> Any:
        refuse(f"start a process ({args[1] if len(args) > 1 else kwargs.get('args')!r})")

    monkeypatch.setattr(subprocess.Popen, "__init__", no_process)
    for name in ("system", "fork", "forkpty", "posix_spawn", "posix_spawnp", "execv", "execve"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, lambda *args, _name=name, **kwargs: refuse(f"start a process (os.{_name})"))
    yield violations
    if violations:
        pytest.fail("unit-layer violations: " + "; ".join(violations), pytrace=False)
