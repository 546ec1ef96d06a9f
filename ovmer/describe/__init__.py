"""Stage 1, describe: an MLLM watches/listens to a sample and writes an emotion description.

A model of your own is one :class:`DescribeAdapter` subclass with a
:class:`BaselineSpec`, made a baseline by :func:`register_adapter` (in a file
given to ``ovmer --include``) or by an ``ovmer.adapters`` entry point; one that
runs in its own environment is a spec (``run="external"``) given to
:func:`register_baseline`, driven by ``ovmer describe --external-cmd``.
"""

from ovmer.describe.adapter import BaselineSpec, DescribeAdapter, FramePolicy
from ovmer.describe.registry import register_adapter, register_baseline

__all__ = ["BaselineSpec", "DescribeAdapter", "FramePolicy", "register_adapter", "register_baseline"]
