"""Notebooks as text: every notebook has a py:percent twin in sync, and papermill documents every parameter.

Both checks cover every ``notebooks/*.ipynb``, so a new notebook is checked the moment it lands
(`make notebooks-sync` writes its twin).
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
SYNC_HINT = "run `make notebooks-sync` (jupytext --sync) and commit both files"


def _cells(notebook) -> list[tuple[str, str, list[str]]]:
    return [(c.cell_type, c.source.strip("\n"), list(c.metadata.get("tags", []))) for c in notebook.cells]


def test_there_are_notebooks_and_a_pairing_config() -> None:
    assert len(NOTEBOOK_FILES) >= 7
    config = tomllib.loads((NOTEBOOKS / "jupytext.toml").read_text(encoding="utf-8"))
    assert set(config["formats"].split(",")) == {"ipynb", "py:percent"}


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_notebook_and_its_script_are_in_sync(notebook: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    script = notebook.with_suffix(".py")
    assert script.is_file(), f"{script.name} is missing: {SYNC_HINT}"
    assert script.read_text(encoding="utf-8").startswith("# %%"), f"{script.name} is not py:percent"
    assert _cells(jupytext.read(script)) == _cells(jupytext.read(notebook)), f"{notebook.name} and {script.name} " \
        f"differ: {SYNC_HINT}"


def test_every_script_has_its_notebook() -> None:
    orphans = [p.name for p in NOTEBOOKS.glob("*.py") if not p.with_suffix(".ipynb").is_file()]
    assert not orphans, f"scripts without a notebook: {orphans}: {SYNC_HINT}"


def _parameters(notebook: Path) -> list[tuple[str, str, str, str]]:
    """(name, type, default source, help) of each line of the notebook's ``parameters`` cell."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    [cell] = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    source = "".join(cell["source"])
    found = []
    for line, node in zip(source.splitlines(), ast.parse(source).body, strict=True):
        assert isinstance(node, ast.AnnAssign) and node.value is not None, f"{notebook.name}: {line!r}: not `name: type = value`"
        code, _, help_text = line.partition("  # ")
        assert help_text.strip(), f"{notebook.name}: {line!r} has no `  # help` comment"
        found.append((node.target.id, ast.unparse(node.annotation), code.split("=", 1)[1].strip(), help_text.strip()))
    return found


def _collapse(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_papermill_help_lists_every_parameter_with_type_and_help(notebook: Path) -> None:
    from click.testing import CliRunner
    from papermill.cli import papermill

    result = CliRunner().invoke(papermill, ["--help-notebook", str(notebook)], terminal_width=100)
    assert result.exit_code == 0, result.output
    shown = _collapse(result.output)
    parameters = _parameters(notebook)
    assert parameters, f"{notebook.name} declares no parameters"
    for name, kind, default, help_text in parameters:
        expected = _collapse(f"{name}: {kind} (default {default}) {help_text}")
        assert expected in shown, f"{notebook.name}: papermill shows no {expected!r}:\n{result.output}"
    listed = re.findall(r"^  (\w+): ", result.output, flags=re.MULTILINE)
    assert listed == [p[0] for p in parameters]
