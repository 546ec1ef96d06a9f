"""Synonym grouping: an LLM sorts each sample's ground-truth and predicted labels into synonym groups.

The groups feed the GPT-grouping metric through its cache
(:class:`ovmer.scoring.grouping.GroupingCache`).
"""

from ovmer.group.stage import group_labels, run_group

__all__ = ["group_labels", "run_group"]
