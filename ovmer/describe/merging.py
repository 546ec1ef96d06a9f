"""Join a sharded describe run into one store file, and export descriptions in the authors' npz format.

:func:`merge_shards` checks that every expected sample has its latest record in
exactly one shard file, then *adds* the shards' records to the baseline's store
file: what the file held before (an earlier full run, samples outside this
selection) stays, a record already there is not written twice, and a sample
that already had a different finished record is reported as a conflict (the
shard's record becomes its latest; the earlier one stays in the history). The
records keep their keys, so a later unsharded run resumes from the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ovmer.data.mer2025 import load_mer2025
from ovmer.describe.prompts import describe_setting
from ovmer.describe.selection import describe_store, select_names
from ovmer.errors import OvmerError
from ovmer.settings import Setting
from ovmer.store.authors_npz import export_descriptions
from ovmer.store.jsonl import Record


@dataclass(frozen=True)
class MergeResult:
    path: Path
    samples: int
    errors: int
    added: int = 0  # records appended to the store file (the rest were there already)
    conflicts: tuple[str, ...] = ()  # samples that had a different finished record before

    def __str__(self) -> str:
        text = f"{self.path}: {self.samples} samples ({self.errors} error records), {self.added} records added"
        if self.conflicts:
            shown = ", ".join(self.conflicts[:5]) + (" ..." if len(self.conflicts) > 5 else "")
            text += (
                f"; {len(self.conflicts)} sample(s) already had a different finished record ({shown}): "
                "the shards' records are now their latest, the earlier ones stay in the file's history"
            )
        return text


def _same(a: Record, b: Record) -> bool:
    return (a.status, a.key, a.raw, a.value, a.error) == (b.status, b.key, b.raw, b.value, b.error)


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
    one shard file, and that record must be ok unless ``allow_errors``. The records
    are added to the store file (see the module docstring); nothing it held is removed.
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
    target = describe_store(baseline, setting, store_root)
    before = target.latest()
    # A shard's error does not undo a finished record the file already holds (readers see the latter).
    merged = {
        n: before[n] if not records[n].ok and n in before and before[n].ok else records[n]
        for n in expected if n in records
    }
    errors = [n for n in expected if n in merged and not merged[n].ok]
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

    additions: list[Record] = []
    conflicts: list[str] = []
    for name in expected:
        record, current = records[name], before.get(name)
        if current is not None and (_same(current, record) or (current.ok and not record.ok)):
            continue  # already merged, or a failed retry of a finished sample
        if current is not None and current.ok and record.ok:
            conflicts.append(name)
        additions.append(record)
    # Appended in one write and one fsync; a merge killed midway is completed by running it again.
    target.extend(additions)
    return MergeResult(target.path, len(expected), len(errors), len(additions), tuple(conflicts))


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
