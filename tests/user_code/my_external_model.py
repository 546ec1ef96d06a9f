"""A model that runs in its own environment: only its spec is registered; a program does the describing."""

from ovmer.describe import BaselineSpec, FramePolicy, register_baseline

register_baseline(BaselineSpec(name="my-external-model", modalities=frozenset({"video", "audio", "text"}),
                               run="external", checkpoint="me/my-model", frames=FramePolicy(num_frames=8),
                               paper=False))
