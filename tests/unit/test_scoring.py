"""Emotion-wheel metric rules on a tiny hand-written wheel, and bad inputs (no assets)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scoring_helpers import write_tiny_assets

from ovmer.errors import LabelFormatError, OvmerError
from ovmer.scoring import (
    METRIC_NAMES,
    oov_report,
    per_sample_table,
    read_predictions,
    score_file,
    score_predictions,
)
from ovmer.scoring.resources import compile_resources
from ovmer.store import Record, ResultsStore

# The spec check: Chat-UniVi, nosubtitle-addsub (S2), F × 100 in METRIC_NAMES order, then M-avg.


def test_metric_names_order() -> None:
    assert METRIC_NAMES[:4] == ("M1", "M2", "M3-W1-L1", "M3-W1-L2")
    assert METRIC_NAMES[-1] == "M3-W5-L2" and len(METRIC_NAMES) == 12


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-wheels")
    return compile_resources(write_tiny_assets(folder), key="tiny")


def test_tiny_wheel_rules(tiny) -> None:
    w1 = tiny.wheels[0]
    assert w1.level1["glad"] == "joy" and w1.level1["peaceful"] == "joy"  # blank cells repeat the value above
    assert w1.level2["joy"] == "content"  # a level-1 word takes its alphabetically first level-2 child
    assert w1.level2["sad"] == "hurt"
    assert w1.level1["content"] == "sad" and w1.level2["content"] == "hurt"  # the later place wins
    assert tiny.wheel_words_of["happy"] == ("glad",)
    assert tiny.wheel_words_of["confident"] == ("confident", "proud")
    assert tiny.wheel_words_of["lonesome"] == ("isolated",)  # only run 8 lists it: runs merge by union
    assert tiny.names_of["loneliness"] == ("alone", "lonesome")
    assert tiny.names_of["glad"] == ("glad",)

    def mapped(label):
        return dict(zip(METRIC_NAMES, tiny.map_label(label), strict=True))

    happily = mapped("Happily ")
    assert happily["M1"] == "happy" and happily["M2"] == "glad"
    assert happily["M3-W1-L1"] == "joy" and happily["M3-W1-L2"] == "content"
    confidence = mapped("confidence")  # reaches "confident" and "proud": "confident" comes first
    assert confidence["M1"] == "confident" and confidence["M2"] == "confident"
    assert confidence["M3-W1-L2"] == "proud"
    loneliness = mapped("loneliness")  # M1: alphabetically first name; M3: first wheel word present
    assert loneliness["M1"] == "alone" and loneliness["M2"] == "isolated"
    assert loneliness["M3-W1-L1"] == "sad" and loneliness["M3-W2-L1"] is None  # wheel 2 has no "isolated"
    assert mapped("glee") == dict.fromkeys(METRIC_NAMES)


def test_tiny_set_level_scores(tiny) -> None:
    truth = {"a": ["happy", "alone"], "b": ["unknown-word"], "c": ["pride"], "d": ["gladness"]}
    preds = {"a": ["cheerful", "glad"], "b": ["happy"], "c": ["zzz"], "d": ["GLAD"]}
    report = score_predictions(preds, truth, resources=tiny)
    m1 = report.metrics["M1"]
    # a: G={happy, alone} P={cheerful, glad} -> 0/2; b skipped (no mapped truth); c: empty P -> 0, 0; d: 1, 1
    assert m1.n_scored == 3
    assert m1.precision == pytest.approx(1 / 3) and m1.recall == pytest.approx(1 / 3)
    w1l1 = report.metrics["M3-W1-L1"]
    # a: G={joy, sad} P={joy} -> p 1, r 1/2; c: G={joy} P={} -> 0, 0; d: 1, 1
    assert w1l1.precision == pytest.approx(2 / 3) and w1l1.recall == pytest.approx(0.5)
    assert w1l1.f == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert report.n_scored == 3 and report.n_samples == 4


def test_missing_samples_are_an_error_unless_empty(tiny) -> None:
    truth = {"a": ["happy"], "b": ["pride"]}
    with pytest.raises(OvmerError, match=r"no prediction for 1 ground-truth sample\(s\): b"):
        score_predictions({"a": ["happy"]}, truth, resources=tiny)
    report = score_predictions({"a": ["happy"]}, truth, resources=tiny, missing_as_empty=True)
    assert report.metrics["M1"].precision == 0.5 and report.metrics["M1"].recall == 0.5


def test_extra_predictions_are_ignored_with_a_warning(tiny) -> None:
    with pytest.warns(UserWarning, match="ignored 1 prediction"):
        report = score_predictions({"a": ["happy"], "zz": ["sad"]}, {"a": ["happy"]}, resources=tiny)
    assert report.metrics["M1"].f == 1.0


def test_non_string_items_are_rejected(tiny) -> None:
    with pytest.raises(LabelFormatError, match="items must be text"):
        score_predictions({"a": ["happy", 3]}, {"a": ["happy"]}, resources=tiny, parser="authors")
    with pytest.raises(LabelFormatError, match="predictions: a"):
        score_predictions({"a": ["happy", 3]}, {"a": ["happy"]}, resources=tiny)
    with pytest.raises(LabelFormatError):
        score_predictions({"a": 3.5}, {"a": ["happy"]}, resources=tiny)
    with pytest.raises(LabelFormatError):
        score_predictions({"a": [1, 2]}, {"a": ["happy"]}, resources=tiny, parser="ovmer")
    with pytest.raises(OvmerError, match="must be a mapping"):
        score_predictions([("a", "happy")], {"a": ["happy"]}, resources=tiny)  # type: ignore[arg-type]


def test_wrong_npz_keys_and_dtypes(tmp_path) -> None:
    bad_keys = tmp_path / "bad-keys-openset.npz"
    np.savez(bad_keys, names=np.array(["a"]), items=np.array(["[happy]"]))
    with pytest.raises(OvmerError, match="expected keys filenames, fileitems"):
        read_predictions(bad_keys)
    numbers = tmp_path / "numbers-openset.npz"
    np.savez(numbers, filenames=np.array(["a"]), fileitems=np.array([1.5]))
    with pytest.raises(OvmerError, match="fileitems must be a 1-D array of text"):
        read_predictions(numbers)
    objects = tmp_path / "objects-openset.npz"
    np.savez(objects, filenames=np.array(["a"]), fileitems=np.array([["x"]], dtype=object))
    with pytest.raises(OvmerError, match="objects-openset.npz"):
        read_predictions(objects)
    ragged = tmp_path / "ragged-openset.npz"
    np.savez(ragged, filenames=np.array(["a", "b"]), fileitems=np.array(["[happy]"]))
    with pytest.raises(OvmerError, match="2 filenames but 1 fileitems"):
        read_predictions(ragged)


def test_wrong_csv_columns_and_unknown_files(tmp_path) -> None:
    csv = tmp_path / "preds.csv"
    csv.write_text("name,labels\na,[happy]\n")
    with pytest.raises(OvmerError, match=r"missing column\(s\) \['openset'\]"):
        read_predictions(csv)
    text = tmp_path / "x.txt"
    text.write_text("x")
    with pytest.raises(OvmerError, match="unsupported prediction file"):
        read_predictions(text)
    with pytest.raises(OvmerError, match="absent.npz: no such prediction file"):
        read_predictions(tmp_path / "absent.npz")


def test_store_jsonl_with_non_string_items_names_file_and_sample(tmp_path) -> None:
    path = tmp_path / "subtitle.jsonl"
    store = ResultsStore(path)
    store.append(Record("a", "ok", "k", value=["happy"]))
    store.append(Record("b", "ok", "k", value=["sad", {"x": 1}]))
    with pytest.raises(LabelFormatError, match=r"subtitle.jsonl: b"):
        read_predictions(path)


def test_store_error_records_count_as_missing(tmp_path, tiny) -> None:
    path = tmp_path / "nosubtitle.jsonl"
    store = ResultsStore(path)
    store.append(Record("a", "ok", "k", value=["happy"]))
    store.append(Record("b", "error", "k", error="boom"))
    with pytest.warns(UserWarning, match="error record"):
        assert read_predictions(path) == {"a": ["happy"]}
    with pytest.warns(UserWarning), pytest.raises(OvmerError, match="no prediction for 1"):
        score_file(path, {"a": ["happy"], "b": ["pride"]}, resources=tiny)
    with pytest.warns(UserWarning):
        report = score_file(path, {"a": ["happy"], "b": ["pride"]}, resources=tiny, missing_as_empty=True)
    assert report.setting == "nosubtitle" and report.baseline == tmp_path.name


def test_per_sample_table_and_oov_report(tiny) -> None:
    truth = {"a": ["happy", "alone", "blah"], "b": ["unknown-word"], "c": ["pride"]}
    preds = {"a": ["cheerful", "zzz"], "b": ["happy"], "c": []}
    table = per_sample_table(preds, truth, resources=tiny)
    assert len(table) == 3 * 12
    row = table[(table.name == "a") & (table.metric == "M1")].iloc[0]
    assert row.gt_mapped == ["alone", "happy"] and row.pred_mapped == ["cheerful"]
    assert row.gt_dropped == ["blah"] and row.pred_dropped == ["zzz"]
    skipped = table[(table.name == "b") & (table.metric == "M1")].iloc[0]
    assert not skipped.counted and math.isnan(skipped.precision)
    report = score_predictions(preds, truth, resources=tiny)
    m1 = table[(table.metric == "M1") & table.counted]
    assert m1.precision.mean() == pytest.approx(report.metrics["M1"].precision)
    oov = oov_report(preds, truth, resources=tiny)
    assert oov["M1"]["gt_dropped"] == pytest.approx(2 / 5) and oov["M1"]["pred_dropped"] == pytest.approx(
        1 / 3
    )
    assert oov["M3-W2-L1"]["gt_dropped"] == pytest.approx(3 / 5)  # wheel 2 lacks "isolated"
