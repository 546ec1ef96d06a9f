"""``ovmer download mer2025``: the MER2025 dataset (``MERChallenge/MER2025``, gated) in its loader's layout.

The chosen parts are fetched into the Hub cache (resumable), then linked into ``dest`` in the
layout :func:`ovmer.data.mer2025.load_mer2025` reads (``video/``, ``audio/``, ``openface_face/``, the
csvs), whatever folder the Hub repository nests them in; the loader then checks the result
and names every missing or empty file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ovmer.data.mer2025 import (
    DESCRIPTIONS_CSV,
    LABELS_CSV,
    SUBTITLE_CSV,
    MediaKind,
    MER2025Layout,
    load_mer2025,
)
from ovmer.errors import OvmerError
from ovmer.hub.snapshots import fetch_snapshot, matching_files
from ovmer.registry import did_you_mean

REPO_ID = "MERChallenge/MER2025"
REPO_TYPE = "dataset"
# part -> the files it is, relative to the dataset folder (the Hub repo may nest that folder one level)
PARTS: dict[str, tuple[str, ...]] = {
    "video": ("video/*",),
    "audio": ("audio/*",),
    "openface_face": ("openface_face/*",),
    "subtitles": (SUBTITLE_CSV,),
    "labels": (LABELS_CSV, DESCRIPTIONS_CSV),
}
MEDIA_OF_PART: dict[str, MediaKind] = {"video": "video", "audio": "audio", "openface_face": "face"}
MARKERS = (SUBTITLE_CSV, LABELS_CSV, "video", "audio", "openface_face")


def parse_parts(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"video,labels"`` -> ("video", "labels"); empty: every part."""
    if not text:
        return tuple(PARTS)
    items = text.split(",") if isinstance(text, str) else list(text)
    parts = tuple(dict.fromkeys(p.strip() for p in items if p.strip()))
    for part in parts:
        if part not in PARTS:
            raise OvmerError(f"unknown part {part!r}.{did_you_mean(part, PARTS)} Parts: {', '.join(PARTS)}")
    return parts


def allow_patterns(parts: Sequence[str]) -> list[str]:
    """The Hub patterns of ``parts``, at the repo's top level or one folder down."""
    patterns = [pattern for part in parts for pattern in PARTS[part]]
    return patterns + [f"*/{pattern}" for pattern in patterns] + ["README.md", "*.md"]


def dataset_root(snapshot: Path) -> Path:
    """The folder of the snapshot that holds the dataset (the snapshot itself or one folder below it)."""
    for folder in [snapshot, *sorted(p for p in snapshot.iterdir() if p.is_dir())]:
        if any((folder / marker).exists() for marker in MARKERS):
            return folder
    raise OvmerError(f"{snapshot}: no MER2025 files (none of {', '.join(MARKERS)}) in the downloaded snapshot")


def link_tree(snapshot: Path, root: Path, dest: Path, patterns: Sequence[str]) -> int:
    """Link every file of ``root`` that ``patterns`` allow into ``dest`` (same relative path); returns the count.

    The links point at the cache's files, so the data is stored once; existing correct links are kept.
    """
    count = 0
    local = [p for p in patterns if not p.startswith("*/")]
    for rel in matching_files(root, local):
        target = (root / rel).resolve()
        link = dest / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() and link.resolve() == target:
            count += 1
            continue
        if link.exists() or link.is_symlink():
            link.unlink()
        os.symlink(target, link)
        count += 1
    return count


@dataclass(frozen=True)
class DatasetDownload:
    dest: Path
    snapshot: Path
    parts: tuple[str, ...]
    files: int
    layout: MER2025Layout

    def report(self) -> str:
        lines = [f"MER2025 ({', '.join(self.parts)}): {self.files} files linked into {self.dest} "
                 f"from {self.snapshot}", f"{len(self.layout)} samples (names from {self.layout.names_from})"]
        problems = self.layout.report()
        return "\n".join(lines + ([problems] if problems else ["layout check: every required file is present"]))


def download_mer2025(
    dest: str | os.PathLike[str],
    parts: Sequence[str] | str | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    token: str | None = None,
) -> DatasetDownload:
    """Fetch the chosen parts, link them into ``dest`` in the MER2025 layout and check it."""
    chosen = parse_parts(parts)
    patterns = allow_patterns(chosen)
    snapshot = fetch_snapshot(REPO_ID, repo_type=REPO_TYPE, allow_patterns=patterns, cache_dir=cache_dir, token=token)
    root = dataset_root(snapshot)
    target = Path(dest).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    files = link_tree(snapshot, root, target, patterns)
    if not files:
        raise OvmerError(f"{snapshot}: none of the files of {', '.join(chosen)} are in the snapshot")
    require = [MEDIA_OF_PART[p] for p in chosen if p in MEDIA_OF_PART]
    return DatasetDownload(target, snapshot, chosen, files, load_mer2025(target, require=require))
