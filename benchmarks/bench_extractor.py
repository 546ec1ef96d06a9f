"""Benchmark: the CPU label extractor's fidelity to the LLM extractor, its accuracy and its speed.

Goals (issue 5):
- fidelity, leave-one-baseline-out (fit without baseline X, extract X's descriptions in every
  setting): per file, M-avg of our labels vs M-avg of the released LLM labels, both scored with
  ``ovmer.scoring.score_predictions``; mean |dM-avg| <= 2.0 points and Pearson correlation across
  baselines of the S2 column >= 0.95;
- M-avg of labels extracted from the reference descriptions vs the ground truth, far above a plain
  vocabulary match (computed here: every word-form/synonym/wheel word found in the text);
- >= 5,000 descriptions/s on one core.

Fitting is repeated for every held-out baseline (about 5-10 s each), so the run takes a few
minutes on 2 cores. Run: python benchmarks/bench_extractor.py
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from ovmer.data import RELEASED_BASELINES, load_ovmerd, load_released_descriptions, load_released_labels
from ovmer.extract.cpu import CpuExtractor, fit_released
from ovmer.extract.cpu.candidates import find_candidates
from ovmer.extract.cpu.training import TRAINING_BASELINES
from ovmer.extract.cpu.vocabulary import build_lexicon
from ovmer.scoring import score_predictions
from ovmer.settings import ALL_SETTINGS

GOAL_MEAN_DELTA = 2.0
GOAL_PEARSON_S2 = 0.95
GOAL_RATE = 5000.0


def m_avg(predictions: dict[str, object]) -> float:
    return 100.0 * score_predictions(predictions).m_avg


def fidelity() -> tuple[float, float]:
    print("fidelity, leave-one-baseline-out: M-avg of our labels / of the released LLM labels (delta)")
    print(f"{'baseline':<12} " + " ".join(f"{s.short + ' ' + s.value:>26}" for s in ALL_SETTINGS))
    ours = np.zeros((len(TRAINING_BASELINES), len(ALL_SETTINGS)))
    theirs = np.zeros_like(ours)
    for row, baseline in enumerate(TRAINING_BASELINES):
        extractor = fit_released([baseline])
        cells = []
        for col, setting in enumerate(ALL_SETTINGS):
            texts = load_released_descriptions(baseline, setting)
            names = sorted(texts)
            labels = extractor.extract([texts[n] for n in names])
            ours[row, col] = m_avg(dict(zip(names, labels, strict=True)))
            theirs[row, col] = m_avg(load_released_labels(baseline, setting))
            cells.append(f"{ours[row, col]:6.2f} / {theirs[row, col]:6.2f} ({ours[row, col] - theirs[row, col]:+5.2f})")
        print(f"{baseline:<12} " + " ".join(f"{c:>26}" for c in cells), flush=True)
    delta = np.abs(ours - theirs)
    pearson = [float(np.corrcoef(ours[:, c], theirs[:, c])[0, 1]) for c in range(len(ALL_SETTINGS))]
    mean_delta = float(delta.mean())
    print(f"mean |dM-avg| over {delta.size} files: {mean_delta:.2f} points (goal <= {GOAL_MEAN_DELTA}: "
          f"{'met' if mean_delta <= GOAL_MEAN_DELTA else 'NOT met'}); max {delta.max():.2f}")
    print("Pearson across baselines: " + ", ".join(
        f"{s.short} {p:.3f}" for s, p in zip(ALL_SETTINGS, pearson, strict=True)
    ) + f" (goal S2 >= {GOAL_PEARSON_S2}: {'met' if pearson[2] >= GOAL_PEARSON_S2 else 'NOT met'})")
    return mean_delta, pearson[2]


def plain_vocabulary_match(texts: list[str]) -> list[list[str]]:
    """The baseline: every form of the assets' vocabulary found in the text, no selection."""
    lexicon = build_lexicon()
    return [[c.form for c in find_candidates(text, lexicon).candidates] for text in texts]


def reference(extractor: CpuExtractor) -> None:
    data = load_ovmerd()
    names = list(data.names)
    texts = [data.reference_en[n] for n in names]
    plain = m_avg(dict(zip(names, plain_vocabulary_match(texts), strict=True)))
    ours = m_avg(dict(zip(names, extractor.extract(texts), strict=True)))
    print(f"reference descriptions vs ground truth, M-avg: plain vocabulary match {plain:.2f}, "
          f"CPU extractor {ours:.2f} ({ours - plain:+.2f} points)")


def throughput(extractor: CpuExtractor) -> float:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    texts = [
        text for b in RELEASED_BASELINES for s in ALL_SETTINGS for text in load_released_descriptions(b, s).values()
    ]
    lexicon = build_lexicon()
    extractor.extract(texts[:200])  # warm caches
    rates = {}
    for label, run in (
        ("plain vocabulary match", lambda: [find_candidates(t, lexicon) for t in texts]),
        ("CPU extractor", lambda: extractor.extract(texts)),
    ):
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rates[label] = len(texts) / wall
        print(f"{label:<24} {len(texts)} descriptions: {wall:6.2f} s wall, {cpu:6.2f} s CPU, "
              f"{len(texts) / wall:8.0f} desc/s wall, {len(texts) / cpu:8.0f} desc/s CPU (one core)")
    rate = rates["CPU extractor"]
    print(f"throughput goal >= {GOAL_RATE:.0f} desc/s: {rate / GOAL_RATE:.2f}x of the goal "
          f"({'met' if rate >= GOAL_RATE else 'NOT met'}; wall clock, other load on the machine counts against it)")
    return rate


def main() -> int:
    started = time.perf_counter()
    fidelity()
    full = fit_released()
    print(f"fit on all {full.info['pairs']} pairs: {full.info['fit_seconds']} s, "
          f"candidate coverage {full.info['candidate_coverage']}, threshold {full.info['threshold']}")
    reference(full)
    throughput(full)
    print(f"benchmark wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
