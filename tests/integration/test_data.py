"""The OV-MERD test set as loaded from the fetched assets, and the ground-truth reader."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from ovmer.assets import asset_path
from ovmer.data import OVMERD, load_ovmerd
from ovmer.data.ovmerd import GROUND_TRUTH, REFERENCES, SUBTITLES, read_ground_truth
from ovmer.errors import OvmerError
from ovmer.labels import parse_labels


@pytest.fixture(scope="module")
def ovmerd() -> OVMERD:
    return load_ovmerd()


def test_332_samples_in_ground_truth_order(ovmerd: OVMERD) -> None:
    assert len(ovmerd) == 332
    assert len(set(ovmerd.names)) == 332
    assert ovmerd.names[:2] == ("sample_00000000", "sample_00000007")
    assert ovmerd.names[-1] == "sample_00003298"
    raw = pd.read_csv(asset_path(GROUND_TRUTH), dtype=str)
    assert tuple(raw["name"]) == ovmerd.names


def test_ground_truth_label_lists(ovmerd: OVMERD) -> None:
    assert ovmerd.ground_truth["sample_00000007"] == ["excited", "joyful", "happy"]
    assert ovmerd.ground_truth["sample_00000000"] == [
        "pleasurable", "self-deprecating", "relaxed", "complaining", "relieved", "humorous", "joyful", "happy",
    ]
    lists = list(ovmerd.ground_truth.values())
    assert all(lists)  # every sample has at least one label
    assert sum(len(labels) for labels in lists) == 1121
    assert len({label for labels in lists for label in labels}) == 248
    assert all(label == label.strip().lower() for labels in lists for label in labels)
    assert Counter(len(labels) for labels in lists).most_common(1) == [(2, 97)]


def test_references_subtitles_and_one_hot_labels(ovmerd: OVMERD) -> None:
    for name in ovmerd.names:
        assert ovmerd.reference_en[name].strip() and ovmerd.reference_zh[name].strip()
    assert "her facial expression appears joyful" in ovmerd.reference_en["sample_00000007"].lower()
    # Every sample has a subtitle row; 20 are silent clips with an empty subtitle.
    assert set(ovmerd.subtitle_en) == set(ovmerd.names) == set(ovmerd.subtitle_zh)
    assert sum(1 for text in ovmerd.subtitle_en.values() if not text.strip()) == 20
    assert ovmerd.subtitle_en["sample_00000007"] == "Be there or be square. Oh, okay, goodbye."
    assert Counter(ovmerd.emotion.values()) == {"angry": 115, "happy": 92, "worried": 59, "sad": 43, "surprise": 23}
    assert len(ovmerd.valence) == 332
    assert min(ovmerd.valence.values()) == -4.75 and max(ovmerd.valence.values()) == 4.25
    assert sum(ovmerd.valence.values()) == pytest.approx(-288.75)


def test_sample_view(ovmerd: OVMERD) -> None:
    sample = ovmerd.sample("sample_00000007")
    assert sample["emotion"] == "happy" and sample["valence"] == 2.0
    assert sample["subtitle_zh"] == "那就不见不散了啊，哎，好，再见。"
    with pytest.raises(OvmerError, match="sample_99: not an OV-MERD test sample"):
        ovmerd.sample("sample_99")


def test_names_line_up_across_the_ovmerd_files(ovmerd: OVMERD) -> None:
    refs = pd.read_csv(asset_path(REFERENCES), dtype=str)
    subs = pd.read_csv(asset_path(SUBTITLES), dtype=str)
    assert tuple(refs["name"]) == ovmerd.names  # same samples, same order
    assert set(ovmerd.names) <= set(subs["name"])  # subtitles cover all of MER2023
    assert len(subs) == 5030


def test_read_ground_truth_rules(tmp_path: Path) -> None:
    csv = tmp_path / "gt.csv"
    csv.write_text("name,openset\na,\"['Happy', 'sad']\"\nb,\nc,[]\nd,\"[calm, calm]\"\n")
    assert read_ground_truth(csv) == {
        "a": ["happy", "sad"],
        "b": ["neutral"],  # a row without labels means neutral
        "c": ["neutral"],
        "d": ["calm"],
    }
    bad = tmp_path / "bad.csv"
    bad.write_text("name,labels\na,[happy]\n")
    with pytest.raises(OvmerError, match=r"bad.csv: missing column\(s\) \['openset'\]"):
        read_ground_truth(bad)


def test_predicted_openset_file_parses(ovmerd: OVMERD) -> None:
    predicted = pd.read_csv(asset_path("gpt-grouping/predict-openset.csv"), dtype=str, keep_default_na=False)
    assert tuple(predicted["name"]) == ovmerd.names
    parsed = [
        parse_labels(value, where=name) for name, value in zip(predicted["name"], predicted["openset"], strict=True)
    ]
    assert parsed[0] == ["confused", "helpless"]
    assert sum(len(labels) for labels in parsed) == 773
    assert sum(1 for labels in parsed if not labels) == 5
