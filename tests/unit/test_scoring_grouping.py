"""The GPT-grouping metric: the published check, the reply parser and the grouping cache."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovmer.errors import LabelFormatError, OvmerError
from ovmer.scoring import (
    GroupingCache,
    gpt_grouping_score,
    parse_groups,
)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("[['joyful', 'happy'], ['helpless']]", [["joyful", "happy"], ["helpless"]]),
        ('Sure! The groups are: [["Joyful ", "HAPPY"], ["sad"]]. Done.', [["joyful", "happy"], ["sad"]]),
        ("[[joyful, happy], [helpless]]", [["joyful", "happy"], ["helpless"]]),
        ("['joyful', 'happy']", [["joyful", "happy"]]),
        ("[[], ['sad']]", [["sad"]]),
        ("no groups here", []),
        ("", []),
        ("[['unclosed', 'group'", []),
    ],
)
def test_parse_groups(reply, expected) -> None:
    assert parse_groups(reply) == expected


def test_parse_groups_containers_and_bad_types() -> None:
    assert parse_groups([[" Joyful", "happy"], ["sad"], []]) == [["joyful", "happy"], ["sad"]]
    assert parse_groups(None) == []
    with pytest.raises(LabelFormatError):
        parse_groups(42)
    with pytest.raises(LabelFormatError):
        parse_groups([["happy"], 3])


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_groups_never_raises_on_text(text) -> None:
    groups = parse_groups(text)
    assert all(group and all(label == label.strip().lower() for label in group) for group in groups)


def test_grouping_cache_roundtrip(tmp_path) -> None:
    path = tmp_path / "group" / "x.jsonl"
    cache = GroupingCache(path)
    labels = ["Happy", "joyful", "sad"]
    assert cache.get("s1", labels) is None
    cache.put("s1", labels, [["joyful", "Happy"], ["sad"]], raw="[['joyful', 'Happy'], ['sad']]")
    assert cache.get("s1", ["sad", "joyful", "happy "]) == [["joyful", "happy"], ["sad"]]  # same union
    assert cache.get("s1", ["sad", "joyful"]) is None  # another label union: stale
    reopened = GroupingCache(path)
    assert reopened.get("s1", labels) == [["joyful", "happy"], ["sad"]]
    assert reopened.groupings() == {"s1": [["joyful", "happy"], ["sad"]]}
    record = reopened.store.latest()["s1"]
    assert record.raw == "[['joyful', 'Happy'], ['sad']]" and record.key == GroupingCache.key(labels)


def test_grouping_rules_and_missing_groups() -> None:
    truth = {"a": ["happy", "sad"], "b": ["calm"]}
    preds = {"a": ["joyful", "angry"], "b": []}
    groups = {"a": [["happy", "joyful"], ["sad", "angry"], ["joyful", "elated"]]}  # joyful: last group wins
    with pytest.raises(OvmerError, match="no grouping for 1 sample"):
        gpt_grouping_score(preds, truth, groups)
    score = gpt_grouping_score(preds, truth, groups, allow_missing_groups=True)
    # a: G={happy, sad} P={joyful, sad} -> 1/2, 1/2; b: empty prediction -> 0, 0 (still counted)
    assert score.accuracy == pytest.approx(0.25) and score.recall == pytest.approx(0.25)
    assert score.average == pytest.approx(0.25) and score.n_samples == 2
    perfect = gpt_grouping_score(truth, truth, {"a": [], "b": []})
    assert (perfect.accuracy, perfect.recall, perfect.f) == (1.0, 1.0, 1.0)
