"""The LLM stages' prompts: the merge, extract and group entries of the one prompt store.

Kept for the names it has always exported; the store itself is :mod:`ovmer.prompts`.
"""

from __future__ import annotations

from ovmer.prompts import CURRENT_PROMPTS, PLACEHOLDER, PromptTemplate, available_prompts, load_prompt

__all__ = ["PLACEHOLDER", "STAGE_PROMPTS", "PromptTemplate", "available_prompts", "load_prompt"]

# The prompt each text stage uses by default.
STAGE_PROMPTS: dict[str, str] = {stage: CURRENT_PROMPTS[stage] for stage in ("merge", "extract", "group")}
