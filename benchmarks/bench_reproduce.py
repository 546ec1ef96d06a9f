"""Benchmark: the full `ovmer reproduce` from a local asset mirror with a warm virtual environment.

Goal (issue 4): the whole reproduction, every table and figure, in <= 60 s wall on 2 cores.
Runs in fresh temporary data/output folders (figures into a temporary folder too, so the
committed figures/ stay untouched): a cold run (fetch from the mirror + every notebook),
then a re-run with unchanged inputs (every notebook skipped). Prints the per-notebook
times of both and the ratio to the goal. Run: python benchmarks/bench_reproduce.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 60.0


def mirror() -> str:
    source = os.environ.get("OVMER_ASSET_SOURCE") or str(ROOT.parent / "shared" / "ovmer-data")
    if not Path(source).is_dir():
        sys.exit(f"no local asset mirror at {source}; set OVMER_ASSET_SOURCE")
    return source


def run(env: dict[str, str], figures: Path) -> tuple[float, str]:
    command = [sys.executable, "-m", "ovmer", "reproduce", "--figures-dir", str(figures)]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"ovmer reproduce failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def step_lines(stdout: str) -> list[str]:
    # "  05_tables   ran   1.8 s  (first run)": a step that ran says why
    return [line for line in stdout.splitlines() if re.match(r"\s+\S+\s+(ran|skipped|)\s+[\d.]+ s(  \(.*\))?$", line)]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ovmer-bench-") as tmp:
        base = Path(tmp)
        env = {**os.environ, "OVMER_ASSET_SOURCE": mirror(), "OVMER_DATA": str(base / "data"),
               "OVMER_OUTPUT": str(base / "output")}
        cold, cold_out = run(env, base / "figures")
        warm, warm_out = run(env, base / "figures")
    print(f"full reproduction, cold (fetch from mirror + all notebooks): {cold:6.1f} s wall")
    print("\n".join(step_lines(cold_out)))
    print(f"re-run with unchanged inputs (all up to date):              {warm:6.1f} s wall")
    print("\n".join(step_lines(warm_out)))
    print(f"goal <= {GOAL_S:.0f} s: cold run at {cold / GOAL_S:.2f}x of the goal "
          f"({'met' if cold <= GOAL_S else 'NOT met'}); re-run {cold / max(warm, 1e-9):.1f}x faster than cold")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
