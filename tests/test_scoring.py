"""Emotion-wheel metrics: the spec check, the rules on a tiny wheel, properties, bad inputs."""

from __future__ import annotations

import dataclasses
import math
import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ovmer.data.wheels import FORMAT_FILE, SYNONYM_FILE, WHEEL_FILES, load_wheel_assets
from ovmer.errors import LabelFormatError, OvmerError
from ovmer.extract.cpu.vocabulary import build_lexicon
from ovmer.reproduce.dataset import wheel_rows
from ovmer.scoring import (
    M_AVG,
    METRIC_NAMES,
    default_ground_truth,
    load_resources,
    oov_report,
    per_sample_table,
    read_predictions,
    score_file,
    score_predictions,
    score_released,
)
from ovmer.scoring.compat import parse_labels_authors
from ovmer.scoring.mapping import map_all
from ovmer.scoring.resources import cache_file, clear_memory_cache, compile_resources
from ovmer.store import Record, ResultsStore

# The spec check: Chat-UniVi, nosubtitle-addsub (S2), F × 100 in METRIC_NAMES order, then M-avg.
SPEC_CHAT_UNIVI_S2 = [
    28.4300, 33.1719, 57.2734, 43.4183, 58.0717, 43.5240,
    57.4669, 45.9470, 56.4224, 42.7384, 56.5661, 43.6067,
]  # fmt: skip
SPEC_M_AVG = 47.2197


@pytest.fixture(scope="module")
def resources():
    return load_resources()


@pytest.fixture(scope="module")
def truth():
    return default_ground_truth()


@pytest.fixture(scope="module")
def chat_univi_s2(resources):
    return score_released("Chat-UniVi", "S2", resources=resources)


def test_metric_names_order() -> None:
    assert METRIC_NAMES[:4] == ("M1", "M2", "M3-W1-L1", "M3-W1-L2")
    assert METRIC_NAMES[-1] == "M3-W5-L2" and len(METRIC_NAMES) == 12


def test_spec_check_chat_univi_s2(chat_univi_s2) -> None:
    row = chat_univi_s2.f_row()
    for name, expected in zip(METRIC_NAMES, SPEC_CHAT_UNIVI_S2, strict=True):
        assert row[name] == pytest.approx(expected, abs=1e-4), name
    assert row[M_AVG] == pytest.approx(SPEC_M_AVG, abs=1e-4)
    assert chat_univi_s2.n_samples == 332
    assert chat_univi_s2.n_scored == 331  # one sample's ground truth is entirely out of vocabulary
    assert chat_univi_s2.metrics["M1"].n_scored == 331
    assert chat_univi_s2.metrics["M3-W5-L2"].n_scored == 316
    assert (chat_univi_s2.baseline, chat_univi_s2.setting) == ("Chat-UniVi", "nosubtitle-addsub")


def test_report_views(chat_univi_s2) -> None:
    data = chat_univi_s2.to_dict()
    assert list(data) == ["file", "baseline", "setting", "n_scored", "metrics", M_AVG]
    assert list(data["metrics"]) == list(METRIC_NAMES)
    m1 = data["metrics"]["M1"]
    assert m1["f"] == pytest.approx(2 * m1["precision"] * m1["recall"] / (m1["precision"] + m1["recall"]))
    assert data[M_AVG] == pytest.approx(np.mean([v["f"] for v in data["metrics"].values()]))
    frame = chat_univi_s2.to_frame()
    assert list(frame.columns) == ["precision", "recall", "f"] and list(frame.index) == list(METRIC_NAMES)
    assert frame.loc["M2", "f"] * 100 == pytest.approx(SPEC_CHAT_UNIVI_S2[1], abs=1e-4)
    assert chat_univi_s2.f_row(scale=1.0)[M_AVG] == pytest.approx(SPEC_M_AVG / 100, abs=1e-6)


def test_score_file_equals_score_released(chat_univi_s2, resources) -> None:
    report = score_file(chat_univi_s2.file, resources=resources)
    assert report.to_dict() == chat_univi_s2.to_dict()


@pytest.mark.parametrize(("baseline", "setting"), [("SALMONN", "S1"), ("Qwen-Audio", "S0")])
def test_fast_path_matches_plain_reference(baseline, setting, resources, truth, ovmer_data) -> None:
    from ovmer.data.released import load_released_labels
    from ovmer.scoring.reference import plain_mappers, plain_scores, read_plain_resources

    raw = load_released_labels(baseline, setting)
    report = score_predictions(raw, truth, resources=resources)
    mappers = plain_mappers(read_plain_resources(Path(ovmer_data) / "emotion_wheel"))
    parsed = {name: parse_labels_authors(value) for name, value in raw.items()}
    per_metric, m_avg = plain_scores(truth, parsed, mappers)
    for name, (precision, recall, f) in zip(METRIC_NAMES, per_metric, strict=True):
        got = report.metrics[name]
        assert abs(got.precision - precision) <= 1e-12 and abs(got.recall - recall) <= 1e-12
        assert abs(got.f - f) <= 1e-12
    assert abs(report.m_avg - m_avg) <= 1e-12


def test_parsers_differ_only_where_the_authors_split_differs(resources, truth) -> None:
    from ovmer.data.released import load_released_labels

    raw = load_released_labels("SALMONN", "S1")  # has replies like "[], Anxiety, Nervousness, Tension"
    authors = score_predictions(raw, truth, resources=resources)
    ovmer = score_predictions(raw, truth, resources=resources, parser="ovmer")
    assert authors.m_avg != ovmer.m_avg
    with pytest.raises(OvmerError, match="unknown label parser 'author'. Did you mean 'authors'"):
        score_predictions(raw, truth, resources=resources, parser="author")


def test_one_asset_reader_feeds_the_metrics_the_figures_and_the_cpu_lexicon(resources) -> None:
    assets = load_wheel_assets()
    for k, rows in enumerate(assets.wheels):
        words = {word for row in rows for word in row}
        assert set(resources.wheels[k].level1) == set(resources.wheels[k].level2) == words
        assert wheel_rows(k + 1).values.tolist() == [list(row) for row in rows]
    assert {w for w, _ in assets.synonyms} <= set(resources.wheel_words_of)
    lexicon = build_lexicon()  # without learned labels: every form comes from the three asset kinds
    assert set(lexicon.groups) <= set(resources.names_of) and len(lexicon) > 7000
    # A word form counts as its alphabetically first name: the CPU extractor's group is M1's mapping.
    assert all(lexicon.groups[form] == resources.names_of[form][0] for form in lexicon.groups)


def test_resources_are_immutable_and_cached_on_disk(resources) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        resources.key = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        resources.names_of["happy"] = ("sad",)  # type: ignore[index]
    with pytest.raises(ValueError):
        resources.id_matrix[0, 0] = 5
    assert cache_file().is_file()
    clear_memory_cache()
    reloaded = load_resources()  # from the disk cache this time
    assert reloaded is not resources
    assert reloaded.table.labels == resources.table.labels and reloaded.table.values == resources.table.values
    assert np.array_equal(reloaded.table.ids, resources.table.ids)
    assert dict(reloaded.names_of) == dict(resources.names_of)
    assert [dict(w.level2) for w in reloaded.wheels] == [dict(w.level2) for w in resources.wheels]


def test_compiled_table_follows_the_rules(resources) -> None:
    for label in resources.vocabulary[::97]:
        assert resources.map_label(label) == map_all(
            label, resources.names_of, resources.wheel_words_of, resources.wheels
        )
    assert resources.map_label("  HAPPY ") == resources.map_label("happy")
    assert resources.map_label("not-an-emotion-word") == (None,) * 12


# ---- the rules, literally, on a tiny hand-made wheel set -------------------------------------


def _write_tiny_assets(folder: Path) -> dict[str, Path]:
    wheel = pd.DataFrame(
        {
            "level1": ["Joy", None, None, "Sad", None],
            "level2": ["Content", None, "Proud", "Lonely", "Hurt"],
            "level3": ["Glad ", "Peaceful", "Confident", "Isolated", "Content"],  # "content" listed twice
        }
    )
    paths: dict[str, Path] = {}
    for k, rel in enumerate(WHEEL_FILES):
        path = folder / f"wheel{k + 1}.xlsx"
        (wheel if k == 0 else wheel.iloc[:3]).to_excel(path, index=False)
        paths[rel] = path
    synonyms = {}
    for run in range(1, 9):
        synonyms[f"word_run{run}"] = ["glad", "Proud", "isolated", "confident"]
        synonyms[f"synonym_run{run}"] = [
            "happy, cheerful" if run == 1 else "happy",
            "confident",  # "confident" is a wheel word too: it reaches proud and itself
            "alone" if run < 8 else "alone, lonesome",
            "self-assured",
        ]
    pd.DataFrame(synonyms).to_excel(folder / "synonym.xlsx", index=False)
    paths[SYNONYM_FILE] = folder / "synonym.xlsx"
    forms = pd.DataFrame(
        {
            "name": ["glad", "happy", "cheerful", "proud", "confident", "isolated", "alone", "lonesome"],
            "format": [
                "gladness,gladly",
                "happiness,happily",
                "cheer,cheerfully",
                "pride",
                "confidence",
                "isolation",
                "loneliness",
                "loneliness",  # a form under two names maps to both
            ],
        }
    )
    forms.to_csv(folder / "format.csv", index=False)
    paths[FORMAT_FILE] = folder / "format.csv"
    return paths


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-wheels")
    return compile_resources(_write_tiny_assets(folder), key="tiny")


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


# ---- properties on the real vocabulary ----------------------------------------------------------

_settings = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _vocab():
    return load_resources().vocabulary


labels_strategy = st.lists(st.integers(min_value=0, max_value=10**6), min_size=0, max_size=5).map(
    lambda ids: [_vocab()[i % len(_vocab())] for i in ids]
)
samples_strategy = st.dictionaries(
    st.text(string.ascii_lowercase, min_size=1, max_size=6), labels_strategy, min_size=1, max_size=5
)


@_settings
@given(samples_strategy)
def test_identical_prediction_scores_one_wherever_truth_maps(truth) -> None:
    report = score_predictions(truth, truth, resources=load_resources())
    for name, prf in report.metrics.items():
        if prf.n_scored:
            assert prf.f == 1.0 and prf.precision == 1.0 and prf.recall == 1.0, name
        else:
            assert math.isnan(prf.f)


@_settings
@given(samples_strategy, samples_strategy)
def test_disjoint_mapped_sets_score_zero(truth, other) -> None:
    resources = load_resources()
    names = list(truth)
    preds = {n: other.get(n, list(other.values())[0]) for n in names}
    report = score_predictions(preds, truth, resources=resources)
    for m, name in enumerate(METRIC_NAMES):
        overlap = False
        for n in names:
            g = {resources.map_label(x)[m] for x in truth[n]} - {None}
            p = {resources.map_label(x)[m] for x in preds[n]} - {None}
            overlap |= bool(g & p)
        if not overlap and report.metrics[name].n_scored:
            assert report.metrics[name].f == 0.0


@_settings
@given(samples_strategy, st.randoms(use_true_random=False))
def test_order_duplicates_case_and_spaces_do_not_matter(truth, rnd) -> None:
    resources = load_resources()
    preds = {n: list(reversed(v)) for n, v in truth.items()}
    base = score_predictions(preds, truth, resources=resources).to_dict()

    def noisy(labels):
        out = [rnd.choice([s.upper(), s.title(), f"  {s} ", s]) for s in labels + labels]
        rnd.shuffle(out)
        return out

    shuffled_truth = {n: noisy(v) for n, v in reversed(list(truth.items()))}
    again = score_predictions({n: noisy(v) for n, v in preds.items()}, shuffled_truth, resources=resources)
    assert again.to_dict()["metrics"] == base["metrics"]


@_settings
@given(samples_strategy)
def test_string_and_list_inputs_agree(truth) -> None:
    resources = load_resources()
    assume(all(not set(",'\"") & set(label) for v in truth.values() for label in v))
    as_text = {n: "[" + ", ".join(v) + "]" for n, v in truth.items()}
    from_text = score_predictions(as_text, truth, resources=resources).to_dict()
    assert from_text == score_predictions(truth, truth, resources=resources).to_dict()


# ---- missing, extra and malformed inputs ------------------------------------------------------


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


# ---- diagnostics -------------------------------------------------------------------------------


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
