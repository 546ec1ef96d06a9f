"""The stage notebooks as files: execute one with papermill, read its code and parameters, clean it.

Kernels run with progress bars disabled and a non-interactive plotting backend so
no bar or window lands in a stored notebook; :func:`clean_notebook` strips what
changes from run to run before a notebook is committed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ovmer.errors import OvmerError
from ovmer.paths import project_root
from ovmer.reproduce.jsonfile import read_json
from ovmer.reproduce.layout import display_path

# Environment of every notebook kernel: no progress bars in stored outputs,
# a non-interactive plotting backend, stable hashing.
KERNEL_ENV = {
    "TQDM_DISABLE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "MPLBACKEND": "Agg",
    "PYTHONHASHSEED": "0",
}
# The kernel rule: every notebook names the package's kernel "ovmer" (`make venv` installs it into the
# virtual environment, so JupyterLab started from it offers it); papermill (`ovmer reproduce`) and the
# nbval test run that kernel when it is installed and Jupyter's default "python3" otherwise.
PREFERRED_KERNEL = "ovmer"
FALLBACK_KERNEL = "python3"
KERNELSPEC = {"display_name": "Python (ovmer)", "language": "python", "name": PREFERRED_KERNEL}
NO_STORED_OUTPUT_TAG = "no-stored-output"  # interactive cells (widgets) keep no output in the repo


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def read_notebook(path: Path) -> dict[str, Any]:
    return read_json(path, missing="notebook not found", malformed="not a notebook ({error})")


def notebook_code(path: Path) -> str:
    """A notebook's code cells as one Python source (IPython magics and shell lines dropped)."""
    cells = ["".join(c.get("source", "")) for c in read_notebook(path).get("cells", []) if c.get("cell_type") == "code"]
    lines = [line for cell in cells for line in cell.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def notebook_fingerprint(path: Path) -> str:
    """sha256 of a notebook's cell types, tags and sources: stored outputs do not count."""
    cells = [
        (cell.get("cell_type"), cell.get("metadata", {}).get("tags", []), "".join(cell.get("source", "")))
        for cell in read_notebook(path).get("cells", [])
    ]
    return hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()


def declared_parameters(notebook: Path) -> dict[str, Any]:
    """The parameters a notebook declares in its ``parameters`` cell (papermill's inspection)."""
    import papermill

    return dict(papermill.inspect_notebook(str(notebook)).items())


def check_parameters(notebook: Path, parameters: Mapping[str, Any]) -> None:
    """Refuse parameters the notebook does not declare (papermill would inject them silently)."""
    declared = declared_parameters(notebook)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise OvmerError(
            f"{notebook}: does not declare parameter(s) {', '.join(unknown)} "
            f"(its parameters cell has: {', '.join(declared) or 'none'})"
        )


def kernel_name() -> str:
    """The ``ovmer`` kernel when installed (``make venv`` installs it), else ``python3``."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        available = KernelSpecManager().find_kernel_specs()
    except Exception:  # no Jupyter config readable: the default kernel still works
        return FALLBACK_KERNEL
    return PREFERRED_KERNEL if PREFERRED_KERNEL in available else FALLBACK_KERNEL


@contextlib.contextmanager
def kernel_environment(extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Set the kernel's environment variables for the duration of a run (kernels inherit it)."""
    wanted = {**KERNEL_ENV, **(extra or {})}
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute_notebook(
    source: Path, target: Path, parameters: Mapping[str, Any], *, kernel: str | None = None
) -> Path:
    """Execute ``source`` into ``target`` with papermill (cwd = the notebook's folder)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    target.parent.mkdir(parents=True, exist_ok=True)
    # Local kernels talk over Unix sockets: no open TCP ports, and no warning about unencrypted TCP.
    config = Config({"KernelManager": {"transport": "ipc"}})
    try:
        with kernel_environment():
            papermill.execute_notebook(
                str(source),
                str(target),
                parameters=dict(parameters),
                kernel_name=kernel or kernel_name(),
                cwd=str(source.parent),
                progress_bar=False,
                log_output=False,
                config=config,
            )
    except PapermillExecutionError as exc:
        raise OvmerError(
            f"{source.name}: cell {exc.exec_count} failed with {exc.ename}: {exc.evalue} "
            f"(executed notebook kept at {display_path(target)})"
        ) from None
    return target


def clean_notebook(notebook: dict[str, Any]) -> dict[str, Any]:
    """Strip what changes from run to run: timings, papermill metadata, injected cells, widget state.

    Execution counts are renumbered 1, 2, ... over the code cells that ran; cells
    tagged ``no-stored-output`` lose their outputs.
    """
    notebook = json.loads(json.dumps(notebook))  # a deep copy
    notebook["metadata"] = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    cells = []
    count = 0
    for cell in notebook.get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            continue
        cell["metadata"] = {"tags": tags} if tags else {}
        if cell.get("cell_type") == "code":
            if NO_STORED_OUTPUT_TAG in tags:
                cell["outputs"], cell["execution_count"] = [], None
            else:
                count += 1
                cell["execution_count"] = count
                for output in cell.get("outputs", []):
                    if "execution_count" in output:
                        output["execution_count"] = count
        cells.append(cell)
    notebook["cells"] = cells
    return notebook


def write_notebook(notebook: dict[str, Any], path: Path) -> None:
    """Write in nbformat's own layout (1-space indent, sorted keys, trailing newline)."""
    import nbformat

    node = nbformat.from_dict(notebook)
    nbformat.validate(node)
    path.write_text(nbformat.writes(node) + "\n", encoding="utf-8")
