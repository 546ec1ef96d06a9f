"""Engines without a cluster: the registry, the options, the local engine and the replica's own logic."""

from __future__ import annotations

import argparse
import builtins
import sys

import pytest

from ovmer.engines import ENGINES, StageWork, each_sample, portable, resolve_engine, run_work
from ovmer.engines.cli import add_engine_arguments, engine_from_args
from ovmer.engines.local import LocalEngine
from ovmer.engines.ray_engine import RayEngine, Replica
from ovmer.errors import OvmerError
from ovmer.registry import UnknownNameError
from ovmer.store.jsonl import ResultsStore
from ovmer.store.runner import SampleFailure, WorkItem


class Doubler:
    """A worker that fails on names starting with 'bad' and counts its calls."""

    def __init__(self) -> None:
        self.chunks: list[list[str]] = []

    def __call__(self, chunk):
        self.chunks.append([item.name for item in chunk])
        return each_sample(self.one, chunk)

    def one(self, item):
        if item.name.startswith("bad"):
            raise ValueError(f"{item.name} is broken")
        return item.name, item.payload * 2


def items(*names: str) -> list[WorkItem]:
    return [WorkItem(name, f"key-{name}", i) for i, name in enumerate(names)]


def test_engine_registry_names_and_did_you_mean() -> None:
    assert ENGINES.names() == ["local", "ray"]
    assert isinstance(resolve_engine(), LocalEngine) and isinstance(resolve_engine("Ray"), RayEngine)
    engine = RayEngine(replicas=2)
    assert resolve_engine(engine) is engine
    with pytest.raises(UnknownNameError, match="Did you mean 'ray'"):
        resolve_engine("rya")


def test_local_engine_runs_chunks_in_order_and_records_each_failure(tmp_path) -> None:
    worker = Doubler()
    store = ResultsStore(tmp_path / "s.jsonl")
    summary = run_work(store, items("a", "bad1", "c", "d", "e"), StageWork(worker, batch_size=2), LocalEngine(),
                       progress=False, abort_after=None)
    assert (summary.done, summary.failed) == (4, 1)
    assert worker.chunks == [["a", "bad1"], ["c", "d"], ["e"]]
    latest = store.latest()
    assert latest["e"].value == 8 and latest["bad1"].error == "ValueError: bad1 is broken"
    again = Doubler()
    assert run_work(store, items("a", "bad1", "c", "d", "e"), StageWork(again), LocalEngine(),
                    progress=False).skipped == 4
    assert again.chunks == [["bad1"]]  # only the failed sample runs again


def test_a_replica_turns_results_into_what_the_local_runner_records() -> None:
    replica = Replica(Doubler(), cwd="")
    ok, bad = replica.run(items("a", "bad"))
    assert ok == ("a", 0)
    # the exception travels as the exact text run_stage would record for it locally
    assert isinstance(bad, SampleFailure) and str(bad) == "ValueError: bad is broken"

    def broken(chunk):
        raise RuntimeError("no model here")

    assert [str(r) for r in Replica(broken, cwd="").run(items("x", "y"))] == ["RuntimeError: no model here"] * 2
    assert [str(r) for r in Replica(lambda chunk: [], cwd="").run(items("x"))] == [
        "the worker returned 0 results for 1 samples"]
    assert portable(SampleFailure("as is")).args == ("as is",) and portable(("raw", 1)) == ("raw", 1)
    from ovmer.llm.client import ReplyError

    rejected = portable(ReplyError("s1: cannot parse the reply", raw="I cannot help with that"))
    assert (str(rejected), rejected.raw) == ("ReplyError: s1: cannot parse the reply", "I cannot help with that")


def test_ray_engine_checks_its_placement_options() -> None:
    with pytest.raises(OvmerError, match="replicas must be at least 1"):
        RayEngine(replicas=0)
    with pytest.raises(OvmerError, match="cannot be negative"):
        RayEngine(gpus_per_replica=-1)
    with pytest.raises(OvmerError, match="both are 0"):
        RayEngine(cpus_per_replica=0)


def test_nothing_to_do_starts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Ray may already be imported by an earlier test of the session: hide it, and fail on any import.
    monkeypatch.delitem(sys.modules, "ray", raising=False)
    imported: list[str] = []
    real_import = builtins.__import__

    def refuse_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray" or name.startswith("ray."):
            imported.append(name)
            raise ImportError("this test refuses to import ray")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse_ray)
    worker = Doubler()
    assert list(RayEngine().stream(StageWork(worker), [])) == [] and worker.chunks == []
    assert imported == []  # a finished run does not even import Ray


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_engine_arguments(parser)
    return parser.parse_args(argv)


def test_engine_options_from_the_command_line() -> None:
    assert isinstance(engine_from_args(parse()), LocalEngine)
    args = parse("--engine", "ray", "--ray-address", "10.0.0.1:6379", "--replicas", "4",
                 "--gpus-per-replica", "1", "--cpus-per-replica", "2")
    engine = engine_from_args(args)
    assert (engine.address, engine.replicas, engine.gpus_per_replica, engine.cpus_per_replica) == (
        "10.0.0.1:6379", 4, 1.0, 2.0)
    assert engine.hold and engine_from_args(args) is engine  # one engine for every run of the command
    defaults = engine_from_args(parse("--engine", "ray"))
    assert (defaults.address, defaults.replicas, defaults.gpus_per_replica, defaults.cpus_per_replica) == (
        None, None, 0.0, 1.0)
    with pytest.raises(OvmerError, match="--replicas, --gpus-per-replica only apply with --engine ray"):
        engine_from_args(parse("--replicas", "2", "--gpus-per-replica", "1"))


def test_stage_notebooks_plan_their_engine(tmp_path) -> None:
    from ovmer.reproduce.stage_describe import plan_describe
    from ovmer.reproduce.stages import plan_stage

    local = plan_stage("extract", smoke=True, baselines=["Otter"], backend="cpu", output=str(tmp_path))
    assert local.engine == "local" and " on " not in repr(local)  # the stored notebook outputs stay as they were
    on_ray = plan_stage("merge", smoke=True, baselines=["Otter"], backend="replay", output=str(tmp_path),
                        engine="Ray")
    assert on_ray.engine == "ray" and "backend replay on ray;" in repr(on_ray)
    run = plan_describe(smoke=True, baseline="Otter", backend="run", data_dir=str(tmp_path), engine="ray")
    assert run.engine == "ray" and "(cpu) on ray" in repr(run)
    with pytest.raises(UnknownNameError, match="Did you mean 'ray'"):
        plan_stage("extract", smoke=True, baselines=[], backend="cpu", engine="ary")
