"""Scoring speed: the fast path against the plain per-label implementation, side by side.

Scores every released openset file (10 baselines × 3 settings, all 12 metrics and
M-avg) with ``ovmer.scoring.score_predictions`` and with
``ovmer.scoring.reference`` (written straight from the spec), checks that both
agree to 1e-12, and prints both times and their ratio (goal: ≥ 15×). Also times
loading the compiled resources in a fresh process from the disk cache (goal: well
under 100 ms). Exits 1 if the two implementations disagree.

Run: ``python benchmarks/bench_scoring.py``
"""

from __future__ import annotations

import subprocess
import sys
import time

GOAL_RATIO = 15.0
TOLERANCE = 1e-12
REPEATS = 3


def main() -> int:
    from ovmer.assets import asset_path
    from ovmer.data.released import RELEASED_BASELINES, released_file
    from ovmer.scoring import (
        DEFAULT_PARSER,
        METRIC_NAMES,
        load_resources,
        read_raw_predictions,
        score_predictions,
    )
    from ovmer.scoring.metrics import _encode_cached, _parse_text, default_ground_truth, get_parser
    from ovmer.scoring.reference import plain_mappers, plain_scores, read_plain_resources
    from ovmer.settings import ALL_SETTINGS

    # Inputs and resources are loaded before any timing: only scoring is compared.
    files = {
        (b, s.value): read_raw_predictions(asset_path(released_file(b, s, "openset")))
        for b in RELEASED_BASELINES
        for s in ALL_SETTINGS
    }
    truth = default_ground_truth()
    resources = load_resources()
    mappers = plain_mappers(read_plain_resources(asset_path("emotion_wheel/format.csv").parent))
    parse = get_parser(DEFAULT_PARSER)
    n_labels = sum(len(parse(v)) for raw in files.values() for v in raw.values())
    print(f"{len(files)} files, {len(truth)} samples each, {n_labels} predicted labels, 12 metrics")

    fast_times, plain_times = [], []
    for _ in range(REPEATS):
        _parse_text.cache_clear()  # no carry-over of parsed text or encoded ground truth between repeats
        _encode_cached.cache_clear()
        start = time.perf_counter()
        fast = {key: score_predictions(raw, truth, resources=resources) for key, raw in files.items()}
        fast_times.append(time.perf_counter() - start)

        start = time.perf_counter()
        plain = {}
        for key, raw in files.items():
            parsed = {name: parse(value, where=name) for name, value in raw.items()}
            plain[key] = plain_scores(truth, parsed, mappers)
        plain_times.append(time.perf_counter() - start)

    worst = 0.0
    for key, report in fast.items():
        per_metric, m_avg = plain[key]
        for name, (precision, recall, f) in zip(METRIC_NAMES, per_metric, strict=True):
            got = report.metrics[name]
            worst = max(worst, abs(got.precision - precision), abs(got.recall - recall), abs(got.f - f))
        worst = max(worst, abs(report.m_avg - m_avg))
    fast_s, plain_s = min(fast_times), min(plain_times)
    ratio = plain_s / fast_s
    print(f"plain per-label implementation: {plain_s * 1000:8.1f} ms  (best of {REPEATS})")
    print(f"fast path:                      {fast_s * 1000:8.1f} ms  (best of {REPEATS})")
    print(
        f"speed-up: {ratio:.1f}x (goal >= {GOAL_RATIO:.0f}x: {'met' if ratio >= GOAL_RATIO else 'NOT met'})"
    )
    print(f"largest difference over all P/R/F and M-avg: {worst:.3g} (must be <= {TOLERANCE:g})")

    probe = (
        "import time; t0 = time.perf_counter(); from ovmer.scoring.resources import load_resources; "
        "t1 = time.perf_counter(); load_resources(); t2 = time.perf_counter(); "
        "print(f'{(t1 - t0) * 1000:.1f} {(t2 - t1) * 1000:.1f}')"
    )
    loads = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
        loads.append(tuple(float(x) for x in out.split()))
    import_ms = min(x[0] for x in loads)
    load_ms = min(x[1] for x in loads)
    print(
        f"fresh process, cached resources: load_resources() {load_ms:.1f} ms (import {import_ms:.0f} ms; best of 3)"
    )
    if worst > TOLERANCE:
        print("FAIL: fast path and plain implementation disagree")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
