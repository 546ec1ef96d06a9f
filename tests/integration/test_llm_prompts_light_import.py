"""Importing the text stages (merge, extract, group) imports no torch, checked in a fresh process."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_text_stages_does_not_import_torch() -> None:
    code = (
        "import sys, ovmer.llm, ovmer.llm.cli, ovmer.merge, ovmer.extract, ovmer.group, "
        "ovmer.llm.openai_backend, ovmer.llm.replay, ovmer.llm.vllm_backend, ovmer.llm.transformers_backend; "
        "print(sorted(m for m in ('torch', 'transformers', 'vllm') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
