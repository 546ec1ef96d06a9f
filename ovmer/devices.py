"""Devices and dtypes for every torch model of the package: one resolver, the per-use default explicit.

``auto`` means float32 on the CPU for the media models; on CUDA each use names
its own default: the describe adapters take bfloat16 (float16 where the GPU
lacks it), Whisper ASR takes float16. The LLM text stages' transformers backend
resolves ``auto`` with :func:`llm_dtype_name`: on a CPU that computes bfloat16
natively (AVX512-BF16 or AMX) bfloat16, which is several times faster there,
else float32; on CUDA the checkpoint's own dtype. torch is imported only when a
name is resolved.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ovmer.errors import OvmerError

if TYPE_CHECKING:
    import torch

DTYPE_CHOICES: tuple[str, ...] = ("auto", "float32", "bfloat16", "float16")
_ALIASES = {
    "float32": "float32", "fp32": "float32", "float": "float32",
    "float16": "float16", "fp16": "float16", "half": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
}
CudaDefault = Literal["bfloat16", "float16"]
# /proc/cpuinfo flags of CPUs with bfloat16 arithmetic in hardware (oneDNN uses them for bf16 matmuls).
FAST_BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def check_dtype(dtype: str) -> str:
    """``dtype`` if it is ``auto`` or a known float type name (aliases such as ``bf16`` allowed)."""
    if dtype != "auto" and dtype not in _ALIASES:
        raise OvmerError(f"unknown dtype {dtype!r}; use auto, float32, float16 or bfloat16")
    return dtype


def dtype_name(dtype: str, device: str, *, cuda_default: CudaDefault) -> str:
    """The float type ``dtype`` stands for on ``device``: ``auto`` is float32 on CPU, ``cuda_default`` on CUDA.

    A bfloat16 default falls back to float16 on GPUs without bfloat16.
    """
    if check_dtype(dtype) != "auto":
        return _ALIASES[dtype]
    if not str(device).startswith("cuda"):
        return "float32"
    if cuda_default == "bfloat16":
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return cuda_default


def resolve_dtype(dtype: str, device: str | torch.device, *, cuda_default: CudaDefault) -> torch.dtype:
    """The torch dtype of :func:`dtype_name`."""
    import torch

    return getattr(torch, dtype_name(dtype, str(device), cuda_default=cuda_default))


def resolve_device(device: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when torch sees a GPU); CUDA without a GPU is an error."""
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise OvmerError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise OvmerError(f"device {device!r} requested but torch sees no CUDA GPU")
    return resolved


@functools.cache
def cpu_has_fast_bfloat16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU has bfloat16 instructions (AVX512-BF16 or AMX); False where that cannot be read."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(FAST_BF16_CPU_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


def llm_dtype_name(dtype: str, device: str, checkpoint_dtype: str | None) -> str:
    """The float type an LLM runs in: ``dtype``, or for ``auto`` bfloat16 on a CPU with fast bfloat16,
    float32 on other CPUs and the checkpoint's own dtype (``checkpoint_dtype``, float32 if unknown) on CUDA.
    """
    if check_dtype(dtype) != "auto":
        return _ALIASES[dtype]
    if str(device).startswith("cuda"):
        return _ALIASES.get(str(checkpoint_dtype), "float32")
    return "bfloat16" if cpu_has_fast_bfloat16() else "float32"
