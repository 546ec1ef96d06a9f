"""Append-only per-sample results store shared by every stage."""

from ovmer.store.jsonl import Record, ResultsStore, compute_key, store_path
from ovmer.store.runner import StageSummary, run_stage

__all__ = ["Record", "ResultsStore", "StageSummary", "compute_key", "run_stage", "store_path"]
