"""Decode the media of one sample: sampled video frames, 16 kHz mono audio, OpenFace face crops.

Decoding uses PyAV (FFmpeg), imported inside the functions so ``import ovmer`` stays
light. Every failure (missing, empty, unreadable, no stream of the wanted kind, no
frames or samples) raises :class:`MediaError` naming the file, so the runner can
record it against that sample and go on.

Frame sampling follows the authors' loaders: ``num_frames`` picks the first frame of
each of ``num_frames`` equal segments (index ``floor(i * T / N)``) and repeats the
last frame when the clip has fewer frames than asked; ``fps`` takes one frame every
``1 / fps`` seconds and, past ``max_frames``, thins those uniformly.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ovmer.describe.adapter import FramePolicy
from ovmer.errors import OvmerError, reading
from ovmer.keys import file_identity
from ovmer.messages import AUDIO_SAMPLE_RATE, AudioPart, VideoPart

T = TypeVar("T")

__all__ = ["FACE_STACK_FPS", "MediaError", "check_media_file", "file_identity", "fps_indices", "load_audio",
           "load_faces", "load_video_frames", "select_indices", "uniform_indices"]

# OpenFace face stacks carry no timestamps; MER clips are 25 fps, which fps-based policies assume.
FACE_STACK_FPS = 25.0


class MediaError(OvmerError):
    """A media file is missing, empty, corrupt, or has nothing of the kind wanted."""


def check_media_file(path: str | os.PathLike[str], what: str = "media file") -> Path:
    """The path, if it names a non-empty file; else :class:`MediaError` saying which."""
    path = Path(path)
    if not path.exists():
        raise MediaError(f"{path}: {what} is missing")
    if not path.is_file():
        raise MediaError(f"{path}: {what} is not a file")
    if path.stat().st_size == 0:
        raise MediaError(f"{path}: {what} is empty (0 bytes)")
    return path


# --------------------------------------------------------------------------- frame sampling


def uniform_indices(total: int, num_frames: int) -> list[int]:
    """``num_frames`` indices into ``total`` frames: segment starts, last one repeated if short."""
    if total <= 0:
        return []
    if num_frames <= 0:
        raise ValueError(f"num_frames must be positive, got {num_frames}")
    taken = min(num_frames, total)
    indices = [int(i * total / taken) for i in range(taken)]
    return indices + [indices[-1]] * (num_frames - taken)


def fps_indices(times: Sequence[float], fps: float, max_frames: int | None = None) -> list[int]:
    """One frame per ``1/fps`` seconds (the first frame at or after each tick), capped by ``max_frames``."""
    if not times:
        return []
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    start, end = times[0], times[-1]
    picked: list[int] = []
    cursor = 0
    tick = start
    # Half a frame of slack so a tick falling between two frames takes the nearer later one.
    slack = 0.5 * (end - start) / max(1, len(times) - 1) if len(times) > 1 else 0.0
    while tick <= end + 1e-9:
        while cursor < len(times) - 1 and times[cursor] < tick - slack:
            cursor += 1
        if not picked or picked[-1] != cursor:
            picked.append(cursor)
        tick += 1.0 / fps
    if max_frames is not None and len(picked) > max_frames:
        picked = [picked[i] for i in uniform_indices(len(picked), max_frames)]
    return picked


def select_indices(times: Sequence[float], policy: FramePolicy) -> list[int]:
    """Frame indices chosen by ``policy`` given each frame's presentation time."""
    if policy.num_frames is not None:
        return uniform_indices(len(times), policy.num_frames)
    if policy.fps is not None:
        return fps_indices(times, policy.fps, policy.max_frames)
    # No policy: every frame, thinned to max_frames if given.
    if policy.max_frames is not None:
        return uniform_indices(len(times), min(policy.max_frames, len(times)))
    return list(range(len(times)))


# --------------------------------------------------------------------------- video


def _media_errors(loader: Callable[..., T]) -> Callable[..., T]:
    """Any failure of the decoder on a damaged file (PyAV raises more than its own error types,
    e.g. UnicodeDecodeError from a garbled message) becomes a :class:`MediaError` naming the file."""

    @functools.wraps(loader)
    def guarded(path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> T:
        with reading(path, "as media", MediaError):
            return loader(path, *args, **kwargs)

    return guarded


def _open_container(path: Path):  # -> av.container.InputContainer
    import av

    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"{path}: cannot be opened as media ({exc})") from exc


def _scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    # Even sizes keep every pixel format's chroma subsampling happy.
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


@_media_errors
def load_video_frames(
    path: str | os.PathLike[str],
    policy: FramePolicy | None = None,
    *,
    max_side: int | None = None,
) -> VideoPart:
    """Sample frames of a video file as ``(T, H, W, 3)`` RGB uint8 with their times in seconds.

    Two passes: the first reads packet timestamps only (no decoding) to know the
    frame count and times, the second decodes and keeps the chosen frames, so memory
    holds only what is returned. ``max_side`` shrinks frames whose longer side is larger.
    """
    import av

    path = check_media_file(path, "video file")
    policy = policy or FramePolicy()
    with _open_container(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path}: has no video stream")
        stream = container.streams.video[0]
        time_base = float(stream.time_base) if stream.time_base else 0.0
        try:
            pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None and p.size)
        except av.error.FFmpegError as exc:
            raise MediaError(f"{path}: corrupt video stream ({exc})") from exc
    if not pts:
        raise MediaError(f"{path}: video stream has no frames (zero length)")
    times = [(p - pts[0]) * time_base for p in pts]
    wanted = select_indices(times, policy)
    wanted_set = set(wanted)
    last_wanted = max(wanted)

    decoded: dict[int, np.ndarray] = {}
    decoded_times: dict[int, float] = {}
    index = -1
    with _open_container(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for index, frame in enumerate(container.decode(stream)):
                if index in wanted_set:
                    width, height = _scaled_size(frame.width, frame.height, max_side)
                    decoded[index] = frame.to_ndarray(format="rgb24", width=width, height=height)
                    decoded_times[index] = times[index] if index < len(times) else float(frame.time or 0.0)
                if index >= last_wanted:
                    break
        except av.error.FFmpegError as exc:
            if not decoded:
                raise MediaError(f"{path}: corrupt video stream ({exc})") from exc
    if not decoded:
        raise MediaError(f"{path}: no video frame could be decoded")
    # A damaged tail can yield fewer frames than packets; use the nearest earlier decoded frame.
    available = sorted(decoded)
    chosen = [max((i for i in available if i <= want), default=available[0]) for want in wanted]
    frames = np.stack([decoded[i] for i in chosen])
    return VideoPart(frames=frames, timestamps=tuple(round(decoded_times[i], 4) for i in chosen), source=str(path))


# --------------------------------------------------------------------------- audio


@_media_errors
def load_audio(
    path: str | os.PathLike[str],
    sample_rate: int = AUDIO_SAMPLE_RATE,
    max_seconds: float | None = None,
) -> AudioPart:
    """The first audio stream of a wav/mp4/... as mono float32 at ``sample_rate`` Hz."""
    import av

    path = check_media_file(path, "audio file")
    chunks: list[np.ndarray] = []
    limit = int(max_seconds * sample_rate) if max_seconds else None
    with _open_container(path) as container:
        if not container.streams.audio:
            raise MediaError(f"{path}: has no audio stream")
        stream = container.streams.audio[0]
        # Keep the channels through resampling and average them after: FFmpeg's own
        # downmix scales a stereo pair by 1/sqrt(2) each, which changes the level.
        resampler = av.AudioResampler(format="fltp", rate=sample_rate)
        got = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().mean(axis=0))
                    got += chunks[-1].size
                if limit is not None and got >= limit:
                    break
            else:
                for out in resampler.resample(None):  # flush the resampler's buffered tail
                    chunks.append(out.to_ndarray().mean(axis=0))
        except av.error.FFmpegError as exc:
            if not chunks:
                raise MediaError(f"{path}: corrupt audio stream ({exc})") from exc
    waveform = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    if limit is not None:
        waveform = waveform[:limit]
    if waveform.size == 0:
        raise MediaError(f"{path}: audio stream has no samples (zero length)")
    return AudioPart(waveform=waveform, sample_rate=sample_rate, source=str(path))


# --------------------------------------------------------------------------- faces


@_media_errors
def load_faces(
    path: str | os.PathLike[str],
    policy: FramePolicy | None = None,
    *,
    bgr_to_rgb: bool = False,
    stack_fps: float = FACE_STACK_FPS,
) -> VideoPart:
    """Sample an OpenFace face stack ``openface_face/<name>/<name>.npy`` (``(T, H, W, 3)`` uint8).

    The stack is returned in its stored channel order unless ``bgr_to_rgb`` (stacks
    written with OpenCV hold BGR). Timestamps assume one face per video frame at ``stack_fps``.
    """
    path = check_media_file(path, "face file")
    try:
        faces = np.load(path, allow_pickle=False)
    except Exception as exc:  # ValueError, EOFError, BadZipFile (a broken npz)...: one message naming the file
        raise MediaError(f"{path}: not a readable .npy face stack ({type(exc).__name__}: {exc})") from exc
    if not isinstance(faces, np.ndarray):  # an npz archive under a .npy name
        faces.close()
        raise MediaError(f"{path}: an npz archive, not a .npy face stack")
    if faces.ndim != 4 or faces.shape[-1] != 3:
        raise MediaError(f"{path}: expected a (T, H, W, 3) face stack, got shape {faces.shape}")
    if faces.shape[0] == 0:
        raise MediaError(f"{path}: face stack has no frames (zero length)")
    if faces.dtype != np.uint8:
        if not np.issubdtype(faces.dtype, np.number):
            raise MediaError(f"{path}: face stack has non-numeric dtype {faces.dtype}")
        faces = np.clip(faces, 0, 255).astype(np.uint8)
    times = [i / stack_fps for i in range(faces.shape[0])]
    chosen = select_indices(times, policy or FramePolicy())
    frames = faces[chosen]
    if bgr_to_rgb:
        frames = frames[..., ::-1]
    return VideoPart(
        frames=np.ascontiguousarray(frames),
        timestamps=tuple(round(times[i], 4) for i in chosen),
        source=str(path),
    )
