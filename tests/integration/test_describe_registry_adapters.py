"""The baseline registry's native entries: their adapter classes import and build without loading weights."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
from describe_helpers import NATIVE

from ovmer.describe.adapter import DescribeAdapter
from ovmer.describe.registry import BASELINES, create_adapter, get_baseline


@pytest.mark.parametrize("name", list(NATIVE))
def test_native_entries_point_at_adapter_classes(name: str) -> None:
    spec = get_baseline(name)
    model_class, checkpoint = NATIVE[name]
    assert spec.run == "native" and spec.checkpoint == checkpoint
    module_name, _, class_name = spec.adapter.partition(":")
    module = importlib.import_module(module_name)
    adapter_cls = getattr(module, class_name)
    assert issubclass(adapter_cls, DescribeAdapter)
    assert model_class in (module.__doc__ or ""), "the adapter module documents the transformers class it runs"


def test_create_adapter_builds_without_loading() -> None:
    adapter = create_adapter("video-llava", model_path="/nowhere", device="cpu", dtype="float32",
                             max_new_tokens=7)
    assert adapter.spec is BASELINES["Video-LLaVA"]
    assert (adapter.model_path, adapter.device, adapter.dtype, adapter.max_new_tokens) == (
        "/nowhere", "cpu", "float32", 7)
    assert adapter.model is None
    assert adapter.generation_settings() == {"max_new_tokens": 7, "do_sample": False, "dtype": "float32"}


def test_one_adapter_class_serves_several_entries() -> None:
    small = create_adapter("Qwen2.5-Omni-3B")
    big = create_adapter("Qwen2.5-Omni")
    assert type(small) is type(big)
    assert small.spec.checkpoint == "Qwen/Qwen2.5-Omni-3B" and big.spec.checkpoint == "Qwen/Qwen2.5-Omni-7B"
    assert "video_max_pixels" in big.generation_settings()


def test_registry_prompts_and_cli_import_no_heavy_modules() -> None:
    code = (
        "import sys; import ovmer.describe.registry, ovmer.describe.prompts, ovmer.describe.cli_baselines; "
        "heavy = [m for m in ('torch', 'transformers', 'pandas') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
