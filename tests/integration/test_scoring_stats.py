"""Bootstrap intervals, the paired test and metric correlation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ovmer.data.released import load_released_labels
from ovmer.errors import OvmerError
from ovmer.scoring import (
    M_AVG,
    METRIC_NAMES,
    bootstrap_intervals,
    metric_correlation,
    paired_test,
    score_predictions,
)

N_BOOT = 200


@pytest.fixture(scope="module")
def system_a():
    return load_released_labels("Chat-UniVi", "S2")


@pytest.fixture(scope="module")
def system_b():
    return load_released_labels("Otter", "S1")


def test_bootstrap_is_seeded_and_brackets_the_estimate(system_a) -> None:
    first = bootstrap_intervals(system_a, n_boot=N_BOOT, seed=3)
    again = bootstrap_intervals(system_a, n_boot=N_BOOT, seed=3)
    other = bootstrap_intervals(system_a, n_boot=N_BOOT, seed=4)
    assert first == again
    assert first != other
    assert list(first) == [*METRIC_NAMES, M_AVG]
    report = score_predictions(system_a)
    for name, (low, high) in first.items():
        point = report.m_avg if name == M_AVG else report.metrics[name].f
        assert 0 <= low <= point <= high <= 1, name
    wide = bootstrap_intervals(system_a, n_boot=N_BOOT, seed=3, level=0.99)[M_AVG]
    assert wide[0] <= first[M_AVG][0] and wide[1] >= first[M_AVG][1]
    with pytest.raises(OvmerError, match="level"):
        bootstrap_intervals(system_a, n_boot=N_BOOT, level=95)


def test_paired_test_of_a_system_with_itself(system_a) -> None:
    result = paired_test(system_a, system_a, n_boot=N_BOOT)
    assert result.delta == 0.0 and result.ci_low == 0.0 and result.ci_high == 0.0
    assert result.p_value == pytest.approx(1.0)


def test_paired_test_detects_a_clear_difference(system_a, system_b) -> None:
    result = paired_test(system_a, system_b, n_boot=N_BOOT, seed=1)
    expected = score_predictions(system_a).m_avg - score_predictions(system_b).m_avg
    assert result.delta == pytest.approx(expected, abs=1e-12)
    assert result.ci_low > 0 and result.ci_low <= result.delta <= result.ci_high
    assert result.p_value < 0.02
    swapped = paired_test(system_b, system_a, n_boot=N_BOOT, seed=1)
    assert swapped.delta == pytest.approx(-result.delta, abs=1e-12)
    assert paired_test(system_a, system_b, n_boot=N_BOOT, seed=1) == result  # seeded
    m1 = paired_test(system_a, system_b, metric="M1", n_boot=N_BOOT, seed=1)
    assert m1.delta == pytest.approx(
        score_predictions(system_a).metrics["M1"].f - score_predictions(system_b).metrics["M1"].f, abs=1e-12
    )
    with pytest.raises(OvmerError, match="unknown metric 'M-ag'. Did you mean 'M-avg'"):
        paired_test(system_a, system_b, metric="M-ag", n_boot=N_BOOT)


def test_paired_test_of_near_identical_systems_is_not_significant(system_a) -> None:
    names = list(system_a)
    nudged = dict(system_a)
    nudged[names[0]], nudged[names[1]] = system_a[names[1]], system_a[names[0]]  # swap two samples' outputs
    result = paired_test(system_a, nudged, n_boot=N_BOOT)
    assert abs(result.delta) < 0.01 and result.p_value > 0.2


def test_metric_correlation() -> None:
    frame = pd.DataFrame(
        {"GPT": [1.0, 2.0, 3.0, 4.0, 5.0], "M1": [1.0, 4.0, 9.0, 16.0, 25.0], "x": [5, 4, 3, 2, 1]}
    )
    pearson, spearman = metric_correlation(frame, "GPT", "M1")
    assert spearman == pytest.approx(1.0) and 0.95 < pearson < 1.0
    assert pearson == pytest.approx(np.corrcoef(frame["GPT"], frame["M1"])[0, 1])
    assert metric_correlation(frame, "GPT", "x") == pytest.approx((-1.0, -1.0))
    assert metric_correlation(frame, "GPT", "GPT") == pytest.approx((1.0, 1.0))
    with pytest.raises(OvmerError, match="unknown column 'M 1'. Did you mean 'M1'"):
        metric_correlation(frame, "GPT", "M 1")
    with pytest.raises(OvmerError, match="at least 3 rows"):
        metric_correlation(frame.iloc[:2], "GPT", "M1")
    with_gap = frame.assign(M2=[1.0, math.nan, 2.0, 3.0, 5.0])
    assert metric_correlation(with_gap, "GPT", "M2")[1] == pytest.approx(1.0)
