"""The Ray engine: overhead per sample and scaling, side by side with the local runner, in one run.

A fake model of fixed cost (it sleeps ``--cost-ms``, 20 ms by default, per
sample: the machine has 2 cores, so sleeping, unlike spinning, lets two
replicas really run side by side) describes ``--samples`` synthetic samples
(20,000 by default) through the same path as every stage: keyed work items,
the engine, ``run_stage`` appending and fsyncing one record per sample. Runs:
the local engine, then Ray with 1 and with 2 replicas on a local instance
(loopback only; replica start-up included), then 2 replicas on a model of
zero cost to find what the driver (the one writer of the store) can take.

Goals: Ray's overhead (Ray 1 replica - local, per sample) <= 2 ms, and 2
replicas >= 1.8x one. The time above the model's own cost is printed too, for
both engines. Then a projection for the MER2025 training set
(132,171 clips): hours per number of GPUs at ``--clip-seconds`` per clip
(default 1.0, the issue's figure for a 7B MLLM on one GPU; measure yours with a
``--limit 100`` run and pass its seconds per clip), bounded by the driver's
measured rate.

Run: ``python benchmarks/bench_ray.py [--samples N] [--cost-ms MS] [--clip-seconds S]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

GOAL_OVERHEAD_MS = 2.0
GOAL_SCALING = 1.8
MER2025_TRAIN_CLIPS = 132_171
GPU_COUNTS = (1, 2, 4, 8, 16, 32, 64)


class SleepingModel:
    """A worker of fixed cost per sample (picklable: Ray replicas run copies)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, chunk):
        from ovmer.engines import each_sample

        return each_sample(self.describe, chunk)

    def describe(self, item):
        if self.seconds:
            time.sleep(self.seconds)
        text = f"{item.name}: a calm voice, no visible emotion"
        return text, text


def timed_run(engine, samples: int, seconds: float) -> float:
    from ovmer.engines import StageWork, run_work
    from ovmer.store.jsonl import ResultsStore
    from ovmer.store.runner import WorkItem

    items = [WorkItem(f"sample_{i:08d}", f"key-{i}") for i in range(samples)]
    with tempfile.TemporaryDirectory() as folder:
        store = ResultsStore(Path(folder) / "describe.jsonl")
        started = time.perf_counter()
        summary = run_work(store, items, StageWork(SleepingModel(seconds)), engine, desc="bench", progress=False)
        elapsed = time.perf_counter() - started
        assert (summary.done, summary.failed) == (samples, 0), summary
        assert len(store.latest()) == samples
    return elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--cost-ms", type=float, default=20.0)
    parser.add_argument("--clip-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)

    from ovmer.engines.local import LocalEngine
    from ovmer.engines.ray_engine import RayEngine

    n, cost = args.samples, args.cost_ms / 1000
    print(f"{n} samples at {args.cost_ms:g} ms each (sleeping), one store record each (fsync)")
    local = timed_run(LocalEngine(), n, cost)
    print(f"  local runner       {local:8.1f} s  {n / local:7.1f} samples/s")
    engine = RayEngine(replicas=1, cpus_per_replica=1)
    with engine.session():
        started = time.perf_counter()
        engine.connect()  # a fresh local instance, loopback only
        start_up = time.perf_counter() - started
        import ray

        cpus = ray.cluster_resources().get("CPU", 0)
        print(f"  ray start-up       {start_up:8.1f} s  (local instance, {cpus:g} CPUs; not counted below)")
        one = timed_run(engine, n, cost)
        print(f"  ray, 1 replica     {one:8.1f} s  {n / one:7.1f} samples/s")
        engine.replicas, engine.cpus_per_replica = 2, min(1.0, cpus / 2)
        two = timed_run(engine, n, cost)
        print(f"  ray, 2 replicas    {two:8.1f} s  {n / two:7.1f} samples/s")
        driver_samples = min(n, 5_000)
        free = timed_run(engine, driver_samples, 0.0)
        driver_rate = driver_samples / free
        print(f"  ray, 2 replicas, zero-cost model: {driver_rate:7.1f} samples/s (what the driver can record)")
    overhead_ms = 1000 * (one - local) / n
    above_model_ms = 1000 * (one - n * cost) / n
    scaling = one / two
    print(f"overhead per sample  {overhead_ms:6.2f} ms vs the local runner (goal <= {GOAL_OVERHEAD_MS:g} ms; "
          "negative: Ray overlaps the driver's store writes with the replica's work)")
    print(f"                     {above_model_ms:6.2f} ms above the model's own {args.cost_ms:g} ms "
          f"(local runner: {1000 * (local - n * cost) / n:.2f} ms)")
    print(f"2 replicas vs 1      {scaling:6.2f}x   (goal >= {GOAL_SCALING:g}x)")

    # Conservative: each clip also pays all the time a replica spent above the model's own cost.
    per_clip = args.clip_seconds + max(above_model_ms, 0.0) / 1000
    print(f"\nMER2025 training set, {MER2025_TRAIN_CLIPS:,} clips at {args.clip_seconds:g} s per clip "
          f"(+ {max(above_model_ms, 0.0):.2f} ms measured above the model's cost), one replica per GPU:")
    print("  GPUs   hours   bound by")
    for gpus in GPU_COUNTS:
        compute = MER2025_TRAIN_CLIPS * per_clip / gpus
        recording = MER2025_TRAIN_CLIPS / driver_rate
        hours = max(compute, recording) / 3600
        print(f"  {gpus:4d}  {hours:6.2f}   {'the model' if compute >= recording else 'the driver (store writes)'}")
    ok = overhead_ms <= GOAL_OVERHEAD_MS and scaling >= GOAL_SCALING
    if not ok:
        print("below the goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
