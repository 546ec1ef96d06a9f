"""The MER2025 dataset folder as users download it, resolved into per-sample media paths.

Layout (``huggingface.co/datasets/MERChallenge/MER2025``)::

    mer2025-dataset/
      video/<name>.mp4                       raw clips
      audio/<name>.wav                       audio extracted from the clips
      openface_face/<name>/<name>.npy        OpenFace face crops, (T, H, W, 3) uint8
      subtitle_chieng.csv                    name, chinese, english
      track2_train_ovmerd.csv                name, openset   (OV-MERD labels)
      track3_train_ovmerd.csv                name, reason    (OV-MERD descriptions)

Which samples: the names given, else those of ``track2_train_ovmerd.csv`` (the OV-MERD
set), else of ``subtitle_chieng.csv``, else the clips in ``video/``. A folder with
neither ``video/`` nor ``audio/`` is read as a flat folder of clips. Files a caller
needs (``require``) that are missing or empty are collected up front, per sample and
by path, instead of surfacing later as a crash in the middle of a run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ovmer.data.csvfile import read_csv_columns
from ovmer.errors import OvmerError
from ovmer.labels import parse_labels

MediaKind = Literal["video", "audio", "face"]
MEDIA_KINDS: tuple[MediaKind, ...] = ("video", "audio", "face")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a")

SUBTITLE_CSV = "subtitle_chieng.csv"
LABELS_CSV = "track2_train_ovmerd.csv"
DESCRIPTIONS_CSV = "track3_train_ovmerd.csv"
CSV_COLUMNS = {
    SUBTITLE_CSV: ("name", "chinese", "english"),
    LABELS_CSV: ("name", "openset"),
    DESCRIPTIONS_CSV: ("name", "reason"),
}


@dataclass(frozen=True)
class MER2025Sample:
    """One sample: resolved media paths (``None`` when absent) and its texts."""

    name: str
    video: Path | None = None
    audio: Path | None = None
    face: Path | None = None
    subtitle_en: str | None = None
    subtitle_zh: str | None = None
    openset: list[str] | None = None
    reason: str | None = None
    subtitle_row: bool = False  # the subtitle CSV has a row for it (its cells may still be empty)

    def media(self, kind: MediaKind) -> Path | None:
        return {"video": self.video, "audio": self.audio, "face": self.face}[kind]

    def subtitle(self, language: Literal["english", "chinese"] = "english") -> str | None:
        return self.subtitle_en if language == "english" else self.subtitle_zh


@dataclass
class MER2025Layout:
    """The resolved dataset: samples in a stable order, and every problem found."""

    root: Path
    samples: dict[str, MER2025Sample]
    problems: dict[str, list[str]] = field(default_factory=dict)  # name -> "path: what is wrong"
    names_from: str = ""

    @property
    def names(self) -> list[str]:
        return list(self.samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, name: str) -> MER2025Sample:
        try:
            return self.samples[name]
        except KeyError:
            raise OvmerError(f"{self.root}: no sample named {name!r}") from None

    def report(self, max_lines: int = 20) -> str:
        """A readable list of the problems (empty string when there are none)."""
        if not self.problems:
            return ""
        lines = [f"{self.root}: {len(self.problems)} of {len(self.samples)} samples have missing or empty files:"]
        flat = [msg for msgs in self.problems.values() for msg in msgs]
        lines += [f"  {msg}" for msg in flat[:max_lines]]
        if len(flat) > max_lines:
            lines.append(f"  ... and {len(flat) - max_lines} more")
        return "\n".join(lines)


def _read_csv(path: Path) -> dict[str, dict[str, str | None]]:
    """name -> the row's needed cells (empty cells: None); a row without a name or a name twice is an error."""
    needed = CSV_COLUMNS[path.name]
    frame = read_csv_columns(path, needed, f"the dataset's {path.name}")
    rows: dict[str, dict[str, str | None]] = {}
    for number, row in enumerate(frame[list(needed)].itertuples(index=False), start=1):
        values = {col: (str(val).strip() if str(val).strip() else None) for col, val in zip(needed, row, strict=True)}
        if not any(values.values()):
            continue  # a row of empty cells is a blank line
        name = values["name"]
        if not name:
            raise OvmerError(
                f"{path}: data row {number} has no name (its sample would drop out of every run); "
                "fill in the name or delete the row"
            )
        if name in rows:
            raise OvmerError(f"{path}: sample {name} has more than one row; keep one")
        rows[name] = values
    return rows


def _index_folder(folder: Path, extensions: Sequence[str]) -> dict[str, Path]:
    """stem -> file, preferring the earlier extension; one directory scan, no per-sample stat calls."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    rank = {ext: i for i, ext in enumerate(extensions)}
    with os.scandir(folder) as entries:
        for entry in entries:
            stem, ext = os.path.splitext(entry.name)
            ext = ext.lower()
            if ext not in rank:
                continue
            current = found.get(stem)
            if current is None or rank[ext] < rank[current.suffix.lower()]:
                found[stem] = Path(entry.path)
    return found


def _problem(path: Path | None, kind: str, expected: Path) -> str | None:
    if path is None:
        return f"{expected}: {kind} file is missing"
    try:
        size = path.stat().st_size
    except OSError:
        return f"{path}: {kind} file is missing"
    if size == 0:
        return f"{path}: {kind} file is empty (0 bytes)"
    return None


def load_mer2025(
    root: str | os.PathLike[str],
    names: Iterable[str] | None = None,
    require: Iterable[MediaKind] = (),
    strict: bool = False,
) -> MER2025Layout:
    """Resolve a MER2025-layout folder.

    ``require`` names the media kinds the caller will read; a sample whose file of
    such a kind is missing or empty is listed in ``problems`` (``audio`` is satisfied
    by the clip's own audio track when ``audio/<name>.wav`` does not exist). With
    ``strict``, any problem raises :class:`OvmerError` listing them.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise OvmerError(f"{root}: dataset folder does not exist")
    required = list(dict.fromkeys(require))
    for kind in required:
        if kind not in MEDIA_KINDS:
            raise OvmerError(f"unknown media kind {kind!r}; kinds are {', '.join(MEDIA_KINDS)}")

    subtitles = _read_csv(root / SUBTITLE_CSV) if (root / SUBTITLE_CSV).is_file() else {}
    labels = {n: r["openset"] for n, r in _read_csv(root / LABELS_CSV).items()} if (root / LABELS_CSV).is_file() else {}
    reasons = (
        {n: r["reason"] for n, r in _read_csv(root / DESCRIPTIONS_CSV).items()}
        if (root / DESCRIPTIONS_CSV).is_file()
        else {}
    )
    flat = not (root / "video").is_dir() and not (root / "audio").is_dir()
    # A plain folder of clips (a user's own videos) is read as if it were video/ and audio/.
    videos = _index_folder(root if flat else root / "video", VIDEO_EXTENSIONS)
    audios = _index_folder(root if flat else root / "audio", AUDIO_EXTENSIONS)

    if names is not None:
        chosen, names_from = [str(n) for n in names], "the names given"
    elif labels:
        chosen, names_from = list(labels), LABELS_CSV
    elif subtitles:
        chosen, names_from = list(subtitles), SUBTITLE_CSV
    elif videos or audios:
        chosen = sorted(set(videos) | set(audios))
        names_from = "media files in the folder" if flat else "video/ and audio/"
    else:
        raise OvmerError(
            f"{root}: no samples found: none of {LABELS_CSV}, {SUBTITLE_CSV}, video/*.mp4 or media files "
            "is there (is this the mer2025-dataset folder?)"
        )
    chosen = list(dict.fromkeys(chosen))  # a name listed twice is one sample

    samples: dict[str, MER2025Sample] = {}
    problems: dict[str, list[str]] = {}
    for name in chosen:
        face = root / "openface_face" / name / f"{name}.npy"
        sub = subtitles.get(name, {})
        raw_labels = labels.get(name)
        sample = MER2025Sample(
            name=name,
            video=videos.get(name),
            audio=audios.get(name),
            face=face if face.exists() else None,
            subtitle_en=sub.get("english"),
            subtitle_zh=sub.get("chinese"),
            openset=parse_labels(raw_labels, where=f"{root / LABELS_CSV}: {name}") if raw_labels else None,
            reason=reasons.get(name),
            subtitle_row=name in subtitles,
        )
        samples[name] = sample
        found: list[str] = []
        for kind in required:
            expected = {
                "video": (root if flat else root / "video") / f"{name}.mp4",
                "audio": (root if flat else root / "audio") / f"{name}.wav",
                "face": face,
            }[kind]
            issue = _problem(sample.media(kind), kind, expected)
            if issue and kind == "audio" and sample.audio is None and _problem(sample.video, "video", expected) is None:
                issue = None  # no wav: the clip's audio track stands in (an empty wav is still reported)
            if issue:
                found.append(issue)
        if found:
            problems[name] = found
    layout = MER2025Layout(root=root, samples=samples, problems=problems, names_from=names_from)
    if strict and problems:
        raise OvmerError(layout.report())
    return layout
