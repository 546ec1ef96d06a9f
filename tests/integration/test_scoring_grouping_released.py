"""The GPT-grouping metric on the released files: the published check and the released groupings."""

from __future__ import annotations

import pytest

from ovmer.assets import asset_path
from ovmer.scoring import (
    gpt_grouping_score,
    read_raw_predictions,
    released_groupings,
)
from ovmer.scoring.grouping import RELEASED_PREDICTIONS
from ovmer.scoring.paper import PAPER_GPT_GROUPING


def test_published_gpt_grouping_check() -> None:
    predictions = read_raw_predictions(asset_path(RELEASED_PREDICTIONS))
    score = gpt_grouping_score(predictions)
    assert abs(score.accuracy - 0.581777108433735) <= 1e-12
    assert abs(score.recall - 0.4977911646586345) <= 1e-12
    assert abs(score.average - 0.5397841365461847) <= 1e-12
    assert score.average == pytest.approx(PAPER_GPT_GROUPING["average"], abs=1e-12)
    assert score.f == pytest.approx(2 * score.accuracy * score.recall / (score.accuracy + score.recall))
    assert score.n_samples == 332


def test_released_groupings() -> None:
    groups = released_groupings()
    assert len(groups) == 332
    assert groups["sample_00000000"][0] == ["joyful", "happy", "relaxed", "relieved"]
    assert all(isinstance(label, str) for g in groups.values() for group in g for label in group)
