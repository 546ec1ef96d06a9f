"""nbval over the committed notebooks: they run clean in smoke mode and reprint their stored tables.

The notebooks are executed by a ``pytest --nbval-lax`` subprocess, so the normal
``python -m pytest`` run covers them without nbval options leaking into the
rest of the suite. Cells marked ``# NBVAL_CHECK_OUTPUT`` (the rounded metric
tables) must print exactly what is stored; every other cell must merely run.
Paths, timings and addresses are normalised by ``tests/nbval_sanitize.cfg``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ovmer.reproduce.notebooks import kernel_name

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
# The stage notebooks in pipeline order, then the explorer; each reads what the previous ones wrote.
ORDER = ("01_describe", "02_merge_clues", "03_extract_labels", "04_score", "05_tables", "06_figures", "explore")


def committed_notebooks() -> list[Path]:
    return [NOTEBOOKS / f"{name}.ipynb" for name in ORDER if (NOTEBOOKS / f"{name}.ipynb").is_file()]


def _checked_cells(path: Path) -> int:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return sum("NBVAL_CHECK_OUTPUT" in "".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")


def test_metric_tables_are_checked_by_nbval() -> None:
    # the notebooks that print metric tables keep those outputs under nbval's check
    assert _checked_cells(NOTEBOOKS / "04_score.ipynb") >= 1
    from ovmer.reproduce.artefacts import TABLE, artefact_names

    assert _checked_cells(NOTEBOOKS / "05_tables.ipynb") == len(artefact_names(TABLE))  # every table
    assert _checked_cells(NOTEBOOKS / "explore.ipynb") >= 1


@pytest.mark.slow
def test_committed_notebooks_pass_nbval(tmp_path: Path, ovmer_data: Path) -> None:
    notebooks = committed_notebooks()
    assert [p.stem for p in notebooks] == list(ORDER)
    env = {
        **os.environ,
        "OVMER_DATA": str(ovmer_data),
        "OVMER_OUTPUT": str(tmp_path / "output"),
        "TQDM_DISABLE": "1",
        "MPLBACKEND": "Agg",
        "PYTHONHASHSEED": "0",
    }
    # The kernel rule (ovmer.reproduce.notebooks): the "ovmer" kernel when installed, as papermill uses.
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
        "--nbval-lax", "--nbval-kernel-name", kernel_name(), "--nbval-sanitize-with", str(SANITIZE),
        *[str(p) for p in notebooks],
    ]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"nbval failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert " passed" in result.stdout and "failed" not in result.stdout
