"""The transcribed paper table: its shape, its names and its internal consistency (no assets)."""

from __future__ import annotations

import numpy as np
import pytest

from ovmer.data.released import RELEASED_BASELINES
from ovmer.describe.registry import BASELINES
from ovmer.scoring import paper


def test_twelve_systems_fourteen_columns_named_as_the_package_names_them() -> None:
    assert len(paper.PAPER_EW_ROWS) == 12 and all(len(row) == 14 for row in paper.PAPER_EW_ROWS.values())
    assert set(RELEASED_BASELINES) < set(paper.PAPER_EW_ROWS)
    assert set(paper.PAPER_EW_ROWS) - set(RELEASED_BASELINES) == {"SECap", "Video-LLaMA"}
    assert all(name in BASELINES for name in paper.PAPER_EW_ROWS)
    gpt = [row[0] for row in paper.PAPER_EW_ROWS.values()]
    assert gpt == sorted(gpt)  # the paper lists its systems by ascending GPT score
    assert paper.paper_value("Chat-UniVi", "M-avg") == 46.75 and paper.paper_value("Otter", "GPT") == 43.51


def test_each_printed_m_avg_is_the_mean_of_its_twelve_columns() -> None:
    for system, row in paper.PAPER_EW_ROWS.items():
        assert np.mean(row[1:13]) == pytest.approx(row[13], abs=0.006), system  # printed to 2 decimals


def test_pcc_is_computed_from_the_rows() -> None:
    pcc = paper.paper_pcc()
    assert list(pcc) == list(paper.PAPER_EW_COLUMNS[1:])
    assert pcc["M-avg"] == pytest.approx(0.9422, abs=1e-4) and pcc["M2"] == pytest.approx(0.8565, abs=1e-4)
    assert all(0.8 < value < 1 for value in pcc.values())
