"""Clue merging (setting S2): an LLM merges a nosubtitle description with the subtitle."""

from ovmer.merge.stage import UNABLE_TO_JUDGE, merge_tasks, run_merge

__all__ = ["UNABLE_TO_JUDGE", "merge_tasks", "run_merge"]
