"""Subtitles for clips that have none: speech recognition into the results store, then a subtitle csv.

The MER2025 data ships ``subtitle_chieng.csv``; users describing their own clips
need this stage before the ``subtitle`` setting. Two backends behind one tiny
contract (``load()``, ``transcribe(waveform) -> str``), chosen by name:

* ``whisper``: transformers' ``WhisperForConditionalGeneration`` and
  ``WhisperProcessor`` from a local model folder (any Whisper checkpoint saved
  with ``save_pretrained``); clips longer than 30 s are cut into 30 s windows.
* ``whisperx``: the whisperx package (CTranslate2 Whisper with VAD batching),
  imported only when chosen; it lives in ``environment_whisperx.yml``.

Records go to ``store/asr/<backend>-<model folder>/nosubtitle.jsonl`` (the setting
slot says the clip is read without any subtitle); :func:`write_subtitle_csv` turns
them into the dataset's ``subtitle_chieng.csv`` columns.
"""

from __future__ import annotations

import difflib
import importlib
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ovmer.errors import OvmerError
from ovmer.settings import Setting
from ovmer.store.jsonl import ResultsStore, compute_key, store_path
from ovmer.store.runner import StageSummary, WorkItem, run_stage

STAGE = "asr"
ASR_SETTING = Setting.NOSUBTITLE
SAMPLE_RATE = 16_000
WINDOW_SECONDS = 30  # Whisper's fixed input length
Task = Literal["transcribe", "translate"]

ASR_BACKENDS: dict[str, str] = {
    "whisper": "ovmer.describe.asr:WhisperTranscriber",
    "whisperx": "ovmer.describe.asr:WhisperXTranscriber",
}


class Transcriber:
    """Base of the ASR backends: ``load()`` then ``transcribe(waveform)`` on 16 kHz mono float32."""

    backend = ""

    def __init__(
        self,
        model_path: str,
        device: str = "cpu",
        dtype: str = "auto",
        language: str | None = None,
        task: Task = "transcribe",
        max_new_tokens: int = 200,
    ) -> None:
        if task not in ("transcribe", "translate"):
            raise OvmerError(f"ASR task must be transcribe or translate, got {task!r}")
        self.model_path = model_path
        self.device = device
        self.dtype = dtype
        self.language = language
        self.task = task
        self.max_new_tokens = max_new_tokens

    def settings(self) -> dict[str, Any]:
        """Everything besides the audio that the text depends on (part of the store key)."""
        return {"backend": self.backend, "language": self.language, "task": self.task,
                "max_new_tokens": self.max_new_tokens, "dtype": self.dtype}

    def load(self) -> None:
        raise NotImplementedError

    def transcribe(self, waveform: np.ndarray) -> str:
        raise NotImplementedError


def _torch_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    try:
        return {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype]
    except KeyError:
        raise OvmerError(f"dtype must be auto, float32, float16 or bfloat16, got {dtype!r}") from None


def _check_model_folder(model_path: str | None) -> Path:
    if not model_path:
        raise OvmerError("ASR needs --model-path: a local folder holding a Whisper checkpoint")
    path = Path(model_path).expanduser()
    if not path.exists():
        raise OvmerError(f"{path}: ASR model folder does not exist")
    return path


class WhisperTranscriber(Transcriber):
    """transformers Whisper from a local folder; greedy decoding, 30 s windows."""

    backend = "whisper"

    def load(self) -> None:
        path = _check_model_folder(self.model_path)
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self._torch = torch
        self._dtype = _torch_dtype(self.dtype, self.device)
        self.processor = WhisperProcessor.from_pretrained(str(path))
        model = WhisperForConditionalGeneration.from_pretrained(str(path), dtype=self._dtype)
        self.model = model.to(self.device).eval()
        # The decoder's positions bound prompt + answer; leave room for the 4 prompt tokens.
        room = int(self.model.config.max_target_positions) - 4
        self._max_new = max(1, min(self.max_new_tokens, room))

    def transcribe(self, waveform: np.ndarray) -> str:
        window = WINDOW_SECONDS * SAMPLE_RATE
        pieces = [waveform[i : i + window] for i in range(0, max(1, len(waveform)), window)]
        features = self.processor.feature_extractor(
            pieces, sampling_rate=SAMPLE_RATE, return_tensors="pt"
        ).input_features.to(self.device, self._dtype)
        kwargs: dict[str, Any] = {"max_new_tokens": self._max_new, "do_sample": False}
        if self.language is not None or self.task != "transcribe":
            kwargs.update(language=self.language, task=self.task)
        with self._torch.inference_mode():
            ids = self.model.generate(features, **kwargs)
        texts = self.processor.batch_decode(ids, skip_special_tokens=True)
        return " ".join(t.strip() for t in texts if t.strip())


class WhisperXTranscriber(Transcriber):
    """whisperx (``pip install whisperx``, see environment_whisperx.yml); batched with VAD."""

    backend = "whisperx"

    def __init__(self, *args: Any, batch_size: int = 16, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_size = batch_size

    def load(self) -> None:
        try:
            whisperx = importlib.import_module("whisperx")
        except ImportError as exc:
            raise OvmerError(
                "the whisperx backend needs the whisperx package; create the environment in "
                "environment_whisperx.yml, or use --backend whisper"
            ) from exc
        compute_type = "float16" if self.device.startswith("cuda") and self.dtype in ("auto", "float16") else "float32"
        self.model = whisperx.load_model(
            self.model_path, self.device, compute_type=compute_type, language=self.language, task=self.task
        )

    def transcribe(self, waveform: np.ndarray) -> str:
        result = self.model.transcribe(waveform.astype(np.float32), batch_size=self.batch_size)
        return " ".join(seg["text"].strip() for seg in result.get("segments", []) if seg.get("text", "").strip())


def create_transcriber(backend: str, model_path: str, **kwargs: Any) -> Transcriber:
    """The backend named ``backend`` (did-you-mean on typos), not yet loaded."""
    backend = backend.strip().lower()
    if backend not in ASR_BACKENDS:
        close = difflib.get_close_matches(backend, ASR_BACKENDS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise OvmerError(f"unknown ASR backend {backend!r}{hint} (backends: {', '.join(ASR_BACKENDS)})")
    module_name, class_name = ASR_BACKENDS[backend].split(":")
    return getattr(importlib.import_module(module_name), class_name)(model_path, **kwargs)


def asr_store(name: str, store_root: str | os.PathLike[str] | None = None,
              shard: tuple[int, int] | None = None) -> ResultsStore:
    return ResultsStore(store_path(STAGE, name, ASR_SETTING, root=store_root, shard=shard))


def default_store_name(backend: str, model_path: str | None) -> str:
    return f"{backend}-{Path(model_path).name}" if model_path else backend


def run_asr(
    data_dir: str | os.PathLike[str],
    model_path: str,
    *,
    backend: str = "whisper",
    device: str = "cpu",
    dtype: str = "auto",
    language: str | None = None,
    task: Task = "transcribe",
    max_new_tokens: int = 200,
    limit: int | None = None,
    shard: tuple[int, int] | str | None = None,
    names: Iterable[str] | None = None,
    store_root: str | os.PathLike[str] | None = None,
    store_name: str | None = None,
    progress: bool = True,
    transcriber: Transcriber | None = None,
) -> StageSummary:
    """Transcribe each clip of ``data_dir`` (its wav, else the clip's audio track) into the store.

    Resumable like every stage: the key hashes the backend settings, the model
    folder's files and the audio file's content. ``transcriber`` overrides the
    backend (an already built one).
    """
    from ovmer.data.mer2025 import load_mer2025
    from ovmer.describe.media import load_audio
    from ovmer.describe.runner import FileIdentities, model_fingerprint, parse_shard, select_names

    shard = parse_shard(shard)
    engine = transcriber or create_transcriber(
        backend, model_path, device=device, dtype=dtype, language=language, task=task, max_new_tokens=max_new_tokens
    )
    layout = load_mer2025(data_dir, names=names, require=("audio",))
    chosen = select_names(layout, limit, shard)
    if any(n in layout.problems for n in chosen):
        warnings.warn(layout.report() + "\nthese samples get error records; the others run", stacklevel=2)
    store = asr_store(store_name or default_store_name(engine.backend, model_path), store_root, shard)
    identities = FileIdentities()
    model_id = model_fingerprint(model_path, str(model_path))
    items = []
    for name in chosen:
        sample = layout[name]
        source = sample.audio if sample.audio is not None else sample.video
        key = compute_key(stage=STAGE, settings=engine.settings(), model=model_id, audio=identities(source))
        items.append(WorkItem(name, key, source))
    loaded = False

    def compute(item: WorkItem) -> tuple[str, str]:
        nonlocal loaded
        if item.payload is None:
            raise OvmerError(f"{item.name}: no audio or video file for this sample")
        waveform = load_audio(item.payload, SAMPLE_RATE).waveform
        if not loaded:
            engine.load()
            loaded = True
        text = engine.transcribe(waveform)
        return text, text.strip()

    return run_stage(store, items, compute, desc=f"asr {engine.backend}", progress=progress,
                     meta={"backend": engine.backend, "model": str(model_path)})


def write_subtitle_csv(
    store: ResultsStore | str | os.PathLike[str],
    csv_path: str | os.PathLike[str],
    column: Literal["english", "chinese"] = "english",
    overwrite: bool = False,
) -> Path:
    """Put the store's transcripts into a ``name, chinese, english`` csv (created if absent).

    Existing rows keep their text unless ``overwrite``: only empty cells are filled,
    so the dataset's curated subtitles are never replaced by accident.
    """
    import pandas as pd

    if column not in ("english", "chinese"):
        raise OvmerError(f"subtitle column must be english or chinese, got {column!r}")
    store = store if isinstance(store, ResultsStore) else ResultsStore(store)
    texts = store.values()
    if not texts:
        raise OvmerError(f"{store.path}: no finished transcripts to write")
    csv_path = Path(csv_path)
    if csv_path.exists():
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        if "name" not in frame.columns:
            raise OvmerError(f"{csv_path}: no 'name' column; not a subtitle csv")
    else:
        frame = pd.DataFrame({"name": pd.Series(dtype=str)})
    for col in ("chinese", "english"):
        if col not in frame.columns:
            frame[col] = ""
    index = {name: i for i, name in enumerate(frame["name"])}
    new_rows = []
    for name, text in texts.items():
        if name in index:
            row = index[name]
            if overwrite or not str(frame.at[row, column]).strip():
                frame.at[row, column] = text
        else:
            new_rows.append({"name": name, "chinese": "", "english": "", column: text})
    if new_rows:
        frame = pd.concat([frame, pd.DataFrame(new_rows)], ignore_index=True)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    partial = csv_path.with_name(f".partial-{csv_path.name}")
    frame.to_csv(partial, index=False)
    os.replace(partial, csv_path)
    return csv_path
