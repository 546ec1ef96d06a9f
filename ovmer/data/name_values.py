"""One reader for every file that maps sample names to values.

Kinds, by suffix:

- ``.npz``: the authors' label files (``filenames`` / ``fileitems``, 1-D text
  arrays, read without pickle) and description files (``name2reason``, a pickled
  dict, unpickled only through the manifest guard
  :func:`ovmer.assets.load_pickled_npz`).
- ``.csv`` / ``.tsv``: a ``name`` column and a value column, the first of the
  caller's ``columns`` present; a name listed twice is an error.
- ``.jsonl``: a results-store file; each name's latest ok record gives its
  ``value``, its ``raw`` reply text, or (``label``) the reply text where there
  is one and the value otherwise. Error records count as missing, with a
  warning naming them.

What a caller accepts is a :class:`NameValueSpec`; the specs of the package's own
callers are below (predictions, ground truth, text inputs, replay sources), so the
reading, the checks and the error messages are the same for all of them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ovmer.assets.pickled import load_pickled_npz, open_npz
from ovmer.data.csvfile import read_csv_columns
from ovmer.errors import OvmerError, ReadError, reading
from ovmer.store.jsonl import LABEL_STAGE, ResultsStore, stage_of_path

OPENSET_KEYS = ("filenames", "fileitems")
DESCRIPTION_KEY = "name2reason"
NpzKind = Literal["openset", "description"]


@dataclass(frozen=True)
class NameValueSpec:
    """What one kind of caller reads: file kinds, the CSV value column, which store values."""

    what: str  # names the file in messages: "prediction file", "replay source"
    suffixes: tuple[str, ...] = (".npz", ".csv", ".tsv", ".jsonl")
    columns: tuple[str, ...] = ("openset",)  # CSV/TSV: the value is the first of these present
    npz_kinds: tuple[NpzKind, ...] = ("openset", "description")
    # raw: the reply text, records without one left out; label: the reply text, else the value
    store_field: Literal["value", "raw", "label"] = "value"
    store_stages: tuple[str, ...] | None = None  # a file under store/<stage>/ must be of one of these
    values_are: str = "values"  # what the accepted stages hold, for the wrong-stage message
    text_values: bool = False  # every value must be text

    def with_columns(self, columns: Sequence[str]) -> NameValueSpec:
        return replace(self, columns=tuple(columns))

    def accepts_stage_of(self, path: str | os.PathLike[str]) -> bool:
        """True unless ``path`` sits under ``store/<stage>/`` for a stage this spec does not read."""
        stage = stage_of_path(path)
        return stage is None or self.store_stages is None or stage in self.store_stages


# Label lists to score or group: npz label files, ``name, openset`` CSVs, extract-stage store files.
# A store record gives the extractor's reply as returned, so every route parses the same text
# with the scorer's chosen parser; records without a reply (the CPU extractor) give their value.
PREDICTION_FILES = NameValueSpec(
    "prediction file",
    suffixes=(".npz", ".jsonl", ".csv", ".tsv"),
    npz_kinds=("openset",),
    store_field="label",
    store_stages=(LABEL_STAGE,),
    values_are="label lists",
)
GROUND_TRUTH_FILES = NameValueSpec("ground-truth file", suffixes=(".csv",))
# Descriptions and subtitles for the text stages (the column list depends on the input).
TEXT_FILES = NameValueSpec(
    "input file", suffixes=(".csv", ".tsv", ".jsonl", ".npz"), npz_kinds=("description",), text_values=True
)
# Stored replies for the replay backend: a store file's raw replies or an authors' npz.
REPLY_FILES = NameValueSpec("replay source", suffixes=(".jsonl", ".npz"), store_field="raw")


def read_name_values(path: str | os.PathLike[str], spec: NameValueSpec, *, trust: bool = False) -> dict[str, Any]:
    """name -> value of one file, read as ``spec`` says (``trust``: unpickle files not in the manifest)."""
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    if path.is_dir():
        raise OvmerError(f"{path}: is a folder, not a {spec.what}")
    if not path.is_file():
        raise OvmerError(f"{path}: no such {spec.what}")
    if suffix not in spec.suffixes:
        raise OvmerError(f"{path}: unsupported {spec.what} (expected {', '.join(spec.suffixes)})")
    if suffix == ".npz":
        values: dict[str, Any] = read_npz(path, spec.npz_kinds, trust=trust)
    elif suffix == ".jsonl":
        values = read_store_values(path, spec)
    else:
        values = read_csv_values(path, spec)
    if spec.text_values:
        bad = [name for name, value in values.items() if not isinstance(value, str)]
        if bad:
            raise OvmerError(f"{path}: records hold {type(values[bad[0]]).__name__}, not text (e.g. {bad[0]})")
    return values


def read_csv_values(path: Path, spec: NameValueSpec) -> dict[str, str]:
    frame = read_csv_columns(path, ("name",), f"a CSV {spec.what}", one_of=spec.columns)
    column = next(c for c in spec.columns if c in frame.columns)
    names = [name.strip() for name in frame["name"]]
    return checked_pairs(path, names, list(frame[column]), "data row")


def read_store_values(path: Path, spec: NameValueSpec) -> dict[str, Any]:
    if not spec.accepts_stage_of(path):
        stages = spec.store_stages or ()
        raise OvmerError(
            f"{path}: a {stage_of_path(path)}-stage store file, not {spec.values_are}; use the "
            f"{' or '.join(stages)} stage's file (run `ovmer {stages[0]}` on these results first)"
        )
    store = ResultsStore(path)
    latest = store.latest()
    failed = [name for name, record in latest.items() if not record.ok]
    if failed:
        warnings.warn(
            f"{path}: {len(failed)} sample(s) have an error record and count as missing: {', '.join(failed[:5])}",
            stacklevel=4,
        )
    retried = sorted(store.failed_after_ok())
    if retried:
        warnings.warn(
            f"{path}: the latest run of {len(retried)} sample(s) failed ({', '.join(retried[:5])}); "
            "their earlier finished records are used",
            stacklevel=4,
        )
    if spec.store_field == "raw":
        return {name: record.raw for name, record in latest.items() if record.ok and record.raw}
    if spec.store_field == "label":
        return {
            name: record.raw if isinstance(record.raw, str) and record.raw else record.value
            for name, record in latest.items()
            if record.ok
        }
    return {name: record.value for name, record in latest.items() if record.ok}


def npz_keys(path: str | os.PathLike[str]) -> list[str]:
    """The member names of an npz (nothing is unpickled)."""
    with reading(path, "as npz"), open_npz(path) as archive:
        return list(archive.files)


def read_npz(path: str | os.PathLike[str], kinds: Sequence[NpzKind], trust: bool = False) -> dict[str, str]:
    """An authors' npz of one of ``kinds``: a label file if its keys say so, else a description file."""
    if "openset" in kinds and ("description" not in kinds or set(npz_keys(path)) == set(OPENSET_KEYS)):
        return read_openset_npz(path)
    if "description" in kinds:
        return read_description_npz(path, trust=trust)
    raise OvmerError(f"{path}: no npz kind to read it as")


def _text_array(path: str | os.PathLike[str], key: str, array: np.ndarray) -> list[str]:
    """A 1-D array of text as ``str`` items (byte strings must be UTF-8)."""
    if not isinstance(array, np.ndarray):  # numpy hands over a member that is no .npy as its bytes
        raise ReadError(f"{path}: {key} is not a .npy array inside the npz")
    if array.dtype.kind not in "US" or array.ndim != 1:
        raise ReadError(f"{path}: {key} must be a 1-D array of text, got dtype {array.dtype} shape {array.shape}")
    if array.dtype.kind == "U":
        return [str(item) for item in array.tolist()]
    out = []
    for index, item in enumerate(array.tolist()):
        try:
            out.append(item.decode("utf-8"))
        except UnicodeDecodeError:
            raise ReadError(f"{path}: {key}[{index}] is not UTF-8 text ({item[:40]!r})") from None
    return out


def read_openset_npz(path: str | os.PathLike[str]) -> dict[str, str]:
    """name -> the raw label-list string of a ``filenames`` / ``fileitems`` npz (no pickle)."""
    with reading(path, "as npz"), open_npz(path) as archive:
        if set(archive.files) != set(OPENSET_KEYS):
            raise ReadError(f"{path}: expected keys filenames, fileitems; found {sorted(archive.files)}")
        try:
            names, items = archive["filenames"], archive["fileitems"]
        except ValueError as exc:  # object arrays need pickle: not a label file we accept
            raise ReadError(f"{path}: filenames/fileitems must be text arrays ({exc})") from exc
    names_text, items_text = _text_array(path, "filenames", names), _text_array(path, "fileitems", items)
    if len(names_text) != len(items_text):
        raise ReadError(f"{path}: {len(names_text)} filenames but {len(items_text)} fileitems")
    return checked_pairs(path, names_text, items_text, "entry")


def read_description_npz(path: str | os.PathLike[str], trust: bool = False) -> dict[str, str]:
    """name -> text of a ``name2reason`` npz (pickled: only manifest files unless ``trust``)."""
    data = load_pickled_npz(path, trust=trust)
    if DESCRIPTION_KEY not in data or not isinstance(data[DESCRIPTION_KEY], dict):
        raise ReadError(f"{path}: expected key 'name2reason' holding a dict, found {sorted(data)}")
    out: dict[str, str] = {}
    for name, text in data[DESCRIPTION_KEY].items():
        if not isinstance(name, str) or not name.strip():
            raise ReadError(f"{path}: name2reason has a key that is not a sample name: {name!r:.60}")
        if not isinstance(text, str):
            raise ReadError(f"{path}: {name}: the description is {type(text).__name__}, not text")
        out[name] = text
    return out


def checked_pairs(path: str | os.PathLike[str], names: Sequence[str], values: Sequence[Any], unit: str) -> dict[str, Any]:
    """name -> value, refusing empty names and names listed twice (a later entry must not win silently)."""
    out: dict[str, Any] = {}
    seen_at: dict[str, int] = {}
    repeated: list[tuple[str, str]] = []
    for index, (name, value) in enumerate(zip(names, values, strict=True), start=1):
        if not name:
            raise ReadError(f"{path}: {unit} {index} has an empty sample name")
        if name in seen_at:
            repeated.append((name, f"{name}: {unit} {seen_at[name]} and {index}"))
            continue
        seen_at[name] = index
        out[name] = value
    if repeated:
        shown = [name for name, _ in repeated[:5]]
        where = "; ".join(place for _, place in repeated[:5])
        raise ReadError(f"{path}: sample name(s) listed twice: {shown} ({where})")
    return out
