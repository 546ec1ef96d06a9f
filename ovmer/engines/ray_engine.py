"""The Ray engine: one actor per model replica, chunks of samples handed out with ``ray.wait``.

Each replica is a Ray actor holding its own copy of the stage's worker (and so
its own loaded model) across samples, with the CPUs and GPUs it asks for.
Ray places the actors (spread over the nodes), moves data, restarts a replica
whose process or node dies (``max_restarts``) and reports it; this module only
keeps every live replica fed with ``in_flight`` chunks, so a slow replica
never holds the others back, and puts the chunks of a dead one back in the
queue for the others. Results come back to the driver, the one writer of the
store file (see :func:`ovmer.store.runner.run_stage`), as they finish.

Where it runs: the Ray instance this process is already connected to (a
notebook that called ``ray.init``), else ``address`` (``HOST:PORT`` of a
cluster's head, or ``auto``: the cluster started on this machine with
``ray start``), else ``RAY_ADDRESS``, else a new local instance bound to the
loopback address only, which the engine stops afterwards. Ray is imported
here, lazily.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ovmer.engines.base import Engine, StageWork, portable
from ovmer.errors import OvmerError
from ovmer.store.runner import Result, SampleFailure, WorkItem

# Read by Ray when it is first imported: "0" makes a locally started instance advertise and bind
# 127.0.0.1 instead of the machine's network address (nothing outside the machine can reach it).
LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
INSTALL_HINT = "the ray engine needs Ray: pip install 'ovmer[distributed]' (or pip install ray)"


def import_ray(starts_local_instance: bool = False) -> Any:
    """The ``ray`` module; a clear error when it is not installed."""
    if starts_local_instance and "ray" not in sys.modules:
        os.environ.setdefault(LOOPBACK_ONLY, "0")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a local run reports nothing anywhere
    try:
        import ray
    except ImportError as exc:
        raise OvmerError(INSTALL_HINT) from exc
    return ray


class Replica:
    """The actor: a copy of the stage's worker, which loads its model on the first chunk."""

    def __init__(self, worker: Any, cwd: str) -> None:
        # Relative paths (model folders, data) mean the same as in the driver when its folder exists here.
        if cwd and os.path.isdir(cwd):
            os.chdir(cwd)
        self.worker = worker

    def ready(self) -> str:
        """Answers once the replica is placed and built: the node it runs on."""
        import ray

        return ray.get_runtime_context().get_node_id()

    def run(self, chunk: Sequence[WorkItem]) -> list[Result]:
        try:
            results = list(self.worker(chunk))
        except Exception as exc:  # the whole chunk failed (e.g. the model did not load): as locally
            results = [exc] * len(chunk)
        if len(results) != len(chunk):
            error = SampleFailure(f"the worker returned {len(results)} results for {len(chunk)} samples")
            results = [error] * len(chunk)
        return [portable(result) for result in results]


@dataclass
class Chunk:
    items: Sequence[WorkItem]
    losses: int = 0  # how often a replica died while holding it


@dataclass
class RayEngine(Engine):
    """Run a stage on a Ray cluster; see the module docstring.

    ``replicas`` ``None`` starts as many as the cluster's CPUs and GPUs fit at
    ``cpus_per_replica`` / ``gpus_per_replica`` each. ``batch_size`` is the
    number of samples per actor call (default: the stage's model batch).
    A chunk lost with its replica ``max_losses`` times (a sample that kills
    its process) gets error records; with no replica alive for
    ``start_timeout`` seconds the run stops with an error.
    """

    name = "ray"

    address: str | None = None
    replicas: int | None = None
    gpus_per_replica: float = 0.0
    cpus_per_replica: float = 1.0
    batch_size: int | None = None
    in_flight: int = 2
    max_restarts: int = 3
    max_losses: int = 3
    start_timeout: float = 600.0
    poll_seconds: float = 1.0
    hold: bool = False  # keep a Ray connection this engine made after a run (until its session ends)
    started: bool = field(default=False, init=False, repr=False)  # this engine called ray.init

    def __post_init__(self) -> None:
        if self.replicas is not None and self.replicas < 1:
            raise OvmerError(f"replicas must be at least 1, got {self.replicas}")
        if self.gpus_per_replica < 0 or self.cpus_per_replica < 0:
            raise OvmerError("cpus and gpus per replica cannot be negative")
        if self.gpus_per_replica == 0 and self.cpus_per_replica == 0:
            raise OvmerError("a replica needs some CPUs or GPUs (both are 0), else Ray places any number")
        if self.batch_size is not None and self.batch_size < 1:
            raise OvmerError(f"batch_size must be at least 1, got {self.batch_size}")

    def stream(self, work: StageWork, todo: Sequence[WorkItem]) -> RayRun:
        return RayRun(self, work, todo)

    @contextlib.contextmanager
    def session(self) -> Iterator[RayEngine]:
        held, self.hold = self.hold, True
        try:
            yield self
        finally:
            self.hold = held
            if not held:
                self.disconnect()

    def connect(self) -> Any:
        """The ``ray`` module, connected as the module docstring says."""
        local = self.address is None and not os.environ.get("RAY_ADDRESS")
        ray = import_ray(starts_local_instance=local)
        if ray.is_initialized():
            return ray
        options: dict[str, Any] = {"logging_level": logging.WARNING}
        if local:
            options["include_dashboard"] = False
        try:
            ray.init(address=self.address or os.environ.get("RAY_ADDRESS") or "local", **options)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise OvmerError(f"cannot reach the Ray cluster at {self.address or 'RAY_ADDRESS'}: {exc}") from exc
        self.started = True
        return ray

    def disconnect(self) -> None:
        """Stop the local instance this engine started (or leave the cluster it joined); else nothing."""
        if self.started:
            import ray

            ray.shutdown()
            self.started = False


@dataclass
class RayRun:
    """One run of the engine: an iterator of ``(item, result)`` that stops its actors when closed."""

    engine: RayEngine
    work: StageWork
    todo: Sequence[WorkItem]
    alive: int = 0
    replicas: int = 0
    _results: Iterator[tuple[WorkItem, Result]] | None = field(default=None, repr=False)

    def __iter__(self) -> RayRun:
        return self

    def __next__(self) -> tuple[WorkItem, Result]:
        if self._results is None:
            self._results = self._run()
        return next(self._results)

    def close(self) -> None:
        if self._results is not None:
            self._results.close()

    def progress_fields(self) -> dict[str, str]:
        """What the stage's progress bar shows besides done/total and throughput."""
        return {"replicas": f"{self.alive}/{self.replicas}"}

    def _replica_count(self, ray: Any, chunks: int) -> int:
        engine = self.engine
        resources = ray.cluster_resources()
        cpus, gpus = float(resources.get("CPU", 0)), float(resources.get("GPU", 0))
        for asked, have, what in ((engine.cpus_per_replica, cpus, "CPU"), (engine.gpus_per_replica, gpus, "GPU")):
            if asked > have:
                raise OvmerError(
                    f"each replica asks for {asked:g} {what}(s) but the Ray cluster has {have:g}; "
                    f"lower --{what.lower()}s-per-replica or add nodes"
                )
        fits = min(
            math.floor(have / asked + 1e-9)
            for asked, have in ((engine.cpus_per_replica, cpus), (engine.gpus_per_replica, gpus))
            if asked > 0
        )
        return max(1, min(engine.replicas or fits, chunks))

    def _run(self) -> Iterator[tuple[WorkItem, Result]]:
        if not self.todo:
            return
        engine = self.engine
        size = engine.batch_size or max(1, self.work.batch_size)
        queue = deque(Chunk(self.todo[i : i + size]) for i in range(0, len(self.todo), size))
        ray = engine.connect()
        from ray.exceptions import ActorDiedError, RayActorError, RayTaskError

        actors: list[Any] = []
        try:
            self.replicas = self._replica_count(ray, len(queue))
            remote = ray.remote(Replica).options(
                num_cpus=engine.cpus_per_replica,
                num_gpus=engine.gpus_per_replica,
                max_restarts=engine.max_restarts,
                max_task_retries=0,  # a lost chunk goes back to the queue, for whichever replica is free
                scheduling_strategy="SPREAD",
            )
            # The worker travels with each actor's creation (not as an object-store reference), so Ray can
            # rebuild a restarted replica from it whatever happened to the node that held the original.
            try:
                actors = [remote.remote(self.work.worker, os.getcwd()) for _ in range(self.replicas)]
            except Exception as exc:  # pickling: a backend holding a lock, an open file, a live model...
                raise OvmerError(f"the stage's model cannot be sent to Ray replicas ({_summary(exc)}); "
                                 "give it unloaded, or run with --engine local") from exc
            starting = {actor.ready.remote(): index for index, actor in enumerate(actors)}
            running: dict[Any, tuple[int, Chunk]] = {}
            load = [0] * len(actors)
            live: set[int] = set()
            dead: dict[int, str] = {}
            last_live = time.monotonic()

            def lose(index: int, chunk: Chunk, error: Exception) -> list[tuple[WorkItem, Result]]:
                """The replica holding ``chunk`` died: requeue the chunk, wait for Ray to restart it."""
                if index in live:
                    live.discard(index)
                    starting[actors[index].ready.remote()] = index
                chunk.losses += 1
                if chunk.losses < engine.max_losses:
                    queue.appendleft(chunk)
                    return []
                return [(item, SampleFailure(f"{item.name}: the replica computing this sample died "
                                             f"{chunk.losses} times ({_summary(error)})")) for item in chunk.items]

            while queue or running:
                for index in sorted(live, key=load.__getitem__):
                    while queue and load[index] < engine.in_flight:
                        chunk = queue.popleft()
                        running[actors[index].run.remote(list(chunk.items))] = (index, chunk)
                        load[index] += 1
                self.alive = len(live)
                now = time.monotonic()
                if live or running:
                    last_live = now
                elif not starting or now - last_live > engine.start_timeout:
                    why = next(iter(dead.values()), "none started")
                    raise OvmerError(
                        f"no replica is alive on the Ray cluster ({why}); finished records are kept, "
                        "re-run to compute the rest"
                    )
                ready, _ = ray.wait([*running, *starting], num_returns=1, timeout=engine.poll_seconds)
                for ref in ready:
                    if ref in starting:
                        index = starting.pop(ref)
                        try:
                            ray.get(ref)
                        except ActorDiedError as exc:  # restarts used up, or it cannot be built at all
                            dead[index] = _summary(exc)
                        except RayActorError:  # unreachable for a moment: ask again
                            time.sleep(engine.poll_seconds / 4)
                            starting[actors[index].ready.remote()] = index
                        else:
                            live.add(index)
                        continue
                    index, chunk = running.pop(ref)
                    load[index] -= 1
                    try:
                        results = ray.get(ref)
                    except RayActorError as exc:  # its process or node died with the chunk in flight
                        yield from lose(index, chunk, exc)
                        continue
                    except RayTaskError as exc:  # the results could not come back (e.g. not picklable)
                        results = [SampleFailure(f"{item.name}: {_summary(exc)}") for item in chunk.items]
                    yield from zip(chunk.items, results, strict=True)
            self.alive = len(live)
        finally:
            for actor in actors:
                with contextlib.suppress(Exception):  # already gone with its node
                    ray.kill(actor, no_restart=True)
            if not engine.hold:
                engine.disconnect()


def _summary(exc: BaseException) -> str:
    """One line for a Ray error: its first line, and its last (the underlying exception) when they differ."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # Ray colours its messages for terminals
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
