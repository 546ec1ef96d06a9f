"""The unit layer's guard: network sockets and processes fail the test; the folders are empty."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LayerViolation


def test_network_connection_is_refused_and_recorded(layer_guard: list[str]) -> None:
    with pytest.raises(LayerViolation, match="network socket"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    assert len(layer_guard) == 1
    layer_guard.clear()  # the violation was the point of this test


def test_listening_socket_is_refused_and_local_pairs_are_allowed(layer_guard: list[str]) -> None:
    with socket.socket() as server, pytest.raises(LayerViolation, match="bind"):
        server.bind(("127.0.0.1", 0))
    left, right = socket.socketpair()
    left.close()
    right.close()
    assert layer_guard == [layer_guard[0]] and "bind" in layer_guard[0]
    layer_guard.clear()


def test_a_swallowed_process_start_is_still_recorded(layer_guard: list[str]) -> None:
    with contextlib.suppress(Exception):  # code that hides errors must not hide the violation
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    with pytest.raises(LayerViolation):
        os.system("true")
    assert len(layer_guard) == 2 and sys.executable in layer_guard[0]
    layer_guard.clear()


def test_data_and_output_folders_are_empty_and_there_is_no_asset_source() -> None:
    for variable in ("OVMER_DATA", "OVMER_OUTPUT"):
        folder = Path(os.environ[variable])
        assert folder.is_dir() and not any(folder.iterdir())
    assert "OVMER_ASSET_SOURCE" not in os.environ
