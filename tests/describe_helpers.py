"""A deterministic test adapter and prompt renderer for the describe runner's tests.

``MeasuringAdapter`` writes what it was shown (frame count, mean pixel, audio length,
subtitle) so tests can check the runner fed it the right media; every ``describe``
call is appended to ``calls_file`` (when set) so tests can count recomputation, even
across processes. Importable by subprocesses started from tests (``sys.path``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ovmer.describe.adapter import BaselineSpec, DescribeAdapter, FramePolicy
from ovmer.describe.message import Message

AV_SPEC = BaselineSpec(
    name="test-measuring-av",
    modalities=frozenset({"video", "audio"}),
    run="native",
    checkpoint="tests/measuring",
    frames=FramePolicy(num_frames=4),
    paper=False,
)
VIDEO_SPEC = BaselineSpec(
    name="test-measuring-video",
    modalities=frozenset({"video"}),
    run="native",
    checkpoint="tests/measuring",
    frames=FramePolicy(fps=2, max_frames=3),
    paper=False,
)


class MeasuringAdapter(DescribeAdapter):
    spec = AV_SPEC

    def __init__(self, calls_file: str | os.PathLike[str] | None = None, delay: float = 0.0,
                 spec: BaselineSpec | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        if spec is not None:
            self.spec = spec
        self.calls_file = Path(calls_file) if calls_file else None
        self.delay = delay
        self.loads = 0
        self.calls: list[str] = []

    def load(self) -> None:
        self.loads += 1

    def describe(self, message: Message) -> str:
        self.calls.append(message.name)
        if self.calls_file is not None:
            with open(self.calls_file, "a", encoding="utf-8") as handle:
                handle.write(message.name + "\n")
                handle.flush()
        if self.delay:
            time.sleep(self.delay)
        bits = [f"name={message.name}"]
        video = message.video()
        if video is not None:
            bits.append(f"frames={video.frames.shape[0]} mean={video.frames.mean():.1f}")
        audio = message.audio()
        if audio is not None:
            bits.append(f"audio={audio.waveform.size}@{audio.sample_rate}")
        bits.append(f"subtitle={message.subtitle()!r}")
        bits.append(f"prompt={message.text()[:40]!r}")
        return "  " + " ".join(bits) + "\n"


# The natively run baselines: transformers class and checkpoint of each.
NATIVE = {
    "Video-LLaVA": ("VideoLlavaForConditionalGeneration", "LanguageBind/Video-LLaVA-7B-hf"),
    "Qwen2-Audio-7B-Instruct": ("Qwen2AudioForConditionalGeneration", "Qwen/Qwen2-Audio-7B-Instruct"),
    "LLaVA-NeXT-Video": ("LlavaNextVideoForConditionalGeneration", "llava-hf/LLaVA-NeXT-Video-7B-hf"),
    "Qwen2.5-Omni": ("Qwen2_5OmniThinkerForConditionalGeneration", "Qwen/Qwen2.5-Omni-7B"),
}
