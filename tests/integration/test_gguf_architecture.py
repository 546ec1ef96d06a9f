"""A GGUF file of an architecture transformers cannot read is refused by name, with what it can read."""

from __future__ import annotations

from pathlib import Path

import pytest

from ovmer.errors import OvmerError
from ovmer.llm.gguf import convert_gguf, gguf_architecture

gguf = pytest.importorskip("gguf", reason="gguf not installed (pip install 'ovmer[models]')")
pytest.importorskip("transformers")


def write_gguf(path: Path, architecture: str) -> Path:
    """A minimal valid GGUF file: its architecture, one block, one small tensor."""
    import numpy as np

    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_block_count(1)
    writer.add_tensor("token_embd.weight", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_an_unreadable_architecture_is_named_with_the_readable_ones(tmp_path: Path) -> None:
    model = write_gguf(tmp_path / "recurrent.gguf", "rwkv7")
    assert gguf_architecture(model) == "rwkv7"
    with pytest.raises(OvmerError) as caught:
        convert_gguf(model, cache=tmp_path / "cache", progress=False)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{model}: transformers")
    assert "cannot read the GGUF architecture 'rwkv7'" in message and "llama" in message and "qwen2" in message
    assert not list((tmp_path / "cache").rglob("*.safetensors"))  # nothing half-converted is left to reuse
