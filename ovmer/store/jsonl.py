"""JSONL results files: one record per sample, appended and flushed one by one.

A record's ``key`` hashes everything its output depends on (inputs, prompt
text, model id, generation settings), so a re-run knows which records are
still valid.

Readers see each sample's *latest ok record*, or its latest error record when it
never finished (:meth:`ResultsStore.latest`): an error written after a finished
record is an attempt that failed, kept in the file's history, and never hides the
finished value. A line that is not UTF-8 JSON (a killed writer's torn last line, a
damaged byte) is skipped and reported, never fatal; a line that is JSON but not a
record is an error naming the file and line.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ovmer.errors import OvmerError, ReadError
from ovmer.paths import output_dir
from ovmer.settings import Setting

Status = Literal["ok", "error"]
STAGES = ("describe", "merge", "extract", "group", "asr")
DESCRIPTION_STAGES = ("describe", "merge")  # stages whose values are free-text descriptions
LABEL_STAGE = "extract"  # the one stage whose values are label lists
# A model reply longer than this many characters is cut to it before it is stored (raw and value alike);
# the record's meta keeps the full length as ``reply_chars``. The paper's replies are a few hundred words:
# a longer one is a runaway generation, and it must not make the store files unreadable.
MAX_REPLY_CHARS = 65_536
_RECORD_FIELDS = ("name", "status", "key", "raw", "value", "error", "meta")


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
    def from_dict(cls, data: Any, where: str) -> Record:
        """A record from its JSON object, every field's type checked (``where`` names file and line)."""
        if not isinstance(data, dict):
            raise ReadError(f"{where}: not a results record (a JSON {type(data).__name__}, not an object)")
        unknown = sorted(set(data) - set(_RECORD_FIELDS))
        if unknown:
            raise ReadError(f"{where}: not a results record (unknown field(s) {unknown})")
        for required in ("name", "status", "key"):
            if required not in data:
                raise ReadError(f"{where}: not a results record (no {required!r})")
        name, key = data["name"], data["key"]
        if not isinstance(name, str) or not name.strip():
            raise ReadError(f"{where}: 'name' must be a sample name (text), got {name!r:.60}")
        if data["status"] not in ("ok", "error"):
            raise ReadError(f"{where}: status must be ok or error, got {data['status']!r:.40}")
        if not isinstance(key, str):
            raise ReadError(f"{where}: {name}: 'key' must be text, got {type(key).__name__}")
        for optional in ("raw", "error"):
            if data.get(optional) is not None and not isinstance(data[optional], str):
                raise ReadError(f"{where}: {name}: {optional!r} must be text or null, got {type(data[optional]).__name__}")
        meta = data.get("meta") if data.get("meta") is not None else {}
        if not isinstance(meta, dict):
            raise ReadError(f"{where}: {name}: 'meta' must be an object, got {type(meta).__name__}")
        return cls(name, data["status"], key, data.get("raw"), data.get("value"), data.get("error"), meta)


def store_path(
    stage: str,
    baseline: str,
    setting: Setting | str,
    root: str | os.PathLike[str] | None = None,
    shard: tuple[int, int] | None = None,
) -> Path:
    """``<root>/store/<stage>/<baseline>/<setting>[.shard-i-of-n].jsonl``."""
    if stage not in STAGES:
        raise OvmerError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    base = Path(root) if root is not None else output_dir()
    setting_name = Setting.parse(setting).value
    suffix = f".shard-{shard[0]}-of-{shard[1]}" if shard else ""
    return base / "store" / stage / baseline / f"{setting_name}{suffix}.jsonl"


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
        """Every record in file order; unreadable lines are skipped with one warning naming them."""
        if not self.path.exists():
            return
        self.torn_lines = []
        with open(self.path, "rb") as handle:
            data = handle.read()
        lines = data.split(b"\n")
        torn_tail = bool(lines) and lines[-1].strip() != b""  # a last line without its newline
        readable = 0
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                parsed = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                self.torn_lines.append(number)
                continue
            readable += 1
            yield Record.from_dict(parsed, f"{self.path}:{number}")
        if self.torn_lines and not readable and self.torn_lines != [len(lines)] * int(torn_tail):
            raise ReadError(
                f"{self.path}: not a results-store file (no line is a JSON record; line "
                f"{self.torn_lines[0]} is not UTF-8 JSON)"
            )
        if self.torn_lines:
            warnings.warn(
                f"{self.path}: skipped {len(self.torn_lines)} unreadable line(s) "
                f"{self.torn_lines[:5]} (an interrupted write); those samples will be redone",
                stacklevel=2,
            )

    def _scan(self) -> tuple[dict[str, Record], dict[str, Record]]:
        """(each sample's latest ok record, else its latest record; each sample's last record)."""
        finished: dict[str, Record] = {}
        last: dict[str, Record] = {}
        for record in self.iter_records():
            last[record.name] = record
            if record.ok:
                finished[record.name] = record
        return {name: finished.get(name, record) for name, record in last.items()}, last

    def latest(self) -> dict[str, Record]:
        """Each sample's latest ok record, or its latest error record when it never finished.

        A failed attempt after a finished record never hides it: this is what every
        reader of values sees (see the module docstring). Order: first appearance.
        """
        return self._scan()[0]

    def latest_attempts(self) -> dict[str, Record]:
        """The last record written for each sample, ok or not (a run's most recent attempt)."""
        return self._scan()[1]

    def failed_after_ok(self) -> dict[str, Record]:
        """Samples whose last attempt failed after an earlier finished record: name -> that error record."""
        effective, last = self._scan()
        return {name: rec for name, rec in last.items() if not rec.ok and effective[name].ok}

    def done_keys(self) -> dict[str, str]:
        """name -> key of each sample's latest ok record (a re-run skips it while the key is the same)."""
        return {name: rec.key for name, rec in self.latest().items() if rec.ok}

    def append(self, record: Record) -> None:
        self.extend([record])

    def extend(self, records: Iterable[Record]) -> int:
        """Append ``records``, flushed and synced once at the end; returns how many were written."""
        records = list(records)
        if not records:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        now = round(time.time(), 3)
        lines = []
        for record in records:
            record.meta.setdefault("time", now)
            lines.append(record.to_json() + "\n")
        # A previous writer killed mid-line leaves no newline; start on a fresh line.
        needs_newline = self.path.exists() and self.path.stat().st_size > 0 and not _ends_with_newline(self.path)
        with open(self.path, "a", encoding="utf-8") as handle:
            if needs_newline:
                handle.write("\n")
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        return len(lines)

    def values(self, only_ok: bool = True) -> dict[str, Any]:
        """name -> parsed value of the latest records."""
        return {n: r.value for n, r in self.latest().items() if r.ok or not only_ok}


def cap_reply(text: str | None) -> tuple[str | None, int | None]:
    """``text`` cut to :data:`MAX_REPLY_CHARS` and its full length when it was longer (else None)."""
    if text is None or len(text) <= MAX_REPLY_CHARS:
        return text, None
    return text[:MAX_REPLY_CHARS], len(text)


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
