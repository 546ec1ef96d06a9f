"""The OV-MERD test set: 332 samples with ground truth, references and subtitles."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from ovmer.assets import asset_path, load_pickled_npz
from ovmer.data.csvfile import read_csv_columns
from ovmer.data.name_values import GROUND_TRUTH_FILES, read_name_values
from ovmer.errors import OvmerError
from ovmer.labels import parse_labels

GROUND_TRUTH = "ovmerd/check-openset.csv"
REFERENCES = "ovmerd/final-EMER-reason.csv"
SUBTITLES = "ovmerd/transcription-engchi-polish.csv"
ONE_HOT = "ovmerd/label-6way.npz"


def read_ground_truth(path: str | Path) -> dict[str, list[str]]:
    """A ``name, openset`` CSV -> name -> labels; a row without labels becomes ``['neutral']``."""
    values = read_name_values(path, GROUND_TRUTH_FILES)
    return {name: parse_labels(value, where=f"{path}: {name}") or ["neutral"] for name, value in values.items()}


@dataclass(frozen=True)
class OVMERD:
    names: tuple[str, ...]
    ground_truth: dict[str, list[str]]
    reference_en: dict[str, str]
    reference_zh: dict[str, str]
    subtitle_en: dict[str, str]
    subtitle_zh: dict[str, str]
    emotion: dict[str, str]  # MER2023 one-hot label
    valence: dict[str, float]

    def __len__(self) -> int:
        return len(self.names)

    def sample(self, name: str) -> dict[str, object]:
        if name not in self.ground_truth:
            raise OvmerError(f"{name}: not an OV-MERD test sample")
        return {
            "name": name,
            "ground_truth": self.ground_truth[name],
            "reference_en": self.reference_en[name],
            "reference_zh": self.reference_zh[name],
            "subtitle_en": self.subtitle_en.get(name, ""),
            "subtitle_zh": self.subtitle_zh.get(name, ""),
            "emotion": self.emotion.get(name),
            "valence": self.valence.get(name),
        }


@functools.lru_cache(maxsize=4)
def load_ovmerd(data: str | None = None) -> OVMERD:
    """Load the test set from the fetched assets (fetching them if needed)."""
    gt = read_ground_truth(asset_path(GROUND_TRUTH, data))
    names = tuple(gt)
    refs = read_csv_columns(asset_path(REFERENCES, data), ["name", "chinese", "english"]).set_index("name")
    subs = read_csv_columns(asset_path(SUBTITLES, data), ["name", "chinese", "english"]).set_index("name")
    missing = [n for n in names if n not in refs.index]
    if missing:
        raise OvmerError(f"{REFERENCES}: no reference description for {missing[:5]}")
    corpus = load_pickled_npz(asset_path(ONE_HOT, data))["train_corpus"]
    return OVMERD(
        names=names,
        ground_truth=gt,
        reference_en={n: refs.at[n, "english"] for n in names},
        reference_zh={n: refs.at[n, "chinese"] for n in names},
        subtitle_en={n: subs.at[n, "english"] for n in names if n in subs.index},
        subtitle_zh={n: subs.at[n, "chinese"] for n in names if n in subs.index},
        emotion={n: corpus[n]["emo"] for n in names if n in corpus},
        valence={n: float(corpus[n]["val"]) for n in names if n in corpus},
    )
