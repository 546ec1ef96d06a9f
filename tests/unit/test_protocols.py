"""Scoring protocols on the tiny hand-written wheel, values worked out by hand (no assets).

The tiny wheel 1 has joy -> content (glad, peaceful), joy -> proud (confident),
sad -> lonely (isolated), sad -> hurt (content); wheels 2-5 have only its joy
rows. Labels reach wheel words through the word forms and synonyms:
happy/cheerful/gladness -> glad (joy, content), pride -> proud (joy, proud),
alone -> isolated (wheel 1 only: sad, lonely).
"""

from __future__ import annotations

import json
from fractions import Fraction as Fr

import pytest
from scoring_helpers import write_tiny_assets

from ovmer.errors import OvmerError
from ovmer.registry import Registry
from ovmer.scoring import protocols as protocols_module
from ovmer.scoring.protocols import (
    PROTOCOLS,
    ProtocolScore,
    ScoringProtocol,
    make_protocol,
    score_with_protocol,
)
from ovmer.scoring.protocols.affectgpt import AffectGPT
from ovmer.scoring.resources import compile_resources

TRUTH = {"a": ["happy", "alone"], "b": ["unknown-word"], "c": ["pride"], "d": ["gladness"], "e": ["gladness"]}
PREDICTED = {"a": ["cheerful", "glad"], "b": ["happy"], "c": ["zzz"], "d": ["GLAD"], "e": ["pride"]}
# Per sample (b is skipped: its truth maps to nothing), (precision, recall):
#   wheel 1, L1: a (1, 1/2)  c (0, 0)  d (1, 1)  e (1, 1)    L2: a (1, 1/2)  c (0, 0)  d (1, 1)  e (0, 0)
#   wheels 2-5:  a (1, 1)    c (0, 0)  d (1, 1)  e (1, 1)    L2: a (1, 1)    c (0, 0)  d (1, 1)  e (0, 0)
# wheel 1 L1: P 3/4, R 5/8, F 15/22; wheels 2-5 L1: P = R = F = 3/4
# wheel 1 L2: P 1/2, R 3/8, F 3/7;   wheels 2-5 L2: P = R = F = 1/2
LEVEL1 = {"f": Fr(81, 110), "precision": Fr(3, 4), "recall": Fr(29, 40)}  # (15/22 + 4*3/4) / 5, ...
LEVEL2 = {"f": Fr(17, 35), "precision": Fr(1, 2), "recall": Fr(19, 40)}  # (3/7 + 4*1/2) / 5, ...


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return compile_resources(write_tiny_assets(tmp_path_factory.mktemp("tiny-wheels")), key="tiny")


def _score(protocol: str, tiny, **options) -> ProtocolScore:
    return score_with_protocol(PREDICTED, protocol, TRUTH, resources=tiny, file="x.npz", baseline="B",
                               setting="subtitle", **options)


def test_affectgpt_averages_the_five_wheels_at_one_level(tiny) -> None:
    for level, expected in ((1, LEVEL1), (2, LEVEL2)):
        result = _score("affectgpt", tiny, level=level)
        assert result.score == pytest.approx(float(expected["f"]))
        assert result.parts == pytest.approx({"precision": float(expected["precision"]),
                                              "recall": float(expected["recall"])})
        assert result.to_dict() == {"file": "x.npz", "baseline": "B", "setting": "subtitle", "protocol": "affectgpt",
                                    "level": level, "score": result.score, **result.parts}
    assert _score("affectgpt", tiny).score == _score("affectgpt", tiny, level=1).score  # level 1 by default


def test_challenge_tracks(tiny) -> None:
    mer2025 = _score("mer2025-track2", tiny)
    assert mer2025.score == pytest.approx(float((LEVEL1["f"] + LEVEL2["f"]) / 2))
    assert mer2025.parts == pytest.approx({"level1": float(LEVEL1["f"]), "level2": float(LEVEL2["f"])})
    mer2026 = _score("mer2026-track2", tiny)
    assert mer2026.score == pytest.approx(float(LEVEL1["f"])) and mer2026.parts == {}
    assert set(mer2026.to_dict()) == {"file", "baseline", "setting", "protocol", "score"}


def test_ovmer_paper_keeps_its_json(tiny) -> None:
    result = _score("ovmer-paper", tiny)
    protocol = make_protocol("ovmer-paper")
    assert result.report is not None and result.score == result.report.m_avg
    assert protocol.to_json(result) == result.report.to_dict()  # the default protocol's --json is unchanged
    assert protocol.format_results([result]).splitlines()[0].split()[:4] == ["baseline", "setting", "n", "M1"]


def test_hit_rate_against_one_hot_labels(tiny, tmp_path) -> None:
    onehot = tmp_path / "labels.csv"
    onehot.write_text("name,label\na,glad\nb,neutral\nc,isolated\nd,Glad \n", encoding="utf-8")
    predicted = {"a": ["cheerful", "pride"], "b": ["happy"], "c": ["alone", "happy"], "d": ["zzz"]}
    # candidates {glad, neutral, isolated}; neutral maps to no wheel, so b is skipped everywhere.
    # wheel 1: C = {joy, sad}; a: P {joy} G {joy}: hit 1, m 1; c: P {sad, joy} G {sad}: hit 1, m 1/2; d: 0, 0
    #   -> hit rate 2/3, m-score 1/2
    # wheels 2-5: "isolated" is not there, so c is skipped too; C = {joy}: a 1, 1; d 0, 0 -> 1/2, 1/2
    result = score_with_protocol(predicted, "hit-rate", resources=tiny, onehot=str(onehot))
    assert result.score == pytest.approx((2 / 3 + 4 * 1 / 2) / 5)
    assert result.parts == pytest.approx({"m_score": (1 / 2 + 4 * 1 / 2) / 5})
    assert result.to_dict()["protocol"] == "hit-rate"
    with pytest.raises(OvmerError, match=r"no prediction for 1 ground-truth sample\(s\): d"):
        score_with_protocol({k: v for k, v in predicted.items() if k != "d"}, "hit-rate", resources=tiny,
                            onehot=str(onehot))


def test_options_are_checked(tiny) -> None:
    with pytest.raises(OvmerError, match="--level applies to affectgpt only, not to mer2025-track2"):
        make_protocol("mer2025-track2", level=2)
    with pytest.raises(OvmerError, match="--onehot applies to hit-rate only, not to affectgpt"):
        make_protocol("affectgpt", onehot="mer2023")
    with pytest.raises(OvmerError, match="--level must be 1 or 2"):
        make_protocol("affectgpt", level=3)
    with pytest.raises(OvmerError, match="unknown scoring protocol 'afectgpt'. Did you mean 'affectgpt'"):
        make_protocol("afectgpt")
    with pytest.raises(OvmerError, match="neither 'mer2023' nor an existing name, label CSV"):
        score_with_protocol({"a": ["x"]}, "hit-rate", resources=tiny, onehot="missing.csv")
    assert make_protocol("affectgpt", level=None) == AffectGPT(level=1)


def test_a_user_protocol_is_one_class_and_one_registry_line(tiny, monkeypatch, tmp_path, capsys) -> None:
    from dataclasses import dataclass
    from typing import ClassVar

    from ovmer.cli import main

    @dataclass(frozen=True)
    class BestWheel(ScoringProtocol):
        name: ClassVar[str] = "best-wheel"
        headline: ClassVar[str] = "the best level-1 wheel F"

        def evaluate(self, task):
            best = max(task.report.metrics[f"M3-W{w}-L1"].f for w in range(1, 6))
            return self.result(task, best)

    registry: Registry[type[ScoringProtocol]] = Registry("scoring protocol", ScoringProtocol)
    for entry in PROTOCOLS.entries():
        registry.register(entry.name, entry.target, entry.help)
    registry.register("best-wheel", BestWheel, "the best level-1 wheel F")
    monkeypatch.setattr(protocols_module, "PROTOCOLS", registry)
    monkeypatch.setattr("ovmer.scoring.cli.PROTOCOLS", registry)
    assert _score("best-wheel", tiny).score == pytest.approx(3 / 4)

    # and the command line takes it: a CSV of predictions scored against a CSV of truth
    predictions, truth = tmp_path / "pred.csv", tmp_path / "truth.csv"
    predictions.write_text("name,openset\n" + "".join(f'{n},"{v}"\n' for n, v in PREDICTED.items()))
    truth.write_text("name,openset\n" + "".join(f'{n},"{v}"\n' for n, v in TRUTH.items()))
    monkeypatch.setattr("ovmer.scoring.cli.load_resources", lambda: tiny)
    assert main(["score", str(predictions), "--gt", str(truth), "--protocol", "best-wheel", "--json"]) == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["protocol"] == "best-wheel" and only["score"] == pytest.approx(3 / 4)
