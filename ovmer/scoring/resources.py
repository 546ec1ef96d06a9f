"""The emotion-wheel resources, compiled once and cached on disk.

The files are read by :mod:`ovmer.data.wheels` (cells lower-cased and stripped);
this module turns their rows into the metrics' maps:

- each wheel: word -> level-1 / level-2 label. A word listed twice in one wheel
  keeps its last place in reading order (level-1 groups in order of first
  appearance), as in the authors' evaluation.
- ``synonym.xlsx``: in run K the wheel word ``word_runK`` and each synonym in
  ``synonym_runK`` map to that word; runs merge by union.
- ``format.csv`` (``name, format``): each word form maps to ``name``; ``name`` maps
  to itself; a form under several names maps to all of them.

:func:`load_resources` compiles these maps plus the per-label table of all 12
metrics, keeps them for the process, and caches them as an npz of plain byte/int
arrays (read with ``allow_pickle=False``) under ``cache_dir()/scoring`` keyed by
the assets' sha256 (a new process reads that instead of the spreadsheets).
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ovmer.assets import load_manifest
from ovmer.assets.pickled import open_npz
from ovmer.data.wheels import (
    WHEEL_ASSETS,
    ListRow,
    WheelAssets,
    WheelRow,
    read_wheel_assets,
    wheel_asset_paths,
)
from ovmer.errors import describe_exception
from ovmer.paths import cache_dir, data_dir
from ovmer.scoring.mapping import LabelTable, WheelLevels, compile_label_table

# Bump when the compiled layout or the compile rules change, so stale caches are ignored.
COMPILER_VERSION = 4


@dataclass(frozen=True, eq=False)  # identity hash: used as a cache key
class WheelResources:
    """Immutable compiled resources; build with :func:`load_resources`."""

    names_of: Mapping[str, tuple[str, ...]]  # word form -> its format.csv names (sorted)
    wheel_words_of: Mapping[str, tuple[str, ...]]  # synonym or wheel word -> wheel words (sorted)
    wheels: tuple[WheelLevels, ...]
    table: LabelTable
    key: str  # sha256 over the assets' sha256s and the compiler version
    label_rows: Mapping[str, int] = field(init=False, repr=False, compare=False)
    id_matrix: np.ndarray = field(init=False, repr=False, compare=False)  # (labels, 12), -1: dropped
    id_stride: int = field(init=False, repr=False, compare=False)  # > every id of every metric

    def __post_init__(self) -> None:
        rows = MappingProxyType({label: i for i, label in enumerate(self.table.labels)})
        object.__setattr__(self, "label_rows", rows)
        object.__setattr__(self, "id_matrix", self.table.ids)
        object.__setattr__(self, "id_stride", max([1, *(len(v) for v in self.table.values)]))

    @property
    def vocabulary(self) -> tuple[str, ...]:
        """Every label the metrics know (all word forms), sorted."""
        return self.table.labels

    def map_label(self, label: str) -> tuple[str | None, ...]:
        """The label (lower-cased, stripped) under each metric of ``METRIC_NAMES``; None: dropped."""
        row = self.label_rows.get(label.lower().strip())
        if row is None:
            return (None,) * len(self.table.values)
        return tuple(
            None if i < 0 else self.table.values[m][i] for m, i in enumerate(self.table.ids[row].tolist())
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat byte/int arrays for an ``allow_pickle=False`` npz cache (compact and quick to read)."""
        wheel_maps = [m for wheel in self.wheels for m in (wheel.level1, wheel.level2)]
        return {
            "meta": _pack_text([self.key, str(COMPILER_VERSION)]),
            "table_labels": _pack_text(self.table.labels),
            "table_ids": self.table.ids.astype(np.int32),
            "table_values": _pack_text([_SEP2.join(v) for v in self.table.values]),
            "names_of": _pack_text([_SEP2.join((k, *v)) for k, v in self.names_of.items()]),
            "wheel_words_of": _pack_text([_SEP2.join((k, *v)) for k, v in self.wheel_words_of.items()]),
            "wheels": _pack_text([_SEP2.join(f"{k}={v}" for k, v in m.items()) for m in wheel_maps]),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> WheelResources:
        labels = tuple(_unpack_text(arrays["table_labels"]))
        values = tuple(tuple(v.split(_SEP2)) if v else () for v in _unpack_text(arrays["table_values"]))
        ids = np.array(arrays["table_ids"], dtype=np.int64).reshape(len(labels), len(values))
        maps = [
            MappingProxyType(dict(item.split("=", 1) for item in text.split(_SEP2)) if text else {})
            for text in _unpack_text(arrays["wheels"])
        ]
        return cls(
            names_of=_unpack_lists(arrays["names_of"]),
            wheel_words_of=_unpack_lists(arrays["wheel_words_of"]),
            wheels=tuple(WheelLevels(maps[2 * k], maps[2 * k + 1]) for k in range(len(maps) // 2)),
            table=LabelTable(labels=labels, ids=ids, values=values),
            key=_unpack_text(arrays["meta"])[0],
        )


# Separators that never occur inside a label.
_SEP = "\x1e"
_SEP2 = "\x1f"


def _pack_text(items: Iterable[str]) -> np.ndarray:
    return np.frombuffer(_SEP.join(items).encode("utf-8"), dtype=np.uint8)


def _unpack_text(array: np.ndarray) -> list[str]:
    return array.tobytes().decode("utf-8").split(_SEP)


def _unpack_lists(array: np.ndarray) -> Mapping[str, tuple[str, ...]]:
    rows = (text.split(_SEP2) for text in _unpack_text(array))
    return MappingProxyType({row[0]: tuple(row[1:]) for row in rows})


def wheel_levels(rows: Iterable[WheelRow]) -> WheelLevels:
    """One wheel's rows -> word -> level-1 / level-2 cluster label."""
    tree: dict[str, dict[str, list[str]]] = {}
    for top, middle, leaf in rows:
        tree.setdefault(top, {}).setdefault(middle, []).append(leaf)
    level1: dict[str, str] = {}
    level2: dict[str, str] = {}
    # Assignment order matters for words listed twice: the later place wins.
    for top, middles in tree.items():
        level1[top] = top
        level2[top] = sorted(middles)[0]
        for middle, leaves in middles.items():
            level1[middle] = top
            level2[middle] = middle
            for leaf in leaves:
                level1[leaf] = top
                level2[leaf] = middle
    return WheelLevels(MappingProxyType(level1), MappingProxyType(level2))


def synonym_targets(rows: Iterable[ListRow]) -> dict[str, tuple[str, ...]]:
    """label -> the wheel words it stands for (a wheel word stands for itself; runs merge by union)."""
    targets: dict[str, set[str]] = defaultdict(set)
    for wheel_word, synonyms in rows:
        targets[wheel_word].add(wheel_word)
        for synonym in synonyms:
            targets[synonym].add(wheel_word)
    return {label: tuple(sorted(words)) for label, words in targets.items()}


def names_of_forms(rows: Iterable[ListRow]) -> dict[str, tuple[str, ...]]:
    """word form -> the names it is a form of (a name is a form of itself)."""
    names_of: dict[str, set[str]] = defaultdict(set)
    for name, forms in rows:
        for form in forms:
            names_of[form].add(name)
        names_of[name].add(name)
    return {form: tuple(sorted(names)) for form, names in names_of.items()}


def compile_resources(paths: Mapping[str, Path], key: str) -> WheelResources:
    """Build the resources from the asset files (``paths``: manifest path -> local file)."""
    return resources_from_assets(read_wheel_assets(paths), key)


def resources_from_assets(assets: WheelAssets, key: str) -> WheelResources:
    """Build the resources from parsed wheel assets (the files, or rows made by hand in tests)."""
    names_of = names_of_forms(assets.word_forms)
    wheel_words_of = synonym_targets(assets.synonyms)
    wheels = tuple(wheel_levels(rows) for rows in assets.wheels)
    return resources_from_maps(names_of, wheel_words_of, wheels, key)


def resources_from_maps(
    names_of: Mapping[str, tuple[str, ...]],
    wheel_words_of: Mapping[str, tuple[str, ...]],
    wheels: tuple[WheelLevels, ...],
    key: str,
) -> WheelResources:
    """Compile the label table of these maps (the assets' own, or a diagnostic variant of them)."""
    return WheelResources(
        names_of=MappingProxyType(dict(names_of)),
        wheel_words_of=MappingProxyType(dict(wheel_words_of)),
        wheels=wheels,
        table=compile_label_table(names_of, wheel_words_of, wheels),
        key=key,
    )


def resources_key() -> str:
    """sha256 over the manifest sha256s of the resource files and the compiler version."""
    manifest = load_manifest()
    parts = [f"v{COMPILER_VERSION}"] + [f"{rel}={manifest[rel].sha256}" for rel in WHEEL_ASSETS]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def cache_file(data: str | os.PathLike[str] | None = None) -> Path:
    base = Path(data).expanduser() / "cache" if data is not None else cache_dir()
    return base / "scoring" / f"wheel-resources-{resources_key()[:16]}.npz"


def _read_cache(path: Path, key: str) -> WheelResources | None:
    if not path.is_file():
        return None
    try:
        with open_npz(path) as archive:
            arrays = {name: archive[name] for name in archive.files}
        if _unpack_text(arrays["meta"]) != [key, str(COMPILER_VERSION)]:
            return None
        return WheelResources.from_arrays(arrays)
    # Anything a damaged cache can raise (BadZipFile, zlib.error, UnicodeDecodeError, a bad reshape...):
    # the cache is derived from verified assets, so it is rebuilt rather than trusted or fatal.
    except Exception as exc:
        warnings.warn(f"{path}: unreadable resource cache ({describe_exception(exc)}); rebuilding it", stacklevel=3)
        return None


def _write_cache(path: Path, resources: WheelResources) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".partial-", dir=path.parent, suffix=".npz")
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **resources.to_arrays())
        os.replace(tmp, path)
    except OSError as exc:  # a read-only data folder only costs speed
        warnings.warn(f"{path}: could not write the resource cache ({exc})", stacklevel=3)


@functools.lru_cache(maxsize=4)
def _load(data_key: str | None) -> WheelResources:
    # The key names the assets' verified content, so a cache hit needs no asset file at all.
    key = resources_key()
    path = cache_file(data_key)
    cached = _read_cache(path, key)
    if cached is not None:
        return cached
    # asset_path verifies (and if needed fetches) every file, so the manifest sha256s name their content.
    resources = compile_resources(wheel_asset_paths(data_key), key)
    _write_cache(path, resources)
    return resources


def load_resources(data: str | os.PathLike[str] | None = None) -> WheelResources:
    """The compiled wheel resources of the data folder ``data`` (default ``OVMER_DATA``)."""
    folder = Path(data).expanduser() if data is not None else data_dir()
    return _load(str(folder.resolve()))


def clear_memory_cache() -> None:
    """Forget the per-process copy (tests and benchmarks that time a cold load)."""
    _load.cache_clear()
