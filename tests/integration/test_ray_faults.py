"""Faults on a real multi-node Ray cluster: a replica's process killed, a whole node removed, mid-run.

The run completes on the surviving (or restarted) replicas; each sample is in
the store exactly once, and the records written before the fault are
untouched. At most the samples in flight on the lost replica are computed
twice (counted through the adapter's calls file).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

# ray_helpers first: it sets the environment Ray reads when it is imported.
from ray_helpers import (
    CLUSTER_CPUS,
    TracedAdapter,
    calls,
    clip_folder,
    cluster_fixture,  # noqa: F401  (the module's own `cluster` fixture)
    store_lines,
    wait_for_full_cluster,
)

pytest.importorskip("ray")

from ovmer.describe.runner import describe_store, run_describe  # noqa: E402
from ovmer.engines.ray_engine import RayEngine  # noqa: E402

pytestmark = pytest.mark.slow
NAMES = tuple(f"sample_{i:08d}" for i in range(1, 41))


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return clip_folder(tmp_path_factory, NAMES, seconds=0.5, fps=8, with_audio_files=False, with_faces=False)


class Saboteur(threading.Thread):
    """Once ``after`` samples were computed, ``strike(name, pid, node)`` of the latest one, once."""

    def __init__(self, calls_file, store, after, strike) -> None:
        super().__init__(daemon=True)
        self.calls_file, self.store, self.after, self.strike = calls_file, store, after, strike
        self.done = threading.Event()
        self.victim: tuple[str, int, str] | None = None
        self.written_before: list[dict] = []

    def run(self) -> None:
        deadline = time.monotonic() + 120
        while not self.done.is_set() and time.monotonic() < deadline:
            rows = calls(self.calls_file)
            if len(rows) >= self.after:
                victim = self.strike(rows)
                if victim is not None:
                    self.written_before = store_lines(self.store.path) if self.store.path.exists() else []
                    self.victim = victim
                    return
            time.sleep(0.05)


def run_with(saboteur_strike, clips, tmp_path, after=6):
    wait_for_full_cluster(CLUSTER_CPUS)  # the previous test's replicas are gone
    calls_file = tmp_path / "calls.txt"
    store = describe_store("test-traced-video", "S0", tmp_path)
    saboteur = Saboteur(calls_file, store, after, saboteur_strike)
    saboteur.start()
    try:
        summary = run_describe(TracedAdapter(calls_file, delay=0.25), "S0", clips, store_root=tmp_path,
                               progress=False, engine=RayEngine(replicas=2, cpus_per_replica=1))
    finally:
        saboteur.done.set()
        saboteur.join()
    assert saboteur.victim is not None, "the fault was never injected"
    return summary, store, calls(calls_file), saboteur


def check_every_sample_once(summary, store, rows, saboteur) -> None:
    assert (summary.done, summary.failed) == (len(NAMES), 0)
    records = store_lines(store.path)
    assert sorted(r["name"] for r in records) == list(NAMES)  # each sample exactly once
    assert all(r["status"] == "ok" for r in records)
    assert records[: len(saboteur.written_before)] == saboteur.written_before  # finished records untouched
    computed = [name for name, _, _ in rows]
    assert set(computed) == set(NAMES)
    # Only the samples in flight on the lost replica (2 chunks of 1) ran twice.
    assert len(computed) - len(NAMES) <= 2, sorted(computed)


def test_a_killed_replica_process_loses_only_its_samples_in_flight(cluster, clips, tmp_path):
    def kill_latest_replica(rows):
        name, pid, node = rows[-1]
        os.kill(pid, signal.SIGKILL)
        return rows[-1]

    summary, store, rows, saboteur = run_with(kill_latest_replica, clips, tmp_path)
    check_every_sample_once(summary, store, rows, saboteur)
    killed_pid = saboteur.victim[1]
    after = [pid for _, pid, _ in rows[rows.index(saboteur.victim) + 1 :]]
    assert len(set(after) - {killed_pid}) == 2  # Ray restarted the replica: two processes carried on


def test_a_removed_node_loses_only_its_samples_in_flight(cluster, clips, tmp_path):
    head = cluster.head_node.node_id
    nodes = {node.node_id: node for node in cluster.list_all_nodes() if node.node_id != head}

    def remove_a_replicas_node(rows):
        for row in reversed(rows):
            if row[2] in nodes:  # a worker node (removing the head would stop the cluster)
                cluster.remove_node(nodes[row[2]])
                return row
        return None

    summary, store, rows, saboteur = run_with(remove_a_replicas_node, clips, tmp_path)
    check_every_sample_once(summary, store, rows, saboteur)
    gone = saboteur.victim[2]
    later_nodes = {node for _, _, node in rows[rows.index(saboteur.victim) + 1 :]}
    assert later_nodes and gone not in later_nodes  # the work moved to the replicas left
