"""Open-vocabulary label extraction: a description -> the main character's emotion labels.

Backends: any LLM backend of :mod:`ovmer.llm` with the extraction prompt, or
``cpu``, the model-free extractor of :mod:`ovmer.extract.cpu`.
"""

from ovmer.extract.stage import CPU_BACKEND, run_extract, run_extract_repeats

__all__ = ["CPU_BACKEND", "run_extract", "run_extract_repeats"]
