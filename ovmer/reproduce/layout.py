"""Where a reproduction run writes: executed notebooks, tables, figures, the scores cache.

A full run writes ``<output>/notebooks``, ``<output>/tables``,
``<output>/scores/scores.json`` and the committed ``figures/``. A smoke run
(a small subset, used by tests and the committed notebook outputs) writes
everything under ``<output>/smoke`` so it can never overwrite real results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ovmer.paths import figures_dir, output_dir, project_root


@dataclass(frozen=True)
class ReproduceLayout:
    root: Path  # the output folder of this run
    notebooks: Path  # executed notebooks
    tables: Path  # CSV, Markdown and LaTeX tables
    figures: Path  # PNG and PDF figures
    scores: Path  # the cached scores every table and figure reads
    stamps: Path  # input hashes of up-to-date steps

    def ensure(self) -> ReproduceLayout:
        for folder in (self.notebooks, self.tables, self.figures, self.scores.parent, self.stamps):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def reproduce_layout(smoke: bool = False, output: str | Path | None = None) -> ReproduceLayout:
    """The layout of a full run (``smoke=False``) or a smoke run under ``<output>/smoke``."""
    base = Path(output).expanduser() if output else output_dir()
    root = base / "smoke" if smoke else base
    return ReproduceLayout(
        root=root,
        notebooks=root / "notebooks",
        tables=root / "tables",
        figures=root / "figures" if smoke else figures_dir(),
        scores=root / "scores" / "scores.json",
        stamps=root / "notebooks" / ".stamps",
    )


def display_path(path: str | Path) -> str:
    """A machine-independent spelling of ``path`` for printed output and stored notebooks.

    Paths under the output folder read ``<output>/...``; under the project, relative
    to it; anything else is printed as is.
    """
    resolved = Path(path).expanduser().resolve()
    for base, label in ((output_dir(), "<output>"), (project_root(), "")):
        try:
            rel = resolved.relative_to(base.expanduser().resolve())
        except ValueError:
            continue
        return f"{label}/{rel.as_posix()}" if label else rel.as_posix()
    return str(path)


def resolve_display_path(text: str) -> Path:
    """The inverse of :func:`display_path`."""
    if text.startswith("<output>/"):
        return output_dir() / text.removeprefix("<output>/")
    path = Path(text)
    return path if path.is_absolute() else project_root() / path
