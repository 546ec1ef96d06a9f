"""Subtitles for clips that have none: speech recognition into the results store, then a subtitle csv.

The MER2025 data ships ``subtitle_chieng.csv``; users describing their own clips
need this stage before the ``subtitle`` setting. Three backends behind one tiny
contract (:class:`~ovmer.describe.transcriber.Transcriber`: ``load()``,
``transcribe(waveform) -> str``), one file each in
:mod:`ovmer.describe.transcribers`, chosen by name in :data:`ASR_BACKENDS`:

* ``whisper``: transformers' ``WhisperForConditionalGeneration`` and
  ``WhisperProcessor`` from a local model folder (any Whisper checkpoint saved
  with ``save_pretrained``); clips longer than 30 s are cut into 30 s windows.
* ``whisperx``: the whisperx package (CTranslate2 Whisper with VAD batching),
  imported only when chosen; it lives in ``environment_whisperx.yml``.
* ``faster-whisper``: the CTranslate2 engine inside whisperx, in the default
  environment, with whisperx's options (language, VAD, compute type, beam size).

Records go to ``store/asr/<backend>-<model folder>/nosubtitle.jsonl`` (the setting
slot says the clip is read without any subtitle); :func:`write_subtitle_csv` turns
them into the dataset's ``subtitle_chieng.csv`` columns.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ovmer.data.csvfile import read_csv_columns
from ovmer.data.mer2025 import SUBTITLE_CSV, load_mer2025
from ovmer.describe.media import load_audio
from ovmer.describe.selection import parse_shard, select_names
from ovmer.describe.transcriber import SAMPLE_RATE, Task, Transcriber
from ovmer.describe.transcribers.whisper import WINDOW_SECONDS, WhisperTranscriber
from ovmer.describe.transcribers.whisperx import WhisperXTranscriber
from ovmer.engines import Engine, StageWork, each_sample, resolve_engine, run_work
from ovmer.errors import OvmerError
from ovmer.keys import FileIdentities, asr_key, model_fingerprint
from ovmer.registry import Registry
from ovmer.settings import Setting
from ovmer.store.jsonl import ResultsStore, store_path
from ovmer.store.runner import Result, StageSummary, WorkItem

__all__ = [
    "ASR_BACKENDS", "ASR_SETTING", "SAMPLE_RATE", "STAGE", "WINDOW_SECONDS", "Task", "Transcriber",
    "SubtitleRun", "TranscribeWorker", "WhisperTranscriber", "WhisperXTranscriber", "asr_store", "create_transcriber",
    "default_store_name", "run_asr", "subtitle_column", "transcribe_subtitles", "write_subtitle_csv",
]

STAGE = "asr"
ASR_SETTING = Setting.NOSUBTITLE

ASR_BACKENDS: Registry[type[Transcriber]] = Registry("ASR backend", Transcriber, entry_points="ovmer.transcribers")
ASR_BACKENDS.register("whisper", "ovmer.describe.transcribers.whisper:WhisperTranscriber",
                      "transformers Whisper from a local folder")
ASR_BACKENDS.register("whisperx", "ovmer.describe.transcribers.whisperx:WhisperXTranscriber",
                      "whisperx (CTranslate2, VAD batching; its own environment)")
ASR_BACKENDS.register("faster-whisper", "ovmer.describe.transcribers.faster_whisper:FasterWhisperTranscriber",
                      "faster-whisper (CTranslate2) from a local folder; VAD, compute type, beam size")


def create_transcriber(backend: str, model_path: str, **kwargs: Any) -> Transcriber:
    """The backend named ``backend`` (did-you-mean on typos), not yet loaded."""
    cls = ASR_BACKENDS.get(backend.strip().lower())
    try:
        return cls(model_path, **kwargs)
    except TypeError as exc:  # an option another backend has (beam size, VAD...)
        raise OvmerError(f"the {cls.backend} ASR backend does not take these options: {exc}") from exc


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
    engine: str | Engine | None = None,
    options: dict[str, Any] | None = None,
) -> StageSummary:
    """Transcribe each clip of ``data_dir`` (its wav, else the clip's audio track) into the store.

    Resumable like every stage: the key hashes the backend settings, the model
    folder's files and the audio file's content. ``transcriber`` overrides the
    backend (an already built one); ``options`` are the backend's own (faster-whisper:
    ``compute_type``, ``beam_size``, ``vad``). ``engine`` runs it here (``local``, the default)
    or on Ray replicas (``ray``).
    """
    shard = parse_shard(shard)
    speech = transcriber or create_transcriber(
        backend, model_path, device=device, dtype=dtype, language=language, task=task, max_new_tokens=max_new_tokens,
        **{name: value for name, value in (options or {}).items() if value is not None},  # None: the default
    )
    layout = load_mer2025(data_dir, names=names, require=("audio",))
    chosen = select_names(layout, limit, shard)
    if any(n in layout.problems for n in chosen):
        warnings.warn(layout.report() + "\nthese samples get error records; the others run", stacklevel=2)
    store = asr_store(store_name or default_store_name(speech.backend, model_path), store_root, shard)
    identities = FileIdentities()
    model_id = model_fingerprint(model_path, str(model_path))
    items = []
    for name in chosen:
        sample = layout[name]
        source = sample.audio if sample.audio is not None else sample.video
        key = asr_key(settings=speech.settings(), model=model_id, audio=identities(source))
        items.append(WorkItem(name, key, source))
    return run_work(store, items, StageWork(TranscribeWorker(speech)), resolve_engine(engine),
                    desc=f"asr {speech.backend}", progress=progress,
                    meta={"backend": speech.backend, "model": str(model_path)})


@dataclass
class TranscribeWorker:
    """The asr stage's work on a chunk of clips: decode 16 kHz audio, transcribe (loads on first use)."""

    transcriber: Transcriber
    loaded: bool = False

    def __call__(self, chunk: Sequence[WorkItem]) -> list[Result]:
        return each_sample(self.transcribe, chunk)

    def transcribe(self, item: WorkItem) -> tuple[str, str]:
        if item.payload is None:
            raise OvmerError(f"{item.name}: no audio or video file for this sample")
        waveform = load_audio(item.payload, SAMPLE_RATE).waveform
        if not self.loaded:
            self.transcriber.load()
            self.loaded = True
        text = self.transcriber.transcribe(waveform)
        return text, text.strip()


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
        frame = read_csv_columns(csv_path, ("name",), "a subtitle csv")
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


def subtitle_column(task: Task, language: str | None) -> Literal["english", "chinese"]:
    """The subtitle csv column a transcript belongs in: english for translations and English speech."""
    return "english" if task == "translate" or (language or "").lower() == "en" else "chinese"


@dataclass(frozen=True)
class SubtitleRun:
    """What :func:`transcribe_subtitles` did: the stage's counts, its store and the csv it wrote (if any)."""

    summary: StageSummary
    store: ResultsStore
    csv: Path | None
    column: str

    def transcripts(self) -> Any:
        """The finished transcripts as a ``name, text`` DataFrame, sorted by name."""
        import pandas as pd

        texts = self.store.values()
        return pd.DataFrame({"name": sorted(texts), "text": [texts[n] for n in sorted(texts)]})

    def __repr__(self) -> str:
        wrote = f"; wrote {self.csv} ({self.column})" if self.csv else ""
        return f"asr: {self.summary} -> {self.store.path}{wrote}"


def transcribe_subtitles(
    data_dir: str | os.PathLike[str],
    model_path: str,
    *,
    backend: str = "whisper",
    csv: str | os.PathLike[str] | None = None,
    column: Literal["english", "chinese"] | None = None,
    overwrite: bool = False,
    shard: tuple[int, int] | str | None = None,
    store_root: str | os.PathLike[str] | None = None,
    task: Task = "transcribe",
    language: str | None = None,
    **options: Any,
) -> SubtitleRun:
    """:func:`run_asr` over ``data_dir``, then the transcripts into a subtitle csv.

    ``csv`` is the file to write (``""``: the dataset's own ``subtitle_chieng.csv``; ``None``:
    none); ``column`` defaults to :func:`subtitle_column`. The rest go to :func:`run_asr`.
    """
    if not model_path:
        raise OvmerError("a model path is required: a local folder holding a Whisper checkpoint")
    shard = parse_shard(shard)
    summary = run_asr(data_dir, model_path, backend=backend, shard=shard, store_root=store_root, task=task,
                      language=language, **options)
    store = asr_store(default_store_name(backend, model_path), store_root, shard)
    chosen = column or subtitle_column(task, language)
    written = None
    if csv is not None:
        target = Path(csv) if str(csv) else Path(data_dir) / SUBTITLE_CSV
        written = write_subtitle_csv(store, target, column=chosen, overwrite=overwrite)
    return SubtitleRun(summary, store, written, chosen)
