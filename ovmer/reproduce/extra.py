"""Baselines the user ran with the describe stage, added to a reproduction run.

An extra baseline is a folder named after the system holding describe-stage
results-store files, one per setting: ``nosubtitle.jsonl``, ``subtitle.jsonl``
and optionally ``nosubtitle-addsub.jsonl`` (already merged descriptions), the
layout ``ovmer describe`` writes under ``<output>/store/describe/<Name>/``.
Staging copies them into the run's results store (unless they already live
there) so the merge and extract stages find them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from ovmer.data.released import RELEASED_BASELINES
from ovmer.errors import OvmerError
from ovmer.settings import ALL_SETTINGS, Setting
from ovmer.store import ResultsStore, store_path
from ovmer.store.authors_npz import description_stage


@dataclass(frozen=True)
class ExtraBaseline:
    name: str
    settings: tuple[Setting, ...]  # settings with descriptions in the store
    files: tuple[Path, ...]  # the staged store files (their content keys the run)


def find_extra_baseline(folder: str | Path) -> tuple[str, dict[Setting, Path]]:
    """The baseline name (the folder name) and its per-setting description files."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise OvmerError(f"extra baseline {folder}: not a folder")
    found = {s: folder / f"{s.value}.jsonl" for s in ALL_SETTINGS if (folder / f"{s.value}.jsonl").is_file()}
    if not found:
        expected = ", ".join(f"{s.value}.jsonl" for s in ALL_SETTINGS)
        raise OvmerError(f"extra baseline {folder}: no describe-stage store files ({expected})")
    for path in found.values():
        if not ResultsStore(path).values():
            raise OvmerError(f"extra baseline {folder}: {path.name} holds no finished descriptions")
    return folder.name, found


def stage_extra_baselines(folders: list[Path] | tuple[Path, ...], store_root: Path) -> list[ExtraBaseline]:
    """Copy each folder's store files into ``store_root``'s results store; one entry per baseline."""
    staged: list[ExtraBaseline] = []
    for folder in folders:
        name, found = find_extra_baseline(folder)
        if name in RELEASED_BASELINES:
            raise OvmerError(
                f"extra baseline {folder}: {name!r} is a released baseline's name; rename the folder "
                "so its scores are not confused with the authors' outputs"
            )
        if name in {e.name for e in staged}:
            raise OvmerError(f"extra baseline {folder}: a second folder named {name!r}")
        files = []
        for setting, source in found.items():
            target = store_path(description_stage(setting), name, setting, store_root)
            if source.resolve() != target.resolve():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
            files.append(target)
        staged.append(ExtraBaseline(name, tuple(found), tuple(files)))
    return staged
