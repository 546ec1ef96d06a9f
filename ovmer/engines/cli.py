"""The engine options every model stage's command shares: ``--engine local|ray`` and Ray's placement."""

from __future__ import annotations

import argparse

from ovmer.engines import ENGINES, Engine, resolve_engine
from ovmer.errors import OvmerError

# command-line option -> RayEngine field
RAY_OPTIONS = {"ray_address": "address", "replicas": "replicas", "gpus_per_replica": "gpus_per_replica",
               "cpus_per_replica": "cpus_per_replica"}


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("engine (where the model runs)")
    group.add_argument("--engine", default="local", choices=ENGINES.names(),
                       help="local: this process (default); ray: one replica per model copy on a Ray cluster "
                            "(the same records; needs pip install 'ovmer[distributed]')")
    group.add_argument("--ray-address", metavar="ADDR",
                       help="the Ray cluster's head, e.g. 10.0.0.1:6379, or auto: the cluster started on this "
                            "machine with `ray start` (default: RAY_ADDRESS, else a new local instance on 127.0.0.1)")
    group.add_argument("--replicas", type=int, metavar="N",
                       help="model replicas (default: as many as the cluster's CPUs/GPUs fit)")
    group.add_argument("--gpus-per-replica", type=float, metavar="G",
                       help="GPUs each replica holds (default 0; give 1 with --device cuda)")
    group.add_argument("--cpus-per-replica", type=float, metavar="C",
                       help="CPUs each replica holds (default 1)")


def engine_from_args(args: argparse.Namespace) -> Engine:
    """The engine the options ask for; Ray options without ``--engine ray`` are an error, not ignored."""
    given = {name: getattr(args, name) for name in RAY_OPTIONS if getattr(args, name) is not None}
    if args.engine != "ray":
        if given:
            flags = ", ".join(f"--{name.replace('_', '-')}" for name in given)
            raise OvmerError(f"{flags} only apply with --engine ray")
        return resolve_engine(args.engine)
    # One engine for every run of the command (all baselines and settings): a local Ray instance it
    # starts stays up until the command ends (Ray stops it at exit).
    engine = vars(args).get("_engine")
    if engine is None:
        engine = resolve_engine("ray", hold=True, **{RAY_OPTIONS[name]: value for name, value in given.items()})
        args._engine = engine
    return engine
