"""Set-up shared by every test layer: offline Hugging Face, and the helper modules on sys.path.

The layers are folders: ``tests/unit`` (no assets, models, subprocesses or
network: seconds) and ``tests/integration`` (assets, tiny models, notebooks,
servers). Each layer's conftest.py prepares what its tests may touch.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TESTS = Path(__file__).resolve().parent
# The helper modules (llm_helpers, media_helpers, ...) live here and are imported as top-level modules.
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
