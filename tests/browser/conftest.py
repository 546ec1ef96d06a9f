"""Browser layer: a real JupyterLab server driven by Playwright in Debian's Chromium.

The server listens on 127.0.0.1 at a free port with a random token; its root is a temporary
folder holding copies of the notebooks; notebooks run on the package's kernel ("ovmer", the
kernel rule of :mod:`ovmer.reproduce.notebooks`). Jupyter's config, data, runtime and
JupyterLab's settings folders are temporary too (no news pop-up, nothing of the user's).
Playwright's own browser download is not used: Chromium is the system one (``.ci/run`` installs
it with apt). Without Chromium, Playwright or enough free memory the tests skip, saying why.
Server and browser are stopped whatever happens. Screenshots go to ``output/browser/``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from integration.conftest import ovmer_data  # noqa: F401  (the assets, fetched once per session)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "output" / "browser"
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser", "google-chrome")
MIN_FREE_GIB = 2.0  # Chromium + JupyterLab + a kernel take about 1-2 GiB
START_TIMEOUT = 90.0


def chromium_executable() -> str | None:
    """The system Chromium (``OVMER_CHROMIUM`` overrides the search)."""
    for candidate in (os.environ.get("OVMER_CHROMIUM"), *CHROMIUM_CANDIDATES):
        if candidate and (Path(candidate).is_file() or shutil.which(candidate)):
            return candidate if Path(candidate).is_file() else shutil.which(candidate)
    return None


def free_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("inf")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    root: Path  # the server's root folder: notebooks/ holds the copies

    def notebook_url(self, name: str) -> str:
        """The notebook alone in a fresh workspace of its own (``reset``: nothing restored)."""
        workspace = name.replace(".", "-")
        return f"{self.url}/lab/workspaces/{workspace}/tree/notebooks/{name}?token={self.token}&reset"


def _wait_until_up(url: str, token: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer within {START_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def chromium() -> str:
    pytest.importorskip("playwright", reason="Playwright for Python is not installed (pip install 'ovmer[browser]')")
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; .ci/run installs it)")
    if free_gib() < MIN_FREE_GIB:
        pytest.skip(f"only {free_gib():.1f} GiB of memory free; Chromium and JupyterLab need about {MIN_FREE_GIB}")
    return executable


@pytest.fixture(scope="session")
def lab(chromium: str, ovmer_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:  # noqa: F811
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("*.py", "*.toml"))
    settings = base / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    token, port = secrets.token_hex(16), free_port()
    env = {
        **os.environ,
        "OVMER_DATA": str(ovmer_data),
        "OVMER_OUTPUT": str(base / "output"),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "IPYTHONDIR": str(base / "ipython"),
        "TQDM_DISABLE": "1",
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
    }
    log = base / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--ServerApp.allow_remote_access=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI runs as root
        command.append("--allow-root")
    with log.open("w") as handle:
        process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=root,
                                   start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, token, process, log)
        yield Lab(url, token, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


@pytest.fixture
def page(browser, request) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    try:
        yield page
    finally:
        if getattr(request.node, "failed_call", False):  # what the page showed when the test failed
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            stem = SCREENSHOTS / f"failed-{request.node.name}"
            page.screenshot(path=f"{stem}.png", full_page=True)
            Path(f"{stem}.html").write_text(page.content(), encoding="utf-8")
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
