"""Join a sharded describe run into one store file, and export descriptions in the authors' npz format.

:func:`merge_shards` checks that every expected sample has its latest record in
exactly one shard file before it writes the merged file (whole, then swapped
in); the merged file keeps the records and keys as they are, so a later
unsharded run resumes from it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ovmer.data.mer2025 import load_mer2025
from ovmer.describe.prompts import describe_setting
from ovmer.describe.selection import STAGE, describe_store, select_names
from ovmer.errors import OvmerError
from ovmer.settings import Setting
from ovmer.store.authors_npz import export_descriptions
from ovmer.store.jsonl import Record, store_path


@dataclass(frozen=True)
class MergeResult:
    path: Path
    samples: int
    errors: int

    def __str__(self) -> str:
        return f"{self.path}: {self.samples} samples ({self.errors} error records)"


def merge_shards(
    baseline: str,
    setting: Setting | str,
    num_shards: int,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    names: Iterable[str] | None = None,
    limit: int | None = None,
    store_root: str | os.PathLike[str] | None = None,
    allow_errors: bool = False,
) -> MergeResult:
    """Join ``num_shards`` shard files into the baseline's store file, refusing gaps and duplicates.

    The expected samples are ``names``, or those of ``data_dir`` (first ``limit``),
    exactly as the shards selected them. Each must have its latest record in exactly
    one shard file, and that record must be ok unless ``allow_errors``. The merged
    file keeps the records (and keys) as they are, so a later unsharded run resumes from it.
    """
    setting = describe_setting(setting)
    if num_shards < 1:
        raise OvmerError(f"number of shards must be at least 1, got {num_shards}")
    if names is not None:
        expected = list(dict.fromkeys(names))
    elif data_dir is not None:
        expected = select_names(load_mer2025(data_dir), limit)
    else:
        raise OvmerError("merge needs the expected samples: give data_dir (and limit) or names")

    owners: dict[str, list[int]] = {}
    records: dict[str, Record] = {}
    missing_files = []
    for index in range(num_shards):
        store = describe_store(baseline, setting, store_root, (index, num_shards))
        if not store.path.is_file():
            missing_files.append(str(store.path))
            continue
        for name, record in store.latest().items():
            owners.setdefault(name, []).append(index)
            records[name] = record
    if missing_files:
        raise OvmerError(f"cannot merge: shard file(s) not found: {', '.join(missing_files)}")
    expected_set = set(expected)
    duplicates = {n: o for n, o in owners.items() if len(o) > 1}
    gaps = [n for n in expected if n not in owners]
    strays = [n for n in owners if n not in expected_set]
    errors = [n for n in expected if n in records and not records[n].ok]
    problems = []
    if duplicates:
        shown = ", ".join(f"{n} (shards {', '.join(map(str, o))})" for n, o in list(duplicates.items())[:5])
        problems.append(f"{len(duplicates)} sample(s) in more than one shard: {shown}")
    if gaps:
        problems.append(f"{len(gaps)} sample(s) in no shard: {', '.join(gaps[:5])}{' ...' if len(gaps) > 5 else ''}")
    if strays:
        problems.append(f"{len(strays)} sample(s) not expected: {', '.join(strays[:5])}")
    if errors and not allow_errors:
        problems.append(
            f"{len(errors)} sample(s) whose latest record is an error: {', '.join(errors[:5])} "
            "(re-run those shards, or merge with allow_errors)"
        )
    if problems:
        raise OvmerError(f"cannot merge {baseline} {setting.value} from {num_shards} shards: " + "; ".join(problems))

    target = store_path(STAGE, baseline, setting, root=store_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".partial-{target.name}")
    # Merged file is derived from the shards: write it whole, then swap it in.
    with open(partial, "w", encoding="utf-8") as handle:
        for name in expected:
            handle.write(records[name].to_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)
    return MergeResult(target, len(expected), len(errors))


def export_npz(
    baseline: str,
    setting: Setting | str,
    npz_path: str | os.PathLike[str],
    *,
    store_root: str | os.PathLike[str] | None = None,
    skip_errors: bool = False,
) -> Path:
    """Write the baseline's descriptions in the authors' ``name2reason`` npz format."""
    return export_descriptions(describe_store(baseline, setting, store_root).path, npz_path, skip_errors=skip_errors)
