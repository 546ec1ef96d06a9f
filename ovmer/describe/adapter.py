"""The per-model contract of the describe stage.

An adapter knows one model family: ``load()`` builds the model (heavy imports
happen there), ``describe(message)`` turns one :class:`~ovmer.messages.Chat`
(the sample's user turn: media, subtitle and instruction parts, after the
prompt's system turn) into text. Nothing model-specific lives outside the
adapter's own file; a new model is one adapter file plus one registry line in
:mod:`ovmer.describe.registry`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal

from ovmer.messages import Chat

Modality = Literal["video", "audio", "text"]
RunMode = Literal["native", "external", "replay"]


@dataclass(frozen=True)
class FramePolicy:
    """How frames are sampled: ``num_frames`` uniformly, or ``fps`` with a ``max_frames`` cap."""

    num_frames: int | None = None
    fps: float | None = None
    max_frames: int | None = None

    def describe(self) -> str:
        if self.num_frames is not None:
            return f"{self.num_frames} frames"
        if self.fps is not None:
            cap = f", max {self.max_frames}" if self.max_frames else ""
            return f"{self.fps:g} fps{cap}"
        return "-"


# Frames taken when a spec names no policy: enough for any video model, bounded memory.
DEFAULT_FRAMES = FramePolicy(num_frames=8)


@dataclass(frozen=True)
class BaselineSpec:
    """One system of the paper (or a newer one) and how this package runs it."""

    name: str
    modalities: frozenset[Modality]
    run: RunMode
    checkpoint: str  # the checkpoint the paper used, or the HF id for native adapters
    frames: FramePolicy = field(default_factory=FramePolicy)
    adapter: str | None = None  # "module:Class" for native adapters
    paper: bool = True  # reported in the paper
    notes: str = ""
    released: bool = False  # the authors published this system's OV-MERD outputs (importable as a replay)
    upstream: str = ""  # where the authors' own inference code lives (for external runs)

    @property
    def frame_policy(self) -> FramePolicy:
        """The frames actually sampled: the spec's policy, or :data:`DEFAULT_FRAMES` when it names none."""
        return self.frames if self.frames != FramePolicy() else DEFAULT_FRAMES


class DescribeAdapter(ABC):
    """Base class: subclasses set ``spec`` and implement :meth:`load` and :meth:`describe`.

    Optional: ``concurrency`` (samples described at once, in threads; for
    adapters that wait on a server), ``frame_max_side`` (frames are decoded no
    larger; the adapter keys it in :meth:`generation_settings`),
    :meth:`run_spec` (the spec a run uses, when options change it) and
    :meth:`describe_record` (the text plus what to record beside it).
    """

    spec: BaselineSpec
    concurrency: int = 1
    frame_max_side: int | None = None

    def __init__(self, model_path: str | None = None, device: str = "cpu", dtype: str = "auto",
                 max_new_tokens: int = 256, do_sample: bool = False) -> None:
        self.model_path = model_path
        self.device = device
        self.dtype = dtype
        self.max_new_tokens = max_new_tokens
        self.do_sample = do_sample

    @abstractmethod
    def load(self) -> None:
        """Build the model (the runner calls this once, and only when a sample is left to do)."""

    @abstractmethod
    def describe(self, message: Chat) -> str:
        """The description of one sample."""

    def describe_record(self, message: Chat) -> tuple[str, dict[str, object]]:
        """The description and extra meta for its record (what was sent, for example); default: none."""
        return self.describe(message), {}

    def run_spec(self, registered: BaselineSpec) -> BaselineSpec:
        """The spec this adapter runs as, given its registry entry (default: the entry as it is)."""
        return registered

    def generation_settings(self) -> dict[str, object]:
        """Everything besides the inputs that the output depends on (part of the store key)."""
        return {"max_new_tokens": self.max_new_tokens, "do_sample": self.do_sample, "dtype": self.dtype}
