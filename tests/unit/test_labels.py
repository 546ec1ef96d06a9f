"""The one label-list parser: the issue's concrete inputs, junk, containers and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovmer.errors import LabelFormatError
from ovmer.labels import MAX_LABEL_WORDS, format_labels, parse_labels


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[happy, sad]", ["happy", "sad"]),
        ("['happy', \"sad\"]", ["happy", "sad"]),
        ("happy, sad", ["happy", "sad"]),
        ("[]", []),
        ("", []),
        ("   ", []),
        (None, []),
        (float("nan"), []),
        (np.nan, []),
        ("Output: [happy, sad]", ["happy", "sad"]),
        ("So the output is:[\"Joyful\", 'Relieved']", ["joyful", "relieved"]),
        ("Emotion: happy", ["happy"]),
        ("happy, sad]", ["happy", "sad"]),  # stray closing bracket
        ("[happy, sad", ["happy", "sad"]),  # unclosed bracket runs to the end
        ("[[happy, sad]]", ["happy", "sad"]),
        ("[Happy , SAD, happy]", ["happy", "sad"]),  # lower-cased, stripped, de-duplicated
        ("happy; sad\nangry", ["happy", "sad", "angry"]),
        ("[happy.]", ["happy"]),
        ("[a, b] and also [c]", ["a", "b", "c"]),  # every bracketed group, in order
        ("[self-deprecating, well being]", ["self-deprecating", "well being"]),
        ("[“happy”, ‘sad’]", ["happy", "sad"]),  # typographic quotes
    ],
)
def test_concrete_examples_of_the_issue(value: object, expected: list[str]) -> None:
    assert parse_labels(value) == expected


def test_sentences_are_not_labels() -> None:
    sentence = "the person in the video seems to be quite happy overall"
    assert len(sentence.split()) > MAX_LABEL_WORDS
    assert parse_labels(f"[{sentence}, calm]") == ["calm"]
    assert parse_labels("[very deeply and truly sad]") == ["very deeply and truly sad"]  # 5 words stays


def test_junk_gives_documented_results() -> None:
    assert parse_labels("[, , ]") == []
    assert parse_labels("[\"\", '']") == []
    assert parse_labels("...!!!") == []
    assert parse_labels("[],focused") == []  # rule 2: only bracket contents are read
    assert parse_labels("no emotion here:") == []  # nothing after the last colon


def test_python_containers_and_numpy_arrays() -> None:
    assert parse_labels(["Happy", " sad ", "happy"]) == ["happy", "sad"]
    assert parse_labels(("happy", None, float("nan"), "[sad, angry]")) == ["happy", "sad", "angry"]
    assert parse_labels([["a", "b"], ["c"]]) == ["a", "b", "c"]
    assert parse_labels(np.array(["Happy", "sad"])) == ["happy", "sad"]
    assert parse_labels(np.array(["[happy, sad]"], dtype=object)) == ["happy", "sad"]
    assert parse_labels(np.array("[happy]")) == ["happy"]  # 0-d array
    assert parse_labels(np.array([], dtype=str)) == []
    assert parse_labels(np.array([np.nan, "calm"], dtype=object)) == ["calm"]
    assert parse_labels(b"[happy, sad]") == ["happy", "sad"]


def test_non_text_raises_naming_the_place() -> None:
    with pytest.raises(LabelFormatError, match="sample_7: expected a label list"):
        parse_labels(3.5, where="sample_7")
    with pytest.raises(LabelFormatError, match="got dict"):
        parse_labels({"happy": 1}, where="x.csv: sample_1")
    with pytest.raises(LabelFormatError, match="got int"):
        parse_labels([1], where="x")


def test_format_labels_is_the_authors_format() -> None:
    assert format_labels(["happy", "sad"]) == "[happy, sad]"
    assert format_labels([]) == "[]"
    assert parse_labels(format_labels(["happy", "well being"])) == ["happy", "well being"]


# Characters the parser treats specially, so random text hits its branches often.
_TRICKY = st.sampled_from(list("ab Z[]{}(),;:'\"`\n\r\t.!?-*•“”İß") + ["Output:", "happy", "\u2028", "\x85"])
_TEXT = st.one_of(st.text(), st.lists(_TRICKY, max_size=30).map("".join))


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_never_raises_on_text_and_gives_clean_labels(text: str) -> None:
    labels = parse_labels(text)
    assert isinstance(labels, list)
    assert len(labels) == len(set(labels))
    for label in labels:
        assert label and label == label.strip() and label == label.lower()
        assert not any(ch in label for ch in "[],;:\n\r")
        assert len(label.split()) <= MAX_LABEL_WORDS


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_idempotent_on_its_own_output(text: str) -> None:
    labels = parse_labels(text)
    assert parse_labels(labels) == labels
    assert parse_labels(format_labels(labels)) == labels


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_TEXT, st.none(), st.just(math.nan)), max_size=5))
def test_lists_and_arrays_never_raise(items: list[object]) -> None:
    as_list = parse_labels(items)
    as_array = parse_labels(np.array(items, dtype=object))
    assert as_list == as_array
    assert parse_labels(as_list) == as_list
