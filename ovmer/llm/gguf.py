"""GGUF files as LLM models: read once by transformers, converted to a cached safetensors folder.

A ``.gguf`` path given as ``--model`` is dequantised by transformers' GGUF
reader (``from_pretrained(folder, gguf_file=name)``, which needs the ``gguf``
and ``accelerate`` packages) and saved as a float32 safetensors folder with its
tokenizer and chat template, under ``<data cache>/gguf/<sha256 prefix>-<stem>``.
Every backend then loads that folder: transformers directly, vLLM (which
cannot read the GGUF itself) by path. The conversion runs once per file
content; later loads find the folder. It is its own step, with a progress
message (``ovmer convert-gguf FILE`` runs it alone and prints the folder, e.g.
for ``vllm serve``).

In store keys a GGUF model is its file's stem (``model_id``) and a revision made
of its sha256, so a re-quantised file never passes for the old one.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ovmer.errors import OvmerError
from ovmer.keys import file_identity
from ovmer.paths import cache_dir

SUFFIX = ".gguf"
MARKER = "ovmer-gguf.json"  # written last: a folder without it is an interrupted conversion
INSTALL_HINT = "reading GGUF files needs the gguf and accelerate packages: pip install 'ovmer[models]'"


def is_gguf(model: str | os.PathLike[str]) -> bool:
    """Whether ``model`` names a GGUF file (by its suffix)."""
    return str(model).lower().endswith(SUFFIX)


@functools.cache
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    return str(file_identity(path)["sha256"])


def gguf_sha256(path: Path) -> str:
    """The file's sha256, computed once per process for an unchanged file."""
    stat = path.stat()
    return _sha256(path, stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class GGUFModel:
    """A GGUF file and the folder its conversion lives in."""

    file: Path
    sha256: str
    folder: Path

    @property
    def model_id(self) -> str:
        return self.file.name[: -len(SUFFIX)]

    @property
    def revision(self) -> str:
        return f"gguf-{self.sha256[:16]}"

    @property
    def converted(self) -> bool:
        return (self.folder / MARKER).is_file()


def gguf_model(path: str | os.PathLike[str], cache: str | os.PathLike[str] | None = None) -> GGUFModel:
    """The GGUF file at ``path`` and its (maybe not yet made) converted folder; nothing is converted."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise OvmerError(f"{file}: no such GGUF file")
    with open(file, "rb") as handle:
        if handle.read(4) != b"GGUF":
            raise OvmerError(f"{file}: not a GGUF file (it does not start with the GGUF magic bytes)")
    sha = gguf_sha256(file)
    root = Path(cache).expanduser() if cache is not None else cache_dir() / "gguf"
    return GGUFModel(file, sha, root / f"{sha[:16]}-{file.name[: -len(SUFFIX)]}")


def gguf_architecture(path: Path) -> str:
    """``general.architecture`` from the file's metadata (``"?"`` when unreadable)."""
    try:
        from gguf import GGUFReader

        field = GGUFReader(str(path)).fields["general.architecture"]
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    except Exception:
        return "?"


def readable_architectures() -> list[str]:
    """The GGUF architectures the installed transformers can read."""
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    return [a for a in GGUF_SUPPORTED_ARCHITECTURES if a not in ("general", "tokenizer")]


def convert_gguf(
    path: str | os.PathLike[str], *, cache: str | os.PathLike[str] | None = None, progress: bool = True
) -> GGUFModel:
    """The converted folder of GGUF ``path``, made now if it is not in the cache yet."""
    model = gguf_model(path, cache)
    if model.converted:
        return model
    try:
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise OvmerError(f"{model.file}: {INSTALL_HINT} ({exc})") from exc
    if progress:
        print(f"converting {model.file.name} to a safetensors folder (once per file; about 1-2 GB of memory "
              f"per 100M parameters) -> {model.folder}", file=sys.stderr, flush=True)
    started = time.monotonic()
    where, name = model.file.parent, model.file.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(where, gguf_file=name)
        weights = AutoModelForCausalLM.from_pretrained(where, gguf_file=name, dtype="float32")
    except ImportError as exc:
        raise OvmerError(f"{model.file}: {INSTALL_HINT} ({exc})") from exc
    except ValueError as exc:
        if "not supported" in str(exc):
            raise OvmerError(
                f"{model.file}: transformers {transformers.__version__} cannot read the GGUF architecture "
                f"{gguf_architecture(model.file)!r}; it reads {', '.join(readable_architectures())}. "
                "Use a model folder instead, or a GGUF file of one of those"
            ) from exc
        raise OvmerError(f"{model.file}: transformers cannot read this GGUF file ({exc})") from exc
    # A GGUF-loaded model keeps its quantizer, and save_pretrained refuses it: the weights are
    # already dequantised, so drop both the quantizer and the config's record of it.
    weights.hf_quantizer = None
    if hasattr(weights.config, "quantization_config"):
        del weights.config.quantization_config
    partial = model.folder.with_name(f".partial-{model.folder.name}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    weights.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    (partial / MARKER).write_text(json.dumps({
        "source": name, "sha256": model.sha256, "transformers": transformers.__version__,
    }, indent=2) + "\n")
    del weights
    shutil.rmtree(model.folder, ignore_errors=True)  # an interrupted conversion's leftovers
    os.replace(partial, model.folder)
    if progress:
        print(f"converted {name} in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return model
