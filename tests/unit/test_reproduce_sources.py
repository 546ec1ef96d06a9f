"""The import graph that keys the reproduction steps: what a step's code reaches, read from the source."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ovmer.errors import OvmerError
from ovmer.reproduce.notebooks import notebook_code
from ovmer.reproduce.sources import ModuleGraph

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture()
def toy(tmp_path: Path) -> ModuleGraph:
    """A small package exercising every kind of reference the graph follows or ignores."""
    _write(tmp_path, {
        "ovmer/__init__.py": '"""Top."""\n',
        "ovmer/entry.py": (
            "from typing import TYPE_CHECKING\n"
            "from . import sibling\n"
            "from .pkg.deep import thing\n"
            "import json\n"
            "TARGET = 'ovmer.lazy:Backend'\n"
            "if TYPE_CHECKING:\n"
            "    from ovmer.typing_only import Alias\n"
            "def later():\n"
            "    from ovmer.inside import helper\n"
            "    return helper\n"
        ),
        "ovmer/sibling.py": "from ..ovmer import nothing_here\n",
        "ovmer/pkg/__init__.py": "",
        "ovmer/pkg/deep.py": "from importlib import resources\nDATA = resources.files('ovmer.data_pkg')\n",
        "ovmer/lazy.py": "",
        "ovmer/inside.py": "",
        "ovmer/typing_only.py": "",
        "ovmer/unrelated.py": '"""Never used."""\n',
        "ovmer/data_pkg/__init__.py": "",
        "ovmer/data_pkg/module_of_it.py": "",
        "ovmer/data_pkg/texts/prompt.txt": "hello",
        "ovmer/plugins/__init__.py": "",
        "ovmer/plugins/one.py": "",
        "ovmer/dynamic.py": "PLUGINS = 'ovmer.plugins'\n",
    })
    return ModuleGraph(tmp_path)


def test_graph_follows_imports_lazy_strings_and_parent_packages(toy: ModuleGraph) -> None:
    reached = toy.closure(["ovmer.entry"])
    assert reached == ["ovmer", "ovmer.data_pkg", "ovmer.entry", "ovmer.inside", "ovmer.lazy", "ovmer.pkg",
                       "ovmer.pkg.deep", "ovmer.sibling"]
    # TYPE_CHECKING imports never run; resources.files() reads data, not every module of the package
    assert "ovmer.typing_only" not in reached and "ovmer.data_pkg.module_of_it" not in reached
    # a string naming a package may be completed at run time: every module below it counts
    assert toy.closure(["ovmer.dynamic"]) == ["ovmer", "ovmer.dynamic", "ovmer.plugins", "ovmer.plugins.one"]
    assert toy.route(["ovmer.entry"], "ovmer.pkg.deep") == ["ovmer.entry", "ovmer.pkg.deep"]
    assert toy.route(["ovmer.entry"], "ovmer.unrelated") == []


def test_fingerprint_covers_sources_and_data_beside_them(toy: ModuleGraph) -> None:
    files = toy.fingerprint(["ovmer.entry"])
    assert "ovmer/data_pkg/texts/prompt.txt" in files and "ovmer/unrelated.py" not in files
    before = dict(files)
    (toy.root / "ovmer/data_pkg/texts/prompt.txt").write_text("changed", encoding="utf-8")
    assert ModuleGraph(toy.root).fingerprint(["ovmer.entry"]) != before


def test_entry_modules_of_notebook_code_and_errors(toy: ModuleGraph) -> None:
    code = "from ovmer.entry import later\nimport numpy\nprint('ovmer.lazy:Backend')\n"
    assert toy.entry_modules(code) == ["ovmer", "ovmer.entry", "ovmer.lazy"]
    with pytest.raises(OvmerError, match=r"cell: cannot be parsed"):
        toy.entry_modules("def broken(:\n", "cell")
    with pytest.raises(OvmerError, match="is not a module"):
        toy.closure(["ovmer.nope"])


def _notebook_entries(graph: ModuleGraph, name: str) -> list[str]:
    return graph.entry_modules(notebook_code(NOTEBOOKS / f"{name}.ipynb"), name)


def test_each_step_reaches_only_the_modules_its_notebook_uses() -> None:
    graph = ModuleGraph()
    score = graph.closure(_notebook_entries(graph, "04_score"))
    tables = graph.closure(_notebook_entries(graph, "05_tables"))
    merge = graph.closure(_notebook_entries(graph, "02_merge_clues"))
    assert {"ovmer.reproduce.scores", "ovmer.scoring.metrics", "ovmer.assets.fetch"} <= set(score)
    # the artefact registry names its builders as lazy strings: they are part of 05_tables
    assert {"ovmer.reproduce.tables", "ovmer.reproduce.figures", "ovmer.scoring.paper"} <= set(tables)
    assert {"ovmer.merge.stage", "ovmer.llm.replay"} <= set(merge)
    for reached in (score, tables):
        assert not any(m.startswith(("ovmer.describe", "ovmer.llm", "ovmer.merge", "ovmer.extract")) for m in reached)
    assert not any(m.startswith(("ovmer.describe", "ovmer.extract")) for m in merge)
    assert "ovmer/assets/manifest.tsv" in graph.fingerprint(_notebook_entries(graph, "04_score"))


def test_step_inputs_change_with_used_sources_only(tmp_path: Path) -> None:
    """A docstring edit in an unrelated module keeps the key; an edit in a used module changes it."""
    from ovmer.reproduce.steps import STEPS, StepPlan, step_inputs, step_key

    shutil.copytree(ROOT / "ovmer", tmp_path / "ovmer", ignore=shutil.ignore_patterns("__pycache__"))
    notebook = NOTEBOOKS / "05_tables.ipynb"
    plan = StepPlan(STEPS.get("05_tables"), {"smoke": True})

    def key() -> str:
        return step_key(step_inputs(plan, notebook, {}, ModuleGraph(tmp_path)))

    first = key()
    media = tmp_path / "ovmer" / "describe" / "media.py"
    media.write_text(media.read_text(encoding="utf-8").replace('"""', '"""Edited. ', 1), encoding="utf-8")
    assert key() == first
    metrics = tmp_path / "ovmer" / "scoring" / "metrics.py"
    metrics.write_text(metrics.read_text(encoding="utf-8").replace('"""', '"""Edited. ', 1), encoding="utf-8")
    assert key() != first


def test_step_key_depends_on_parameters_cells_and_files_not_on_outputs(tmp_path: Path) -> None:
    from ovmer.reproduce.steps import STEPS, StepPlan, step_inputs, step_key, what_changed

    graph = ModuleGraph()
    source = NOTEBOOKS / "05_tables.ipynb"
    copy = tmp_path / "05_tables.ipynb"
    notebook = json.loads(source.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    copy.write_text(json.dumps(notebook))
    scores = tmp_path / "scores.json"
    scores.write_text("{}")
    plan = StepPlan(STEPS.get("05_tables"), {"smoke": True}, (scores,))
    inputs = step_inputs(plan, source, {}, graph)
    key = step_key(inputs)
    assert step_key(step_inputs(plan, copy, {}, graph)) == key  # stored outputs do not count
    other = step_inputs(StepPlan(STEPS.get("05_tables"), {"smoke": False}, (scores,)), source, {}, graph)
    assert step_key(other) != key and what_changed(inputs, other) == "parameter smoke changed"
    upstream = step_inputs(plan, source, {"04_score": "other"}, graph)
    assert step_key(upstream) != key and what_changed(inputs, upstream) == "step 04_score changed"
    scores.write_text('{"entries": []}')
    changed = step_inputs(plan, source, {}, graph)
    assert step_key(changed) != key and what_changed(inputs, changed) == f"file {scores} changed"
    notebook["cells"][-1]["source"] = ["print('another cell')"]
    copy.write_text(json.dumps(notebook))
    assert what_changed(inputs, step_inputs(plan, copy, {}, graph)) == "notebook changed"
