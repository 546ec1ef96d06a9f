"""``hit-rate``: open-vocabulary predictions against one basic-emotion label per sample (AffectGPT).

AffectGPT's ``hitrate_metric_calculation`` (``calculate_openset_onehot_hitrate``
in ``my_affectgpt/evaluation/wheel.py``) maps the one-hot truth, the predicted
labels and the set of all one-hot labels (the candidates) with each wheel's
level-1 mapping. A sample whose mapped truth is empty (``neutral`` maps to no
wheel) is skipped; for the others, the hit is |P ∩ G| and the m-score is
|P ∩ G| / |P ∩ C| (0 when the prediction reaches no candidate). Hit rate and
m-score are the means over samples, then over the five wheels.

The truth is any ``name, label`` CSV (``onehot=FILE``) or ``mer2023``: the
MER2023 label of each OV-MERD sample (``ovmerd/label-6way.npz``). Labels are
lower-cased and stripped like predictions, candidates too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from ovmer.data.name_values import GROUND_TRUTH_FILES, read_name_values
from ovmer.data.ovmerd import load_ovmerd
from ovmer.data.wheels import N_WHEELS
from ovmer.errors import OvmerError
from ovmer.scoring.mapping import METRIC_NAMES
from ovmer.scoring.metrics import align_samples, overlap_counts
from ovmer.scoring.protocols.base import ProtocolScore, ScoringProtocol, ScoringTask

MER2023 = "mer2023"
ONEHOT_FILES = replace(GROUND_TRUTH_FILES, what="one-hot label file", suffixes=(".csv", ".tsv"), columns=("label",))
LEVEL1_ROWS = tuple(METRIC_NAMES.index(f"M3-W{w}-L1") for w in range(1, N_WHEELS + 1))


def onehot_truth(source: str) -> dict[str, str]:
    """name -> one basic-emotion label: ``mer2023`` (the 332 OV-MERD samples) or a ``name, label`` CSV."""
    if source.lower() == MER2023:
        ovmerd = load_ovmerd()
        missing = [n for n in ovmerd.names if n not in ovmerd.emotion]
        if missing:
            raise OvmerError(f"ovmerd/label-6way.npz: no MER2023 label for {len(missing)} sample(s): {missing[:5]}")
        return {name: ovmerd.emotion[name] for name in ovmerd.names}
    path = Path(source).expanduser()
    if not path.is_file():
        raise OvmerError(f"--onehot {source}: neither {MER2023!r} nor an existing name, label CSV")
    return read_name_values(path, ONEHOT_FILES)


@dataclass(frozen=True)
class HitRate(ScoringProtocol):
    onehot: str = MER2023

    name: ClassVar[str] = "hit-rate"
    headline: ClassVar[str] = "share of one-hot labels hit by the prediction, level-1 wheels (AffectGPT)"
    uses_ground_truth: ClassVar[bool] = False

    def evaluate(self, task: ScoringTask) -> ProtocolScore:
        names, truth, predicted = align_samples(
            task.predictions,
            onehot_truth(self.onehot),
            missing_as_empty=task.missing_as_empty,
            parser=task.parser,
            where=task.file or "predictions",
        )
        candidates = tuple(dict.fromkeys(label for labels in truth for label in labels))
        with_truth = overlap_counts(truth, predicted, task.resources)
        with_candidates = overlap_counts([candidates] * len(names), predicted, task.resources)
        hit_rates, m_scores = [], []
        for row in LEVEL1_ROWS:
            counted = with_truth.gt_size[row] > 0
            if not counted.any():
                hit_rates.append(np.nan)
                m_scores.append(np.nan)
                continue
            hits = with_truth.hits[row][counted].astype(float)
            reached = with_candidates.hits[row][counted]
            hit_rates.append(float(hits.mean()))
            m_scores.append(float(np.divide(hits, reached, out=np.zeros_like(hits), where=reached > 0).mean()))
        return self.result(task, float(np.mean(hit_rates)), {"m_score": float(np.mean(m_scores))})
