"""Emotion-wheel metrics on the released files: the spec check, views, fast path, resources, properties."""

from __future__ import annotations

import dataclasses
import math
import string
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ovmer.data.wheels import load_wheel_assets
from ovmer.errors import OvmerError
from ovmer.extract.cpu.vocabulary import build_lexicon
from ovmer.reproduce.dataset import wheel_rows
from ovmer.scoring import (
    M_AVG,
    METRIC_NAMES,
    default_ground_truth,
    load_resources,
    score_file,
    score_predictions,
    score_released,
)
from ovmer.scoring.compat import parse_labels_authors
from ovmer.scoring.mapping import map_all
from ovmer.scoring.resources import (
    cache_file,
    clear_memory_cache,
)

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


# ---- diagnostics -------------------------------------------------------------------------------
