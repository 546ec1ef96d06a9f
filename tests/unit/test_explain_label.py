"""explain-label and the mapping audit on hand-made wheel assets (no files)."""

from __future__ import annotations

import argparse

import pytest

from ovmer.data.wheels import SYNONYM_RUNS, WheelAssets
from ovmer.scoring import METRIC_NAMES
from ovmer.scoring.audit import FORM, SYNONYM, Link, audit_label, audit_vocabulary, cut_paths
from ovmer.scoring.explain import explain_label, negating_affix, synonym_run_index
from ovmer.scoring.resources import resources_from_assets

WHEEL1 = (("fear", "scared", "afraid"), ("fear", "scared", "fearful"), ("happy", "powerful", "courageous"))
WHEEL2 = (("happy", "joyful", "cheerful"), ("fear", "anxious", "nervous"))
# Four rows per run, run by run (as the reader gives them); "fearless" is under "courageous" in runs 3 and 5.
SYNONYM_ROWS = tuple(
    row
    for run in range(1, SYNONYM_RUNS + 1)
    for row in (
        ("courageous", ("brave", "fearless") if run in (3, 5) else ("brave",)),
        ("fear", ("fright",)) if run % 2 else ("cheerful", ("nervous", "glad")),
        ("fearful", ()),
        ("nervous", ()),
    )
)
WORD_FORMS = (
    ("fearless", ("fear", "fearlessly")),
    ("fearful", ("fear", "fearfully")),
    ("fear", ("fears",)),
    ("nervous", ("nervously",)),
    ("cheerful", ("cheerfully",)),
    ("courageous", ()),
)


@pytest.fixture(scope="module")
def assets() -> WheelAssets:
    return WheelAssets(wheels=(WHEEL1, WHEEL2, WHEEL1, WHEEL2, WHEEL1), synonyms=SYNONYM_ROWS, word_forms=WORD_FORMS)


@pytest.fixture(scope="module")
def resources(assets: WheelAssets):
    return resources_from_assets(assets, key="hand-made")


def test_negating_affixes() -> None:
    assert negating_affix("fear", "fearless") == "-less"
    assert negating_affix("fearless", "fear") == "-less"
    assert negating_affix("happiness", "unhappy") == "un-"
    assert negating_affix("satisfied", "dissatisfied") == "dis-"
    assert negating_affix("interest", "interested") is None
    assert negating_affix("fearlessly", "fearless") is None  # both negated
    assert negating_affix("fear", "fearful") is None


def test_synonym_runs_are_numbered_from_the_rows(assets: WheelAssets) -> None:
    runs = synonym_run_index(assets)
    assert runs[("fearless", "courageous")] == (3, 5)
    assert runs[("courageous", "courageous")] == tuple(range(1, SYNONYM_RUNS + 1))
    assert runs[("fear", "fear")] == (1, 3, 5, 7)


def test_explanation_matches_the_compiled_metric_for_every_label(resources, assets) -> None:
    for label in resources.vocabulary:
        explained = explain_label(label, resources, assets)
        assert tuple(explained.values().values()) == resources.map_label(label), label
        assert list(explained.values()) == list(METRIC_NAMES)


def test_fear_path_through_fearless(resources, assets) -> None:
    e = explain_label("  Fear ", resources, assets)
    assert e.names == ("fear", "fearful", "fearless")
    assert e.reachable == ("courageous", "fear", "fearful")
    choice = e.choice(1, 1)
    assert (choice.word, choice.value, choice.own_group) == ("courageous", "happy", "fear")
    assert choice.crosses_group and choice.candidates == ("courageous", "fear", "fearful")
    assert e.choice(1, 2).value == "powerful"
    [route] = e.routes_to("courageous")
    assert (route.name, route.runs, route.form_link("fear")) == ("fearless", (3, 5), "-less")
    text = "\n".join(e.lines(wheel=1, level=1))
    assert "courageous -> happy" in text and "runs 3, 5" in text and "antonym form -less" in text
    assert "wheel 2" not in text
    assert "alphabetically" in str(e)
    assert "<details" in e._repr_html_() and "courageous" in e._repr_html_()


def test_unknown_label_is_explained_as_dropped(resources, assets) -> None:
    e = explain_label("qwerty", resources, assets)
    assert not e.known and set(e.values().values()) == {None}
    assert "not in the word-form table" in str(e)


def test_audit_flags_antonym_and_crossing_paths(resources, assets) -> None:
    runs = synonym_run_index(assets)
    fear = audit_label("fear", resources, runs)
    assert fear is not None and fear.kinds[0] == "antonym"
    assert Link(FORM, "fear", "fearless") in fear.cuts
    assert fear.before["M3-W1-L1"] == "happy" and fear.after["M3-W1-L1"] == "fear"
    nervous = audit_label("nervous", resources, runs)
    assert nervous is not None and nervous.kinds == ("group",)
    assert nervous.cuts == (Link(SYNONYM, "nervous", "cheerful"),)
    assert (nervous.before["M3-W2-L1"], nervous.after["M3-W2-L1"]) == ("happy", "fear")
    assert audit_label("cheerful", resources, runs) is None
    assert [f.label for f in audit_vocabulary(["Fear", "fear", "cheerful", "nervously", " "], resources, assets)] \
        == ["fear", "nervously"]


def test_cut_paths_is_a_variant_never_the_default(resources, assets) -> None:
    cuts = [Link(FORM, "fear", "fearless"), Link(SYNONYM, "nervous", "cheerful")]
    variant = cut_paths(resources, cuts)
    index = METRIC_NAMES.index("M3-W1-L1")
    assert variant.map_label("fear")[index] == "fear"
    assert resources.map_label("fear")[index] == "happy"  # the default maps are untouched
    assert variant.map_label("nervously")[METRIC_NAMES.index("M3-W2-L1")] == "fear"
    assert variant.key != resources.key
    small = cut_paths(resources, cuts, vocabulary=["fear"])
    assert small.vocabulary == ("fear",)


def test_cli_explain_label_parses_and_prints(capsys, monkeypatch, resources, assets) -> None:
    from ovmer.scoring import cli_explain

    monkeypatch.setattr(cli_explain, "explain_label", lambda label: explain_label(label, resources, assets))
    parser = argparse.ArgumentParser()
    cli_explain.add_arguments(parser)
    assert cli_explain.main(parser.parse_args(["fear", "--wheel", "1", "--level", "1"])) == 0
    out = capsys.readouterr().out
    assert "courageous -> happy" in out and "via fear (form of fearless)" in out
    assert cli_explain.main(parser.parse_args(["fear", "--json"])) == 0
    assert '"M3-W1-L1": "happy"' in capsys.readouterr().out
