"""The explorer's views and the mapping audit on the real assets, including the "fear" -> happy case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ovmer.assets import asset_path
from ovmer.data import RELEASED_BASELINES, load_ovmerd
from ovmer.data.released import released_file
from ovmer.errors import OvmerError
from ovmer.reproduce.explore import explore_sample, explorer
from ovmer.reproduce.explore_compare import DROPPED, HIT, MISS, compare_sample, disagreement_ranking
from ovmer.reproduce.explore_data import sample_m_avg
from ovmer.reproduce.table_audit import ALL_FLAGGED, audit_summary, mapping_audit
from ovmer.scoring import METRIC_NAMES, load_resources, per_sample_scores, read_predictions, score_released
from ovmer.scoring.audit import FORM, Link, audit_vocabulary
from ovmer.scoring.explain import explain_labels
from ovmer.settings import Setting

FEAR_SAMPLE = "sample_00000055"


@pytest.fixture(scope="module")
def released_labels() -> dict:
    return {(b, s.value): read_predictions(asset_path(released_file(b, s))) for b in RELEASED_BASELINES for s in Setting}


@pytest.fixture(scope="module")
def used_vocabulary(released_labels) -> list[str]:
    labels = {label for labels in load_ovmerd().ground_truth.values() for label in labels}
    labels |= {label for files in released_labels.values() for labels in files.values() for label in labels}
    return sorted(labels)


def test_explained_choice_is_what_the_exact_metric_uses_for_every_used_label(used_vocabulary) -> None:
    resources = load_resources()
    for explanation, label in zip(explain_labels(used_vocabulary), used_vocabulary, strict=True):
        assert tuple(explanation.values().values()) == resources.map_label(label), label


def test_fear_counts_as_happy_on_wheel_2_through_fearless() -> None:
    view = explore_sample("Qwen-Audio", "S2", FEAR_SAMPLE)
    assert view.predicted == ["fear"]
    assert view.metrics.loc["M3-W2-L1", "pred_mapped"] == ["happy"]
    [fear] = explain_labels(["fear"])
    assert "fearless" in fear.names
    choice = fear.choice(2, 1)
    assert (choice.word, choice.value) == ("courageous", "happy")
    [route] = fear.routes_to("courageous")
    assert route.name == "fearless" and route.form_link("fear") == "-less" and route.runs
    values = fear.values()
    assert [values[f"M3-W{k}-L1"] for k in range(2, 6)] == ["happy", "joyful", "genius", "joyful"]
    assert [values[f"M3-W{k}-L2"] for k in range(2, 6)] == ["powerful", "excited", "embodied", "excited"]
    html = view._repr_html_()
    assert "courageous &rarr; <b>happy</b>" in html and "antonym form -less" in html


def test_sample_view_scores_subtitles_and_the_readable_table() -> None:
    view = explore_sample("Qwen-Audio", "S2", FEAR_SAMPLE)
    dataset = load_ovmerd()
    assert view.subtitle == dataset.subtitle_en[FEAR_SAMPLE] and view.subtitle_zh == dataset.subtitle_zh[FEAR_SAMPLE]
    assert "English subtitle" in view.subtitle_note()
    assert "saw no subtitle" in explore_sample("Qwen-Audio", "S0", FEAR_SAMPLE).subtitle_note()
    score = view.score
    assert score.dataset_m_avg == pytest.approx(100 * score_released("Qwen-Audio", "S2").m_avg)
    counted = [m for m in METRIC_NAMES if view.metrics.loc[m, "counted"]]
    assert score.m_avg == pytest.approx(np.mean([score.f[m] for m in counted]))
    assert score.f["M3-W1-L1"] == pytest.approx(100.0)  # "fear" -> scared, and so does the ground truth
    assert score.contribution == pytest.approx(score.dataset_m_avg - score.without_m_avg)
    table = view.scores_table()
    text = table.text()
    assert text.count("\n") == 13 and "contribution to the dataset M-avg" in table.caption
    assert "<caption>" in table.styled().to_html()


def test_explore_sample_shows_the_clip_from_a_mer2025_folder(tmp_path) -> None:
    from media_helpers import make_mer2025_layout

    folder = make_mer2025_layout(tmp_path, names=(FEAR_SAMPLE,), with_faces=False, seconds=1.0)
    view = explore_sample("Qwen-Audio", "S2", FEAR_SAMPLE, media_dir=folder)
    assert view.media.frames.shape[0] == 6 and view.media.waveform.size == 16_000
    html = view._repr_html_()
    assert html.count('<img src="data:image/png;base64,') == 6 and "<audio" in html and "<svg" in html
    missing = explore_sample("Qwen-Audio", "S2", "sample_00000000", media_dir=folder)
    assert missing.media.frames is None and "no video or audio file for sample_00000000" in missing.media.problems[0]
    with pytest.raises(OvmerError, match="no such MER2025-layout folder"):
        explore_sample("Qwen-Audio", "S2", FEAR_SAMPLE, media_dir=tmp_path / "nowhere")


def test_explorer_starts_at_the_sample_asked_for() -> None:
    widget = explorer("Qwen-Audio", "S2", sample=FEAR_SAMPLE)
    controls = widget.children[0].children
    assert [c.value for c in controls if hasattr(c, "value") and c.description] == \
        ["Qwen-Audio", "S2", FEAR_SAMPLE, "M3-W1-L1"]
    with pytest.raises(OvmerError, match="not an OV-MERD test sample"):
        explorer(sample="sample_x")


def test_compare_marks_hits_under_the_chosen_metric() -> None:
    view = compare_sample(FEAR_SAMPLE, "S2", "M3-W2-L1")
    assert [r.baseline for r in view.rows] == list(RELEASED_BASELINES)
    gt_values = {v for _, v in view.ground_truth if v}
    for row in view.rows:
        for label, value, status in row.labels:
            assert status == (DROPPED if value is None else HIT if value in gt_values else MISS), (row.baseline, label)
    qwen = next(r for r in view.rows if r.baseline == "Qwen-Audio")
    assert qwen.labels == (("fear", "happy", MISS),) and qwen.f == 0.0
    assert "+" in repr(view) and "ovmer-hit" in view._repr_html_()


def test_disagreement_ranking_orders_samples_by_spread_across_baselines() -> None:
    table = disagreement_ranking("S2", top=5)
    frame = table.frame
    assert len(frame) == 5 and list(frame["std"]) == sorted(frame["std"], reverse=True)
    gt = load_ovmerd().ground_truth
    first = frame.index[0]
    values = []
    for baseline in RELEASED_BASELINES:
        scores = per_sample_scores(read_predictions(asset_path(released_file(baseline, "S2"))), gt)
        values.append(100 * sample_m_avg(scores)[list(scores.names).index(first)])
    assert frame.loc[first, "std"] == pytest.approx(np.std(values))
    assert frame.loc[first, "best"] == RELEASED_BASELINES[int(np.argmax(values))]


def test_mapping_audit_table_flags_fear_and_measures_the_cut(released_labels, used_vocabulary) -> None:
    resources = load_resources()
    before = score_released("Qwen-Audio", "S2").m_avg
    findings = {f.label: f for f in audit_vocabulary(used_vocabulary, resources)}
    assert Link(FORM, "fear", "fearless") in findings["fear"].cuts
    summary = audit_summary(dict(load_ovmerd().ground_truth), resources, released_labels)
    table = mapping_audit(mapping_audit=summary)
    frame = table.frame
    assert frame.loc["fear", "flag"] == "antonym" and "fear -> fearless (word form)" in frame.loc["fear", "links cut"]
    assert frame.loc["fear", "W1-W5 L1"] == "scared, happy, joyful, genius, joyful"
    assert frame.loc["fear", "predicted"] == sum(
        labels.count("fear") for files in released_labels.values() for labels in files.values())
    # cutting fear's antonym path raises Qwen-Audio's S2 M-avg by about three points; the default is untouched
    delta = frame.loc["fear", "ΔM-avg Qwen-Audio"]
    assert 2.5 < delta < 4.0
    assert frame.index[-1] == ALL_FLAGGED and not math.isnan(frame.loc[ALL_FLAGGED, "ΔM-avg Qwen-Audio"])
    assert score_released("Qwen-Audio", "S2").m_avg == before  # the variant never touches the default maps
