"""The results store to and from the authors' npz files: import their released outputs, export ours.

Import: ``output-reason-7b-<setting>-eng.npz`` (descriptions) becomes stage
``describe`` for S0/S1 and stage ``merge`` for S2 (its descriptions are the
clue-merged ones); ``…-eng-openset.npz`` (label lists) becomes stage
``extract``. Each record keeps the file's text in ``raw``, the parsed value in
``value`` (the description itself, or the parsed label list) and
``meta.source = "released"``.

Export writes what the authors' scripts write, so their tools read it:
descriptions as ``name2reason``, a 0-d object array holding a dict name → text;
label lists as ``filenames`` and ``fileitems``, unicode arrays built with
``np.array(list_of_str)`` (``<U`` of the longest string), saved with
``np.savez_compressed``. The two arrays of an exported label file are
byte-identical to the authors' members; the pickled dict is equal in keys,
order and values (NumPy 2 pickles with a newer protocol than the originals).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import numpy as np

from ovmer.assets import asset_path, load_manifest
from ovmer.data.name_values import read_description_npz, read_openset_npz
from ovmer.data.released import RELEASED_BASELINES, released_file
from ovmer.errors import OvmerError
from ovmer.labels import format_labels, parse_labels
from ovmer.settings import ALL_SETTINGS, Setting
from ovmer.store.jsonl import (
    DESCRIPTION_STAGES,
    LABEL_STAGE,
    Record,
    ResultsStore,
    _ends_with_newline,
    compute_key,
    store_path,
)
from ovmer.store.runner import StageSummary, WorkItem, run_stage

ExportFormat = Literal["description", "openset"]
RELEASED_SOURCE = "released"


@dataclass(frozen=True)
class ImportedFile:
    """One released file imported into one store file."""

    asset: str
    stage: str
    baseline: str
    setting: Setting
    store: Path
    summary: StageSummary

    def __str__(self) -> str:
        return f"{self.asset} -> {self.store}: {self.summary}"


def description_stage(setting: Setting | str) -> str:
    """Store stage of a released description file: S2 texts are clue-merged, so ``merge``."""
    return "merge" if Setting.parse(setting) is Setting.NOSUBTITLE_ADDSUB else "describe"


def _released_key(asset: str, name: str) -> str:
    # The file's checksum pins the exact released text; a new upstream release re-imports.
    return compute_key(source=RELEASED_SOURCE, asset=asset, sha256=load_manifest()[asset].sha256, name=name)


class _BulkStore(ResultsStore):
    """A store that appends through one open handle and syncs once, at :meth:`close`.

    The per-record fsync of :class:`ResultsStore` protects expensive model output;
    imported text is already safe in the released file, so a killed import loses
    nothing a re-run does not restore (the reader skips a torn last line). This
    keeps importing all 60 files at about a second instead of a quarter minute.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path)
        self._handle: IO[str] | None = None

    def append(self, record: Record) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            torn_tail = self.path.is_file() and self.path.stat().st_size > 0 and not _ends_with_newline(self.path)
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
            if torn_tail:  # an earlier writer was killed mid-line: start on a fresh line
                self._handle.write("\n")
        record.meta.setdefault("time", round(time.time(), 3))
        self._handle.write(record.to_json() + "\n")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None


def _import_one(
    asset: str,
    texts: dict[str, str],
    stage: str,
    baseline: str,
    setting: Setting,
    root: str | os.PathLike[str] | None,
    progress: bool,
) -> ImportedFile:
    store = _BulkStore(store_path(stage, baseline, setting, root=root))
    # Never overwrite results this package computed into the same file (a re-extraction,
    # a native describe run): an import only fills samples that have none.
    own = {name for name, rec in store.latest().items() if rec.ok and rec.meta.get("source") != RELEASED_SOURCE}
    items = [WorkItem(name, _released_key(asset, name), text) for name, text in texts.items() if name not in own]

    if stage == LABEL_STAGE:

        def compute(item: WorkItem) -> tuple[str, object]:
            return item.payload, parse_labels(item.payload, where=f"{asset}: {item.name}")
    else:

        def compute(item: WorkItem) -> tuple[str, object]:
            return item.payload, item.payload

    try:
        summary = run_stage(
            store,
            items,
            compute,
            desc=f"import {baseline} {setting.short} {stage}",
            progress=progress,
            meta={"source": RELEASED_SOURCE, "asset": asset},
        )
    finally:
        store.close()
    summary.skipped += len(own.intersection(texts))
    return ImportedFile(asset, stage, baseline, setting, store.path, summary)


def import_released(
    baselines: Iterable[str] | None = None,
    settings: Iterable[Setting | str] | None = None,
    root: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> list[ImportedFile]:
    """Import the released descriptions and label lists of ``baselines`` × ``settings``.

    Defaults to all 10 baselines and 3 settings; ``root`` is the output folder
    holding ``store/`` (default: :func:`ovmer.paths.output_dir`). Re-importing
    skips records already in the store, so it is cheap and safe, and a sample that
    this package computed itself into the same file (a re-extraction, a native
    describe run) is kept, never replaced by the released text.
    """
    chosen = list(RELEASED_BASELINES if baselines is None else baselines)
    for baseline in chosen:
        released_file(baseline, Setting.NOSUBTITLE)  # did-you-mean error for unknown names
    chosen_settings = [Setting.parse(s) for s in (ALL_SETTINGS if settings is None else settings)]
    results: list[ImportedFile] = []
    for baseline in chosen:
        for setting in chosen_settings:
            described = released_file(baseline, setting, "description")
            results.append(
                _import_one(
                    described,
                    read_description_npz(asset_path(described)),
                    description_stage(setting),
                    baseline,
                    setting,
                    root,
                    progress,
                )
            )
            labelled = released_file(baseline, setting, "openset")
            results.append(
                _import_one(
                    labelled,
                    read_openset_npz(asset_path(labelled)),
                    LABEL_STAGE,
                    baseline,
                    setting,
                    root,
                    progress,
                )
            )
    return results


def infer_format(store_file: str | os.PathLike[str], records: dict[str, Record] | None = None) -> ExportFormat:
    """``description`` or ``openset`` from the store layout (``store/<stage>/…``), else the values."""
    path = Path(store_file)
    stage = path.parent.parent.name
    if stage in DESCRIPTION_STAGES:
        return "description"
    if stage == LABEL_STAGE:
        return "openset"
    values = [r.value for r in (records or {}).values() if r.ok]
    if values and all(isinstance(v, str) for v in values):
        return "description"
    if values and all(isinstance(v, list) for v in values):
        return "openset"
    raise OvmerError(
        f"{path}: cannot tell whether it holds descriptions or label lists "
        "(not under store/<stage>/ and mixed values); choose the format explicitly"
    )


def _ok_records(store_file: str | os.PathLike[str], skip_errors: bool) -> dict[str, Record]:
    store = ResultsStore(store_file)
    if not store.path.is_file():
        raise OvmerError(f"{store.path}: no such results-store file")
    latest = store.latest()
    failed = [name for name, rec in latest.items() if not rec.ok]
    if failed and not skip_errors:
        raise OvmerError(
            f"{store.path}: {len(failed)} sample(s) have error records ({', '.join(failed[:3])}"
            f"{', …' if len(failed) > 3 else ''}); re-run the stage, or export without them (--skip-errors)"
        )
    ok = {name: rec for name, rec in latest.items() if rec.ok}
    if not ok:
        raise OvmerError(f"{store.path}: no finished records to export")
    return ok


def _write_npz(npz_path: str | os.PathLike[str], **arrays: np.ndarray) -> Path:
    target = Path(npz_path)
    if target.is_dir():
        raise OvmerError(f"{target}: is a folder; name the .npz file to write (e.g. {target / 'labels-openset.npz'})")
    if target.suffix != ".npz":
        raise OvmerError(f"{target}: the authors' format is .npz; name the output file *.npz")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a failed export never leaves half a file.
    partial = target.with_name(f".partial-{target.name}")
    try:
        np.savez_compressed(partial, **arrays)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def export_descriptions(
    store_path: str | os.PathLike[str], npz_path: str | os.PathLike[str], skip_errors: bool = False
) -> Path:
    """Write a store file's descriptions as ``name2reason`` (the parsed value; else the raw text)."""
    name2reason: dict[str, str] = {}
    for name, rec in _ok_records(store_path, skip_errors).items():
        text = rec.value if isinstance(rec.value, str) else rec.raw
        if not isinstance(text, str):
            raise OvmerError(f"{store_path}: {name}: no description text (value is {type(rec.value).__name__})")
        name2reason[name] = text
    holder = np.empty((), dtype=object)  # np.array(dict) would do too; this says what is meant
    holder[()] = name2reason
    return _write_npz(npz_path, name2reason=holder)


def export_labels(
    store_path: str | os.PathLike[str],
    npz_path: str | os.PathLike[str],
    skip_errors: bool = False,
    labels_from: Literal["raw", "value"] = "raw",
) -> Path:
    """Write a store file's label lists as ``filenames`` / ``fileitems``.

    The authors' ``fileitems`` are the extractor's replies as returned, so by
    default the raw text is written; a record without raw text, or
    ``labels_from="value"``, gives the parsed list as ``[a, b]``.
    """
    if labels_from not in ("raw", "value"):
        raise OvmerError(f"labels_from must be 'raw' or 'value', got {labels_from!r}")
    names: list[str] = []
    items: list[str] = []
    for name, rec in _ok_records(store_path, skip_errors).items():
        if labels_from == "raw" and isinstance(rec.raw, str):
            items.append(rec.raw)
        else:
            items.append(format_labels(parse_labels(rec.value, where=f"{store_path}: {name}")))
        names.append(name)
    return _write_npz(npz_path, filenames=np.array(names), fileitems=np.array(items))


def export_store(
    store_file: str | os.PathLike[str],
    npz_path: str | os.PathLike[str],
    fmt: ExportFormat | None = None,
    skip_errors: bool = False,
    labels_from: Literal["raw", "value"] = "raw",
) -> tuple[ExportFormat, Path]:
    """Export with the format given, or inferred from the store file (see :func:`infer_format`)."""
    if fmt is None:
        fmt = infer_format(store_file, ResultsStore(store_file).latest() if Path(store_file).is_file() else None)
    if fmt == "description":
        return fmt, export_descriptions(store_file, npz_path, skip_errors)
    if fmt == "openset":
        return fmt, export_labels(store_file, npz_path, skip_errors, labels_from)
    raise OvmerError(f"unknown export format {fmt!r}; choose description or openset")
