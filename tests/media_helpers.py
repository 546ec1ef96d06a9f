"""Synthetic media for tests: small mp4s with a moving square and a sound track, and wav files.

Everything is generated with PyAV (and espeak-ng for speech when it is installed), so
tests never depend on downloaded clips. Frames are deterministic: frame ``i`` shows a
coloured square whose left edge sits at ``i * step`` pixels.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

SQUARE_COLOUR = (230, 40, 40)  # RGB
BACKGROUND = (20, 60, 160)


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speech_waveform(text: str, sample_rate: int = 16_000) -> np.ndarray:
    """Mono float32 speech of ``text`` by espeak-ng, resampled to ``sample_rate``."""
    if not espeak_available():
        raise RuntimeError("espeak-ng is not installed (apt-get install -y espeak-ng)")
    import soundfile

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
        data, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    if rate != sample_rate:
        import librosa

        mono = librosa.resample(mono, orig_sr=rate, target_sr=sample_rate)
    return mono.astype(np.float32)


def tone(seconds: float, sample_rate: int = 16_000, freq: float = 440.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * sample_rate)), dtype=np.float64) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def square_frame(index: int, size: tuple[int, int] = (64, 48), side: int = 12, step: int = 4) -> np.ndarray:
    """Frame ``index`` of the moving-square clip as (H, W, 3) uint8; ``size`` is (width, height)."""
    width, height = size
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = BACKGROUND
    left = (index * step) % max(1, width - side)
    top = (height - side) // 2
    frame[top : top + side, left : left + side] = SQUARE_COLOUR
    return frame


def make_video(
    path: str | Path,
    seconds: float = 2,
    fps: int = 8,
    size: tuple[int, int] = (64, 48),
    with_audio: bool = True,
    speech: str | None = None,
    audio_rate: int = 16_000,
    freq: float = 440.0,
) -> Path:
    """Write an mp4 (h264 + aac) with a moving red square and, optionally, a tone or speech.

    ``speech`` (text) uses espeak-ng for the sound track; the track is padded or cut to
    the video length. Returns the path.
    """
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    n_frames = max(1, int(round(seconds * fps)))
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        video.options = {"crf": "18", "preset": "ultrafast"}
        audio_stream = None
        if with_audio:
            audio_stream = container.add_stream("aac", rate=audio_rate)
            audio_stream.layout = "mono"
        for index in range(n_frames):
            frame = av.VideoFrame.from_ndarray(square_frame(index, size), format="rgb24")
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if audio_stream is not None:
            n_samples = int(round(seconds * audio_rate))
            wave = speech_waveform(speech, audio_rate) if speech else tone(seconds, audio_rate, freq)
            wave = np.pad(wave, (0, max(0, n_samples - len(wave))))[:n_samples]
            chunk = 1024
            for start in range(0, n_samples, chunk):
                piece = wave[start : start + chunk].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(piece), format="fltp", layout="mono")
                frame.sample_rate = audio_rate
                frame.pts = start
                frame.time_base = Fraction(1, audio_rate)
                for packet in audio_stream.encode(frame):
                    container.mux(packet)
            for packet in audio_stream.encode():
                container.mux(packet)
    return path


def make_wav(
    path: str | Path,
    seconds: float = 1.0,
    sample_rate: int = 16_000,
    speech: str | None = None,
    freq: float = 440.0,
    channels: int = 1,
) -> Path:
    """Write a 16-bit PCM wav: a tone of ``freq`` Hz, or espeak-ng speech of ``speech``."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wave = speech_waveform(speech, sample_rate) if speech else tone(seconds, sample_rate, freq)
    samples = np.clip(wave * 32767, -32768, 32767).astype(np.int16)
    layout = "mono" if channels == 1 else "stereo"
    interleaved = np.repeat(samples, channels).reshape(1, -1)  # packed s16: channels interleaved
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=sample_rate)
        stream.layout = layout
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_face_npy(path: str | Path, n_frames: int = 5, side: int = 112, seed: int = 0) -> Path:
    """An OpenFace-style face stack: (T, side, side, 3) uint8 saved with np.save."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    np.save(path, rng.integers(0, 256, size=(n_frames, side, side, 3), dtype=np.uint8))
    return path


def make_mer2025_layout(
    root: str | Path,
    names: Sequence[str] = ("sample_00000001", "sample_00000002", "sample_00000003"),
    *,
    with_audio_files: bool = True,
    with_faces: bool = True,
    with_csvs: bool = True,
    seconds: float = 1.0,
    fps: int = 8,
) -> Path:
    """A tiny MER2025-layout folder: video/, audio/, openface_face/, the subtitle and OV-MERD csvs.

    Sample ``i`` gets a tone of ``300 + 100 * i`` Hz and ``seconds * fps + i`` frames, so
    samples differ in measurable ways; subtitles are ``"subtitle of <name>"``.
    """
    import pandas as pd

    root = Path(root)
    for i, name in enumerate(names):
        make_video(root / "video" / f"{name}.mp4", seconds=seconds + i / fps, fps=fps,
                   freq=300 + 100 * i)
        if with_audio_files:
            make_wav(root / "audio" / f"{name}.wav", seconds=seconds, freq=300 + 100 * i)
        if with_faces:
            make_face_npy(root / "openface_face" / name / f"{name}.npy", n_frames=int(seconds * fps), side=16, seed=i)
    if with_csvs:
        pd.DataFrame({"name": list(names), "chinese": [f"{n} 的字幕" for n in names],
                      "english": [f"subtitle of {n}" for n in names]}).to_csv(root / "subtitle_chieng.csv", index=False)
        pd.DataFrame({"name": list(names), "openset": ["['happy', 'relaxed']"] * len(names)}).to_csv(
            root / "track2_train_ovmerd.csv", index=False)
        pd.DataFrame({"name": list(names), "reason": [f"reason for {n}" for n in names]}).to_csv(
            root / "track3_train_ovmerd.csv", index=False)
    return root
