"""Where the LLM text stages read their inputs: the results store, the released files, or a user file."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

from ovmer.data import load_ovmerd
from ovmer.data.name_values import TEXT_FILES, read_name_values
from ovmer.data.released import RELEASED_BASELINES, load_released_descriptions, released_file
from ovmer.errors import OvmerError
from ovmer.registry import did_you_mean
from ovmer.settings import Setting
from ovmer.store import ResultsStore, store_path
from ovmer.store.authors_npz import description_stage

TEXT_COLUMNS = ("description", "english", "reason", "text", "subtitle")
Source = str  # "auto" | "store" | "released"
SOURCES = ("auto", "store", "released")


def read_text_table(path: str | os.PathLike[str], columns: Sequence[str] = TEXT_COLUMNS) -> dict[str, str]:
    """name -> text from a CSV/TSV (``name`` + the first of ``columns``), a store JSONL or an npz."""
    return read_name_values(path, TEXT_FILES.with_columns(columns))


input_stage = description_stage  # its old name here


def stage_descriptions(
    baseline: str,
    setting: Setting | str,
    source: Source = "auto",
    root: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, str], str]:
    """The descriptions of ``baseline`` in ``setting`` and where they came from.

    ``auto`` prefers this package's own results store (``describe``, or
    ``merge`` for S2) and falls back to the authors' released npz.
    """
    if source not in SOURCES:
        raise OvmerError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    setting = Setting.parse(setting)
    path = store_path(description_stage(setting), baseline, setting, root)
    if source in ("auto", "store") and path.is_file():
        values = {n: v for n, v in ResultsStore(path).values().items() if isinstance(v, str)}
        if values:
            if source == "auto" and baseline in RELEASED_BASELINES:
                released = len(load_released_descriptions(baseline, setting))
                if len(values) < released:
                    warnings.warn(
                        f"{path}: using the results store's {len(values)} finished {setting.value} "
                        f"descriptions of {baseline}, not the {released} released ones; pass "
                        f"source='released' (--source released) for all of them",
                        stacklevel=2,
                    )
            return values, str(path)
    if source == "store":
        raise OvmerError(
            f"{path}: no finished {setting.value} descriptions of {baseline} in the results store."
            + _close_baselines(baseline, path)
        )
    if baseline not in RELEASED_BASELINES and source == "auto":
        raise OvmerError(
            f"{baseline}: no {setting.value} descriptions in the results store ({path}) and no released "
            f"outputs for it; run `ovmer describe` first or pass an input file." + _close_baselines(baseline, path)
        )
    return load_released_descriptions(baseline, setting), released_file(baseline, setting, "description")


def _close_baselines(baseline: str, path: Path) -> str:
    """A did-you-mean among the baselines with descriptions: released, or with a folder beside ``path``'s."""
    stage_folder = path.parent.parent  # <root>/store/<stage>/<baseline>/<setting>.jsonl
    stored = [p.name for p in stage_folder.iterdir() if p.is_dir()] if stage_folder.is_dir() else []
    return did_you_mean(baseline, [*RELEASED_BASELINES, *stored], n=3, loose=True)


def load_subtitles(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """English subtitles: OV-MERD's by default, else a CSV with ``name`` and ``english``/``subtitle``."""
    if path is None:
        return dict(load_ovmerd().subtitle_en)
    return read_text_table(path, columns=("english", "subtitle", "text"))


def select_names(
    available: Sequence[str], names: Sequence[str] | None, limit: int | None, where: str
) -> list[str]:
    """``names`` (checked against ``available``) or all, then the first ``limit``."""
    chosen = list(available)
    if names is not None:
        known = set(available)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise OvmerError(f"{where}: no input for sample(s) {unknown[:5]}")
        chosen = list(dict.fromkeys(names))
    if limit is not None:
        if limit < 1:  # as in the describe stage: a limit of 0 would silently do nothing
            raise OvmerError(f"limit must be a positive number of samples, got {limit}")
        chosen = chosen[:limit]
    return chosen


def clean(text: object) -> str:
    """Text with NaN/None as empty and outer whitespace removed."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    return str(text).strip()


def as_mapping(value: Mapping[str, str] | str | os.PathLike[str]) -> dict[str, str]:
    return dict(value) if isinstance(value, Mapping) else read_text_table(value)
