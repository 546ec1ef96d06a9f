"""Check a challenge submission in the organisers' format before uploading it.

The MER2025 / MER2026 Track 2 evaluation reads an ``-openset.npz`` holding two
1-D unicode string arrays, ``filenames`` (sample names) and ``fileitems`` (each
sample's label list, e.g. ``[happy, relaxed]``), and scores it against the
candidate list the organisers publish (a CSV with a ``name`` column:
``track_all_candidates.csv`` for MER2025, ``track1_track2_candidate.csv`` for
MER2026). :func:`check_submission` lists every problem: keys, dtypes and shapes,
pickled content (refused, never loaded), the exact set of candidate names (no
duplicates, no missing, no extra names), and the items: each must hold a label
list (:func:`ovmer.labels.parse_labels` finds labels in it), and none may be
empty unless allowed. Items that the organisers' list split reads differently
from ``parse_labels`` (text around the list, sentence-long labels) are counted in
the summary: their labels may be lost in the official scoring.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ovmer.data.csvfile import read_csv_columns
from ovmer.data.name_values import OPENSET_KEYS
from ovmer.errors import OvmerError
from ovmer.labels import parse_labels
from ovmer.registry import Registry
from ovmer.scoring.compat import parse_labels_authors

EXAMPLES = 3  # sample names shown per problem
_EMPTY_LIST = re.compile(r"^\W*$|\[\s*\]")  # blank, punctuation only, or an explicit []


@dataclass(frozen=True)
class Track:
    """A challenge track that takes open-vocabulary submissions."""

    name: str
    candidates_file: str  # the organisers' candidate list, as their download names it
    protocol: str  # the scoring protocol that ranks it (ovmer score --protocol)


TRACKS: Registry[Track] = Registry("challenge track", Track)
for _track, _help in (
    (Track("mer2025-track2", "track_all_candidates.csv", "mer2025-track2"), "MER2025 Track 2 (MER-FG)"),
    (Track("mer2026-track2", "track1_track2_candidate.csv", "mer2026-track2"), "MER2026 Track 2 (MER-FG)"),
):
    TRACKS.register(_track.name, _track, _help)
DEFAULT_TRACK = "mer2025-track2"


def _examples(names: Sequence[str]) -> str:
    shown = ", ".join(names[:EXAMPLES])
    return shown + (f", … ({len(names)} in all)" if len(names) > EXAMPLES else "")


@dataclass
class SubmissionCheck:
    """What :func:`check_submission` found: the problems, and the numbers of a valid file."""

    path: Path
    track: Track
    problems: list[str] = field(default_factory=list)
    samples: int = 0
    labels: int = 0
    empty: list[str] = field(default_factory=list)
    read_differently: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """The one line printed for a valid file."""
        mean = self.labels / self.samples if self.samples else 0.0
        line = (f"{self.path}: valid {self.track.name} submission: {self.samples} samples, {mean:.2f} labels per "
                f"sample, {len(self.empty)} empty")
        if self.read_differently:
            line += (f"; {len(self.read_differently)} item(s) read differently by the organisers' list split than by "
                     f"ovmer's parser (text around the list, sentence-long labels: {_examples(self.read_differently)})")
        return line

    def lines(self) -> list[str]:
        """The summary when valid, else one line per problem."""
        return [self.summary()] if self.ok else [f"{self.path}: {problem}" for problem in self.problems]


def read_candidates(path: str | os.PathLike[str]) -> list[str]:
    """The sample names of a candidate list (a CSV or TSV with a ``name`` column)."""
    names = read_csv_columns(path, ("name",), "a candidate list")["name"].tolist()
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise OvmerError(f"{path}: candidate name(s) listed twice: {_examples(twice)}")
    return names


def _read_arrays(path: Path, report: SubmissionCheck) -> dict[str, np.ndarray]:
    """The text arrays of the archive; every other finding becomes a problem (nothing is unpickled)."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        report.problems.append(f"cannot read as an npz archive without unpickling ({exc})")
        return {}
    if not isinstance(archive, np.lib.npyio.NpzFile):
        report.problems.append("a single .npy array, not an npz archive with filenames and fileitems")
        return {}
    arrays: dict[str, np.ndarray] = {}
    with archive:
        keys = set(archive.files)
        missing, extra = [k for k in OPENSET_KEYS if k not in keys], sorted(keys - set(OPENSET_KEYS))
        if missing:
            report.problems.append(f"missing key(s) {', '.join(missing)} (found: {', '.join(sorted(keys)) or 'none'})")
        if extra:
            report.problems.append(f"unexpected key(s) {', '.join(extra)}; the archive holds only filenames, fileitems")
        for key in (k for k in OPENSET_KEYS if k in keys):
            try:
                array = archive[key]
            except ValueError:
                report.problems.append(f"{key} holds pickled objects, which are refused; save a unicode array "
                                       "(np.array(list_of_str))")
                continue
            if array.dtype.kind != "U" or array.ndim != 1:
                report.problems.append(f"{key} must be a 1-D unicode string array, got dtype {array.dtype} "
                                       f"shape {array.shape}")
                continue
            arrays[key] = array
    if len(arrays) == 2 and arrays["filenames"].shape != arrays["fileitems"].shape:
        report.problems.append(f"{len(arrays['filenames'])} filenames but {len(arrays['fileitems'])} fileitems")
        return {}
    return arrays


def _check_names(names: list[str], candidates: list[str], report: SubmissionCheck) -> None:
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        report.problems.append(f"{len(twice)} sample name(s) listed more than once: {_examples(twice)}")
    expected, given = set(candidates), set(names)
    missing = [name for name in candidates if name not in given]
    extra = [name for name in dict.fromkeys(names) if name not in expected]
    if missing:
        report.problems.append(f"{len(missing)} candidate sample(s) missing: {_examples(missing)}")
    if extra:
        report.problems.append(f"{len(extra)} name(s) not in the candidate list: {_examples(extra)}")


def _check_items(names: list[str], items: list[str], allow_empty: bool, report: SubmissionCheck) -> None:
    no_list: list[str] = []
    for name, item in zip(names, items, strict=True):
        labels = parse_labels(item)
        if not labels:
            (report.empty if _EMPTY_LIST.search(item) else no_list).append(name)
            continue
        report.labels += len(labels)
        if parse_labels_authors(item) != labels:
            report.read_differently.append(name)
    if no_list:
        report.problems.append(f"{len(no_list)} item(s) hold no label list (text without labels): "
                               f"{_examples(no_list)}")
    if report.empty and not allow_empty:
        report.problems.append(f"{len(report.empty)} item(s) are empty label lists: {_examples(report.empty)} "
                               "(--allow-empty accepts them)")


def check_submission(
    path: str | os.PathLike[str],
    candidates: str | os.PathLike[str] | Sequence[str],
    *,
    track: str = DEFAULT_TRACK,
    allow_empty: bool = False,
) -> SubmissionCheck:
    """Every problem of a submission file; ``candidates`` is the candidate CSV or the names themselves."""
    report = SubmissionCheck(Path(path), TRACKS.get(track))
    names_wanted = list(candidates) if not isinstance(candidates, (str, os.PathLike)) else read_candidates(candidates)
    if not report.path.is_file():
        raise OvmerError(f"{report.path}: no such submission file")
    if report.path.suffix.lower() != ".npz":
        report.problems.append("not an .npz file (the organisers accept *-openset.npz)")
        return report
    arrays = _read_arrays(report.path, report)
    if "filenames" in arrays:
        names = [str(n) for n in arrays["filenames"].tolist()]
        report.samples = len(names)
        _check_names(names, names_wanted, report)
        if "fileitems" in arrays:
            _check_items(names, [str(i) for i in arrays["fileitems"].tolist()], allow_empty, report)
    return report
