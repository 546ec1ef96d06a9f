"""The GPT-grouping metric: an LLM groups each sample's labels into synonym groups.

Per sample, the union of ground-truth and predicted labels is grouped (a reply
like ``[['joyful', 'happy'], ['helpless']]``). Each label maps to the first
element of its group (a label in several groups takes its last group, as in the
authors' code); a label in no group maps to itself. Then set-level precision
("accuracy") and recall as for the wheel metrics, but every sample counts (an
empty mapped prediction scores 0 and 0; an empty ground truth has recall 0).

Groupings are cached per sample in a results-store JSONL keyed by the label union
(:class:`GroupingCache`); the authors' cached groupings for
``gpt-grouping/predict-openset.csv`` ship as ``openset-synonym/<name>.npy``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ovmer.assets import asset_path
from ovmer.errors import LabelFormatError, OvmerError, reading
from ovmer.labels import parse_labels
from ovmer.scoring.metrics import DEFAULT_PARSER, align_samples, f_score
from ovmer.store import Record, ResultsStore, compute_key

RELEASED_GROUPINGS = "gpt-grouping/openset-synonym.zip"
RELEASED_PREDICTIONS = "gpt-grouping/predict-openset.csv"
_INNER_GROUP = re.compile(r"\[([^\[\]]*)\]")


def parse_groups(text: Any) -> list[list[str]]:
    """An LLM's grouping reply -> groups of lower-cased, stripped labels.

    Every innermost ``[...]`` is one group (chatter around them is ignored); empty
    groups are dropped; no bracket at all gives ``[]``. Never raises on text;
    lists of label lists are normalised the same way.
    """
    if isinstance(text, np.ndarray):
        text = text.tolist()
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if isinstance(text, str):
        contents = _INNER_GROUP.findall(text)
        groups = [parse_labels(content) for content in contents]
    elif isinstance(text, (list, tuple)):
        groups = []
        for group in text:
            if isinstance(group, str):
                group = [group]
            if not isinstance(group, (list, tuple)):
                raise LabelFormatError(
                    f"a group must be a list of labels, got {type(group).__name__} {group!r:.60}"
                )
            groups.append(parse_labels(list(group), where="group"))
    elif text is None:
        groups = []
    else:
        raise LabelFormatError(f"expected a grouping reply (text), got {type(text).__name__} {text!r:.60}")
    return [group for group in groups if group]


def _union_key(labels: Iterable[str]) -> str:
    return compute_key(labels=sorted({label.lower().strip() for label in labels if label.strip()}))


class GroupingCache:
    """Groupings per sample in a results-store JSONL, keyed by the sample's label union.

    ``get`` returns a grouping only if it was made for exactly this label union;
    ``put`` appends one record (``raw``: the LLM's reply as returned).
    """

    def __init__(self, path: str | os.PathLike[str]):
        self.store = ResultsStore(path)
        self._latest: dict[str, Record] | None = None

    def __repr__(self) -> str:
        return f"GroupingCache({str(self.store.path)!r})"

    @staticmethod
    def key(labels: Iterable[str]) -> str:
        return _union_key(labels)

    def _records(self) -> dict[str, Record]:
        if self._latest is None:
            self._latest = self.store.latest()
        return self._latest

    def get(self, name: str, labels: Iterable[str]) -> list[list[str]] | None:
        record = self._records().get(name)
        if record is None or not record.ok or record.key != self.key(labels):
            return None
        return parse_groups(record.value)

    def put(
        self, name: str, labels: Iterable[str], groups: Sequence[Sequence[str]], raw: str | None = None
    ) -> None:
        record = Record(name, "ok", self.key(labels), raw=raw, value=parse_groups(list(groups)))
        self.store.append(record)
        self._records()[name] = record

    def groupings(self) -> dict[str, list[list[str]]]:
        """name -> groups of every sample with an ok record (whatever its key)."""
        return {name: parse_groups(rec.value) for name, rec in self._records().items() if rec.ok}


def released_groupings() -> dict[str, list[list[str]]]:
    """The authors' GPT-3.5 groupings for ``predict-openset.csv``: name -> groups."""
    folder = asset_path(RELEASED_GROUPINGS).parent / "openset-synonym"
    out: dict[str, list[list[str]]] = {}
    for path in sorted(folder.glob("*.npy")):
        with reading(path, "a grouping (.npy text array)"):
            try:
                value = np.load(path, allow_pickle=False)
            except ValueError as exc:
                raise OvmerError(f"{path}: expected a text array ({exc})") from exc
            if not isinstance(value, np.ndarray):
                value.close()
                raise OvmerError(f"{path}: an npz archive, not a .npy text array")
            out[path.stem] = parse_groups(value.tolist())
    if not out:
        raise OvmerError(f"{folder}: no groupings found (is {RELEASED_GROUPINGS} unpacked?)")
    return out


@dataclass(frozen=True)
class GroupingScore:
    accuracy: float  # mean set-level precision
    recall: float
    average: float  # (accuracy + recall) / 2
    f: float
    n_samples: int = 0


def _group_map(groups: Sequence[Sequence[str]]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for group in groups:
        for label in group:
            mapping[label] = group[0]
    return mapping


def gpt_grouping_score(
    predictions: Mapping[str, Any],
    ground_truth: Mapping[str, Any] | None = None,
    groups: Mapping[str, Any] | None = None,
    *,
    missing_as_empty: bool = False,
    allow_missing_groups: bool = False,
    parser: str = DEFAULT_PARSER,
) -> GroupingScore:
    """Score predictions with per-sample synonym groups (default: the released ``openset-synonym``)."""
    groupings = released_groupings() if groups is None else groups
    names, gt, pred = align_samples(predictions, ground_truth, missing_as_empty=missing_as_empty, parser=parser)
    lacking = [n for n in names if n not in groupings]
    if lacking and not allow_missing_groups:
        raise OvmerError(
            f"no grouping for {len(lacking)} sample(s): {', '.join(lacking[:10])}"
            f"{' …' if len(lacking) > 10 else ''} (allow_missing_groups=True maps their labels to themselves)"
        )
    accuracy, recall = [], []
    for name, gt_labels, pred_labels in zip(names, gt, pred, strict=True):
        mapping = _group_map(parse_groups(groupings.get(name, [])))
        g = {mapping.get(label, label) for label in gt_labels}
        p = {mapping.get(label, label) for label in pred_labels}
        if not p:
            accuracy.append(0.0)
            recall.append(0.0)
        else:
            accuracy.append(len(g & p) / len(p))
            recall.append(len(g & p) / len(g) if g else 0.0)
    if not names:
        raise OvmerError("no ground-truth samples to score")
    acc, rec = float(np.mean(accuracy)), float(np.mean(recall))
    return GroupingScore(acc, rec, (acc + rec) / 2, f_score(acc, rec), len(names))
