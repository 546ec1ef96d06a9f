"""Adapters and backends from the user's own code: ``--include`` files and entry points of installed dists.

Each run is a fresh ``ovmer`` process, as a user's would be: the registries start
with the built-ins only, and the user's code joins them before a command reads them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from media_helpers import make_mer2025_layout

from ovmer.describe.runner import describe_store

ROOT = Path(__file__).resolve().parents[2]
USER_CODE = Path(__file__).resolve().parents[1] / "user_code"
NAMES = ("sample_00000001", "sample_00000002")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_mer2025_layout(tmp_path_factory.mktemp("user") / "data", NAMES, seconds=1.0, fps=8)


@pytest.fixture()
def user_file(tmp_path) -> Path:
    """The user's adapter, in a folder of theirs outside the package and the tests."""
    folder = tmp_path / "my_project"
    folder.mkdir()
    return Path(shutil.copy(USER_CODE / "my_adapter.py", folder / "my_adapter.py"))


def ovmer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "OVMER_INCLUDE"} | (env or {})
    return subprocess.run([sys.executable, "-m", "ovmer", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=environment)


def test_an_included_adapter_runs_through_ovmer_describe(dataset, tmp_path, user_file):
    listed = ovmer("--include", str(user_file), "baselines", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    assert any(line.startswith("my-model,audio+video,3 frames,native,me/my-model") for line in listed.stdout.splitlines())
    # --include after the command works the same
    result = ovmer("describe", "--baseline", "my-model", "--setting", "S1", "--data", str(dataset),
                   "--output", str(tmp_path / "out"), "--no-progress", "--include", str(user_file))
    assert result.returncode == 0, result.stderr
    assert "describe my-model S1: 2 done" in result.stdout
    records = describe_store("my-model", "subtitle", tmp_path / "out").latest()
    assert records["sample_00000002"].value.startswith(
        "3 frames, 16000 audio samples, subtitle 'subtitle of sample_00000002'.")
    # without the file the name is unknown, with a hint
    missing = ovmer("describe", "--baseline", "my-model", "--setting", "S1", "--data", str(dataset))
    assert missing.returncode == 1 and "unknown baseline 'my-model'" in missing.stderr


def test_an_included_folder_imports_every_module_and_siblings_import_each_other(dataset, tmp_path):
    folder = tmp_path / "plugins"
    folder.mkdir()
    shutil.copy(USER_CODE / "my_adapter.py", folder / "b_adapter.py")
    (folder / "a_settings.py").write_text("FRAMES = 2\n")
    (folder / "c_second.py").write_text(
        "import dataclasses\nimport a_settings\nfrom b_adapter import MyModel\n"
        "from ovmer.describe import FramePolicy, register_adapter\n\n"
        "@register_adapter\nclass Second(MyModel):\n"
        "    spec = dataclasses.replace(MyModel.spec, name='my-second', frames=FramePolicy(a_settings.FRAMES))\n")
    result = ovmer("--include", str(folder), "baselines", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = {line.split(",")[0]: line for line in result.stdout.splitlines()}
    assert rows["my-model"].startswith("my-model,audio+video,3 frames")
    assert rows["my-second"].startswith("my-second,audio+video,2 frames")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: shutil.copy(USER_CODE / "clash.py", d / "clash.py"),
         "clash.py: cannot register baseline 'video-llava': a built-in baseline 'Video-LLaVA' has that name"),
        (lambda d: (d / "broken.py").write_text("x = 1\nraise ValueError('no weights here')\n") and d / "broken.py",
         "broken.py: importing it failed at broken.py:2: ValueError: no weights here"),
        (lambda d: d / "absent.py", "absent.py: no such file or folder"),
    ],
)
def test_bad_user_code_is_one_clear_line(tmp_path, make, message):
    path = Path(make(tmp_path))
    result = ovmer("--include", str(path), "baselines")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"ovmer: error: --include {tmp_path}/{message}"]


def write_distribution(site: Path, entry_points: str) -> None:
    """A dist-info as pip would install it, with the plugin module beside it."""
    info = site / "ovmer_user_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ovmer-user-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)
    shutil.copy(USER_CODE / "entry_point_plugin.py", site / "entry_point_plugin.py")


def test_entry_points_of_an_installed_distribution_feed_the_registries(dataset, tmp_path):
    site = tmp_path / "site"
    write_distribution(site, "[ovmer.adapters]\nep-model = entry_point_plugin:EntryPointModel\n"
                             "video-llava = entry_point_plugin:EntryPointModel\n\n"
                             "[ovmer.backends]\nshouting = entry_point_plugin:ShoutingBackend\n")
    env = {"PYTHONPATH": str(site)}
    listed = ovmer("baselines", "--format", "csv", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {line.split(",")[0]: line for line in listed.stdout.splitlines()}
    assert rows["ep-model"].startswith("ep-model,audio,-,native,dist/ep-model")
    assert rows["Video-LLaVA"].split(",")[4] == "LanguageBind/Video-LLaVA-7B-hf"  # the built-in stays
    assert ("ovmer baselines: warning: entry point 'video-llava' (ovmer.adapters, ovmer-user-plugin) ignored: "
            "cannot register baseline 'video-llava': a built-in baseline 'Video-LLaVA' has that name") in listed.stderr
    described = ovmer("describe", "--baseline", "ep-model", "--setting", "S0", "--data", str(dataset),
                      "--output", str(tmp_path / "out"), "--no-progress", env=env)
    assert described.returncode == 0, described.stderr
    records = describe_store("ep-model", "nosubtitle", tmp_path / "out").latest()
    assert records["sample_00000001"].value == "audio of 16000 samples; sounds worried"
    # the backend answers a text stage: extraction of those descriptions
    extracted = ovmer("extract", "--backend", "shouting", "--model", "loud", "--baseline", "ep-model",
                      "--setting", "S0", "--source", "store", "--output", str(tmp_path / "out"), "--quiet", env=env)
    assert extracted.returncode == 0, extracted.stderr
    lines = (tmp_path / "out" / "store" / "extract" / "ep-model" / "nosubtitle.jsonl").read_text().splitlines()
    assert [json.loads(line)["value"] for line in lines] == [["worried", "anxious"]] * 2


def test_a_registered_spec_runs_through_the_external_protocol(dataset, tmp_path):
    for name in ("my_external_model.py", "my_runner.py"):
        shutil.copy(USER_CODE / name, tmp_path / name)
    result = ovmer("--include", str(tmp_path / "my_external_model.py"), "describe", "--baseline",
                   "my-external-model", "--setting", "S1", "--data", str(dataset), "--output", str(tmp_path / "out"),
                   "--no-progress", "--external-cmd", f"{sys.executable} {tmp_path / 'my_runner.py'}")
    assert result.returncode == 0, result.stderr
    records = describe_store("my-external-model", "subtitle", tmp_path / "out").latest()
    assert records["sample_00000001"].value.startswith(
        "sample_00000001.mp4 with sample_00000001.wav: she sounds happy.")
