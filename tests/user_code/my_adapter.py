"""A describe adapter written outside the package, as a user would: one class, one registration.

Used by the tests through ``--include`` (and the evaluate-your-model notebook); it
describes what it was given, so the tests can check the runner fed it the right media.
"""

from __future__ import annotations

from ovmer.describe import BaselineSpec, DescribeAdapter, FramePolicy, register_adapter
from ovmer.messages import Chat


@register_adapter
class MyModel(DescribeAdapter):
    spec = BaselineSpec(name="my-model", modalities=frozenset({"video", "audio", "text"}), run="native",
                        checkpoint="me/my-model", frames=FramePolicy(num_frames=3), paper=False)

    def load(self) -> None:
        self.loaded = True

    def describe(self, message: Chat) -> str:
        video, audio = message.video(), message.audio()
        return (f"{video.frames.shape[0]} frames, {audio.waveform.size} audio samples, "
                f"subtitle {message.subtitle()!r}. The person smiles warmly: she seems happy and relaxed.")
