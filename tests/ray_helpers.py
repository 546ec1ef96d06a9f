"""Ray test helpers: a multi-node cluster on this machine, loopback only, that always stops; test adapters.

Importing this module sets what Ray reads when it is imported: every node
advertises and binds 127.0.0.1 (nothing listens on the machine's network
address) and usage stats stay off. :func:`local_cluster` starts
``ray.cluster_utils.Cluster`` (a head node plus worker nodes, each with its
own raylet and resources; their workers can import the test helper modules),
connects this process as the driver, and on exit
shuts both down and checks that no raylet or gcs_server it started is left.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ovmer.describe.adapter import BaselineSpec, DescribeAdapter, FramePolicy
from ovmer.messages import Chat

TESTS = Path(__file__).resolve().parent
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # loopback only (read when ray is imported)
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

RAY_DAEMONS = ("raylet", "gcs_server")


def descendants(pid: int | None = None) -> list[int]:
    """Every process below ``pid`` (default: this one), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [os.getpid() if pid is None else pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def leftover_daemons() -> list[str]:
    """Ray daemons this process started that are still running."""
    return [f"{process_name(p)} (pid {p})" for p in descendants() if process_name(p) in RAY_DAEMONS]


@contextlib.contextmanager
def local_cluster(worker_nodes: int = 2, cpus: int = 1) -> Iterator:
    """A head node and ``worker_nodes`` nodes of ``cpus`` CPUs each, with this process connected to it."""
    import ray
    from ray.cluster_utils import Cluster

    # The nodes' worker processes inherit this environment: let them import the test helper modules.
    saved_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS), saved_path) if p)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus, "include_dashboard": False})
    try:
        for _ in range(worker_nodes):
            cluster.add_node(num_cpus=cpus)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, logging_level="WARNING")
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
        if saved_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved_path
        deadline = time.monotonic() + 30
        while leftover_daemons() and time.monotonic() < deadline:
            time.sleep(0.2)
    left = leftover_daemons()
    assert not left, f"Ray processes left running: {left}"


# Three nodes of one CPU each: small enough for a shared 2-core machine, enough to lose one.
CLUSTER_CPUS = 3


@pytest.fixture(scope="module", name="cluster")
def cluster_fixture():
    """A module's own cluster (:func:`local_cluster` with 2 worker nodes); import it into the test module."""
    with local_cluster(worker_nodes=CLUSTER_CPUS - 1, cpus=1) as running:
        yield running


def clip_folder(tmp_path_factory, names, **options) -> Path:
    """Synthetic clips in the MER2025 layout (``media_helpers.make_mer2025_layout`` options)."""
    from media_helpers import make_mer2025_layout

    return make_mer2025_layout(tmp_path_factory.mktemp("ray-clips") / "data", names, **options)


def wait_for_full_cluster(cpus: float, timeout: float = 30.0) -> None:
    """Wait until every CPU is free again (the replicas a run started are gone)."""
    import ray

    deadline = time.monotonic() + timeout
    while ray.available_resources().get("CPU", 0) < cpus:
        assert time.monotonic() < deadline, f"replicas still hold CPUs: {ray.available_resources()}"
        time.sleep(0.2)


SPEC = BaselineSpec(
    name="test-traced-video",
    modalities=frozenset({"video"}),
    run="native",
    checkpoint="tests/traced",
    frames=FramePolicy(num_frames=2),
    paper=False,
)


class TracedAdapter(DescribeAdapter):
    """Describes a sample after ``delay`` seconds and appends ``name pid node`` to ``calls_file``.

    The calls file counts the model calls across processes (resume tests) and says which process and
    node computed each sample (fault tests kill them).
    """

    spec = SPEC

    def __init__(self, calls_file: str | os.PathLike[str], delay: float = 0.0, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.calls_file = str(calls_file)
        self.delay = delay

    def load(self) -> None:
        pass

    def describe(self, message: Chat) -> str:
        time.sleep(self.delay)
        node = "driver"
        with contextlib.suppress(Exception):
            import ray

            if ray.is_initialized():
                node = ray.get_runtime_context().get_node_id()
        with open(self.calls_file, "a", encoding="utf-8") as handle:
            handle.write(f"{message.name} {os.getpid()} {node}\n")
        frames = message.video().frames
        return f"{message.name}: {frames.shape[0]} frames, mean {frames.mean():.1f}"


def calls(calls_file: str | os.PathLike[str]) -> list[tuple[str, int, str]]:
    """The ``(name, pid, node)`` lines a :class:`TracedAdapter` wrote."""
    path = Path(calls_file)
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            rows.append((parts[0], int(parts[1]), parts[2]))
    return rows


def store_lines(path: str | os.PathLike[str]) -> list[dict]:
    """Every record of a store file, without the write time (which differs between runs)."""
    import json

    records = []
    for line in Path(path).read_text().splitlines():
        record = json.loads(line)
        record["meta"].pop("time", None)
        records.append(record)
    return records


def _refuse_to_unpickle() -> None:
    raise RuntimeError("this worker cannot be rebuilt on a replica")


class UnbuildableWorker:
    """A stage worker that pickles in the driver but fails to unpickle in a replica (a broken node setup)."""

    def __reduce__(self):
        return _refuse_to_unpickle, ()

    def __call__(self, chunk):
        raise AssertionError("never called")
