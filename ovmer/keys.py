"""What every stage's store keys hash: file and model fingerprints, and the key of each kind of record.

A record's key is :func:`ovmer.store.compute_key` of everything its output
depends on; a re-run skips a sample whose latest record is ok with the same
key. So these functions are a file format: the same inputs must give the same
key in every release, or finished work is redone (``tests/unit/test_keys.py``
pins them).

Model identities come in two forms, both kept as they were first written:

- :func:`model_fingerprint` (describe and ASR records): every file of a model
  folder by name, small files (configs, tokenizers) by sha256, weights by size;
- :func:`folder_fingerprint` (the transformers and vLLM LLM backends' ``revision``):
  a short sha256 of ``config.json``, the weight files' names and sizes and, since
  0.2, the tokenizer, chat-template and generation-config files' content
  (:data:`TEXT_MODEL_SUFFIXES`): a new chat template changes every reply, so it
  must change the key. A folder without such files keeps its old fingerprint;
  replies stored for a folder with them under the old recipe are recomputed once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ovmer.messages import ChatMessage, text_messages
from ovmer.settings import Setting
from ovmer.store.jsonl import compute_key

if TYPE_CHECKING:
    from ovmer.describe.adapter import FramePolicy
    from ovmer.llm.client import LLMBackend
    from ovmer.llm.presets import GenerationSettings
    from ovmer.prompts import PromptTemplate

# Model files up to this size are hashed; larger ones (weights) are identified by name and size.
HASHED_MODEL_FILE_BYTES = 4 << 20
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")
# Top-level files of a model folder that shape its replies besides the weights: tokenizer files,
# chat templates (chat_template.jinja / .json), generation_config.json. Hashed whatever their size.
TEXT_MODEL_SUFFIXES = (".json", ".jinja", ".txt", ".model", ".tiktoken")

# --------------------------------------------------------------------------- fingerprints


def file_identity(path: str | os.PathLike[str], chunk: int = 1 << 20) -> dict[str, object]:
    """``{size, sha256}`` of a file (what a result depends on), or ``{missing: path}``.

    Content, not mtime: shards run on other machines see the same identity after a copy.
    """
    path = Path(path)
    if not path.is_file():
        return {"missing": str(path)}
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}


class FileIdentities:
    """File identities computed once per file per run."""

    def __init__(self) -> None:
        self._cache: dict[Path, dict[str, object]] = {}

    def __call__(self, path: Path | None) -> dict[str, object] | None:
        if path is None:
            return None
        if path not in self._cache:
            self._cache[path] = file_identity(path)
        return self._cache[path]


def model_fingerprint(model_path: str | os.PathLike[str] | None, fallback: str = "") -> dict[str, Any]:
    """Identity of a local model folder: every file's name and size, small files' sha256 too.

    Weights are not hashed (tens of GB); their names and sizes, with the config and
    tokenizer files' checksums, change whenever the checkpoint does. ``fallback``
    (the registry's checkpoint name) stands for the model when no folder is given.
    """
    if model_path is None:
        return {"checkpoint": fallback}
    root = Path(model_path).expanduser()
    if root.is_file():
        return {"checkpoint": fallback, "file": {"name": root.name, **file_identity(root)}}
    if not root.is_dir():
        return {"checkpoint": fallback, "path": str(root)}
    files: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or any(part.startswith(".") for part in Path(rel).parts):
            continue
        size = path.stat().st_size
        files[rel] = file_identity(path)["sha256"] if size <= HASHED_MODEL_FILE_BYTES else size
    return {"checkpoint": fallback, "files": files}


def folder_fingerprint(folder: Path) -> str:
    """sha256 of config.json, the weight files' names and sizes, and the tokenizer/template files.

    Weights are not read (cheap). The tokenizer, chat-template and generation-config
    files are hashed after the rest, so a folder that has none keeps the fingerprint of
    the first recipe (see the module docstring).
    """
    digest = hashlib.sha256()
    config = folder / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    files = sorted(path for path in folder.iterdir() if path.is_file())
    for path in files:
        if path.suffix in WEIGHT_SUFFIXES:
            digest.update(f"{path.name}:{path.stat().st_size}\n".encode())
    for path in files:
        if path.suffix in TEXT_MODEL_SUFFIXES and path.name != "config.json":
            digest.update(f"{path.name}:{file_identity(path)['sha256']}\n".encode())
    return digest.hexdigest()[:16]


def model_revision(model: str) -> str | None:
    """:func:`folder_fingerprint` of a local model folder, or of a hub id's cached snapshot; else None.

    For a hub id (``org/name``) the snapshot in the local Hugging Face cache is the
    one a backend would load offline; when none is cached the revision is unknown.
    """
    folder = Path(model).expanduser()
    if folder.is_dir():
        return folder_fingerprint(folder)
    snapshot = hub_snapshot(model)
    return folder_fingerprint(snapshot) if snapshot is not None else None


def hub_snapshot(repo_id: str) -> Path | None:
    """The folder of a hub model's snapshot in the default Hugging Face cache, without any network call.

    None when it is not cached, when ``repo_id`` is no hub id, or without ``huggingface_hub``.
    """
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # ImportError, or a name the hub library refuses as a repo id
        return None
    return Path(found).parent if isinstance(found, str) else None


# --------------------------------------------------------------------------- keys


def describe_key(
    *,
    baseline: str,
    model: dict[str, Any],
    prompt: Any,  # a RenderedPrompt: id, sha256, system, text
    generation: dict[str, object],
    frames: FramePolicy,
    visual: str,
    media: dict[str, object],
    setting: Setting,
    runner: str = "native",
    extra: dict[str, Any] | None = None,
) -> str:
    """One describe record: baseline, model files, prompt, generation settings, frames, media, setting."""
    return compute_key(
        stage="describe",
        baseline=baseline,
        model=model,
        prompt={"id": prompt.id, "sha256": prompt.sha256, "system": prompt.system, "text": prompt.text},
        generation=generation,
        frames={"num_frames": frames.num_frames, "fps": frames.fps, "max_frames": frames.max_frames},
        visual=visual,
        media=media,
        setting=setting.value,
        runner=runner,
        extra=extra or {},
    )


def asr_key(*, settings: dict[str, Any], model: dict[str, Any], audio: dict[str, object] | None) -> str:
    """One transcript: the transcriber's settings, the model folder and the audio file."""
    return compute_key(stage="asr", settings=settings, model=model, audio=audio)


def llm_key(
    stage: str,
    backend: LLMBackend,
    prompt: PromptTemplate,
    messages: Sequence[ChatMessage],
    settings: GenerationSettings,
) -> str:
    """One LLM reply of a text stage: backend, model and revision, prompt, the conversation, settings.

    A backend's :meth:`~ovmer.llm.client.LLMBackend.key_fields` (a dtype other than the
    checkpoint's) join them only when it has some, so keys without them are unchanged.
    """
    return compute_key(
        stage=stage,
        backend=backend.name,
        model=backend.model_id,
        revision=backend.revision,
        **prompt.identity(),
        messages=text_messages(messages),
        settings=settings.as_dict(),
        **backend.key_fields(),
    )


def rule_key(stage: str, rule: str, inputs: Any) -> str:
    """A value a text stage settles by a rule, without a model call (an empty description...)."""
    return compute_key(stage=stage, rule=rule, inputs=inputs)


def cpu_extract_key(model: str, description: str) -> str:
    """One label list of the model-free CPU extractor (``model`` is its fingerprint)."""
    return compute_key(stage="extract", backend="cpu", model=model, description=description)


def request_sha256(request: Any) -> str:
    """sha256 of a server request's recipe (canonical JSON): what a describe key adds for a served model.

    The OpenAI-compatible describe adapter hashes everything of its request body
    but the sample's own inputs (prompt and media, which the describe key holds
    already): the served model's name, the sampling fields, how media are encoded.
    """
    return compute_key(stage="describe-request", request=request)


def payload_sha256(payload: bytes) -> str:
    """sha256 of the exact bytes sent to a server (recorded with the record, to audit what was sent)."""
    return hashlib.sha256(payload).hexdigest()
