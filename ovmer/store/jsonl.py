"""JSONL results files: one record per sample, appended and flushed one by one.

A record's ``key`` hashes everything its output depends on (inputs, prompt
text, model id, generation settings), so a re-run knows which records are
still valid. Readers take the last record of each name; a torn last line (a
killed writer) is skipped and reported, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ovmer.errors import OvmerError
from ovmer.paths import output_dir
from ovmer.settings import Setting

Status = Literal["ok", "error"]
STAGES = ("describe", "merge", "extract", "group", "asr")
DESCRIPTION_STAGES = ("describe", "merge")  # stages whose values are free-text descriptions
LABEL_STAGE = "extract"  # the one stage whose values are label lists


def compute_key(**parts: Any) -> str:
    """sha256 of the canonical JSON of ``parts`` (sorted keys, no whitespace)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class Record:
    name: str
    status: Status
    key: str
    raw: str | None = None  # the model's text as returned
    value: Any = None  # the parsed value (a description, a label list, groups)
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> Record:
        try:
            record = cls(**data)
        except TypeError as exc:
            raise OvmerError(f"{where}: not a results record ({exc})") from exc
        if record.status not in ("ok", "error"):
            raise OvmerError(f"{where}: status must be ok or error, got {record.status!r}")
        return record


def store_path(
    stage: str,
    baseline: str,
    setting: Setting | str,
    root: str | os.PathLike[str] | None = None,
    shard: tuple[int, int] | None = None,
    seed: int | None = None,
) -> Path:
    """``<root>/store/<stage>/<baseline>/<setting>[.seed-s][.shard-i-of-n].jsonl``.

    ``seed`` names one of several sampled runs of the same stage (``ovmer extract --repeats``).
    """
    if stage not in STAGES:
        raise OvmerError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    base = Path(root) if root is not None else output_dir()
    setting_name = Setting.parse(setting).value
    suffix = f".seed-{seed}" if seed is not None else ""
    suffix += f".shard-{shard[0]}-of-{shard[1]}" if shard else ""
    return base / "store" / stage / baseline / f"{setting_name}{suffix}.jsonl"


_SEED_IN_NAME = re.compile(r"\.seed-(\d+)(?:\.|$)")


def seed_of_path(path: str | os.PathLike[str]) -> int | None:
    """The seed of a repeated run's store file (``S2.seed-3.jsonl`` -> 3), else None."""
    match = _SEED_IN_NAME.search(Path(path).name)
    return int(match.group(1)) if match else None


def stage_of_path(path: str | os.PathLike[str]) -> str | None:
    """The stage of a file laid out as ``store/<stage>/<baseline>/<setting>.jsonl``, else None."""
    path = Path(path)
    stage = path.parent.parent.name
    return stage if stage in STAGES and path.parent.parent.parent.name == "store" else None


class ResultsStore:
    """One JSONL file of records. Cheap to create; reads on demand."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.torn_lines: list[int] = []

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    def iter_records(self) -> Iterator[Record]:
        if not self.path.exists():
            return
        self.torn_lines = []
        with open(self.path, encoding="utf-8") as handle:
            lines = handle.readlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                self.torn_lines.append(number)
                continue
            yield Record.from_dict(data, f"{self.path}:{number}")
        if self.torn_lines:
            warnings.warn(
                f"{self.path}: skipped {len(self.torn_lines)} unreadable line(s) "
                f"{self.torn_lines[:5]} (an interrupted write); those samples will be redone",
                stacklevel=2,
            )

    def latest(self) -> dict[str, Record]:
        """The last record written for each sample name."""
        out: dict[str, Record] = {}
        for record in self.iter_records():
            out[record.name] = record
        return out

    def done_keys(self) -> dict[str, str]:
        """name -> key of samples whose latest record is ok."""
        return {name: rec.key for name, rec in self.latest().items() if rec.ok}

    def append(self, record: Record) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record.meta.setdefault("time", round(time.time(), 3))
        line = record.to_json() + "\n"
        # A previous writer killed mid-line leaves no newline; start on a fresh line.
        needs_newline = self.path.exists() and self.path.stat().st_size > 0 and not _ends_with_newline(self.path)
        with open(self.path, "a", encoding="utf-8") as handle:
            if needs_newline:
                handle.write("\n")
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def values(self, only_ok: bool = True) -> dict[str, Any]:
        """name -> parsed value of the latest records."""
        return {n: r.value for n, r in self.latest().items() if r.ok or not only_ok}


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
