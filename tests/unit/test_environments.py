"""The two conda environments name what the code imports for their backends."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ovmer"
# Import name -> the distribution that provides it (directly or as a dependency of it).
PROVIDED_BY = {
    "IPython": "ipykernel",
    "jupyter_client": "ipykernel",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "sklearn": "scikit-learn",
    "google": "protobuf",
}
# Backends that live in one environment only.
ONLY_IN = {"vllm": "vllm2", "whisperx": "whisperx"}


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def load_env(name: str) -> dict:
    return yaml.safe_load((ROOT / f"environment_{name}.yml").read_text())


def env_packages(env: dict) -> tuple[set[str], set[str], str]:
    """(conda package names, pip package names, the extras of this package installed with -e)."""
    conda, pip, extras = set(), set(), None
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            conda.add(requirement_name(dep))
        else:
            for line in dep["pip"]:
                if line.startswith("-e"):
                    match = re.fullmatch(r"-e\s+\.(\[([\w,]+)\])?", line.split("#")[0].strip())
                    assert match, f"unexpected editable install line {line!r}"
                    extras = match.group(2) or ""
                elif not line.startswith("-"):
                    pip.add(requirement_name(line))
    assert extras is not None, f"{env['name']}: must install this package (pip: -e .[...])"
    return conda, pip, extras


def package_requirements(extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {requirement_name(r) for r in project["dependencies"]}
    for extra in filter(None, extras.split(",")):
        names |= {requirement_name(r) for r in project["optional-dependencies"][extra]}
    return names


def third_party_imports(paths: list[Path]) -> dict[str, str]:
    """Top-level module -> one file importing it (``import``, ``from``, ``importlib.import_module("x")``)."""
    found: dict[str, str] = {}
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
                  and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                names = [node.args[0].value]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("ovmer", "__future__"):
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def distribution(import_name: str) -> str:
    return PROVIDED_BY.get(import_name, import_name).lower().replace("_", "-")


@pytest.mark.parametrize(
    ("env_name", "folders"),
    [
        ("vllm2", ["."]),  # the whole package: MLLMs, LLM stages, notebooks
        ("whisperx", ["describe", "data", "store", "assets"]),  # ASR and the describe stage around it
    ],
)
def test_environment_covers_the_imports_of_its_backends(env_name, folders):
    env = load_env(env_name)
    assert env["name"] == env_name
    conda, pip, extras = env_packages(env)
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.split("#")[0].strip() == "python=3.11"  # pyproject: requires-python >= 3.11
    available = conda | pip | package_requirements(extras)
    files = sorted({p for folder in folders for p in (PACKAGE / folder).rglob("*.py")})
    if folders == ["."]:
        files = sorted(PACKAGE.rglob("*.py"))
    missing = {
        name: where
        for name, where in third_party_imports(files).items()
        if ONLY_IN.get(name, env_name) == env_name and distribution(name) not in available
    }
    assert not missing, f"environment_{env_name}.yml lacks packages imported by the code: {missing}"


def test_backends_are_pinned_for_cuda_12_1():
    vllm_conda, vllm_pip, vllm_extras = env_packages(load_env("vllm2"))
    whisperx_conda, whisperx_pip, _ = env_packages(load_env("whisperx"))
    assert {"vllm", "transformers", "torch", "av"} <= vllm_pip
    assert {"whisperx", "torch", "torchaudio", "av"} <= whisperx_pip
    assert "models" in vllm_extras.split(",")
    for env in ("vllm2", "whisperx"):
        pip_lines = next(d for d in load_env(env)["dependencies"] if isinstance(d, dict))["pip"]
        assert "--extra-index-url https://download.pytorch.org/whl/cu121" in pip_lines
        assert any(line.startswith("torch==2.5.1") for line in pip_lines)
    # the code really imports these backends (so the check above is about something)
    imports = third_party_imports(sorted(PACKAGE.rglob("*.py")))
    assert {"vllm", "whisperx", "transformers", "torch", "av"} <= set(imports)
