"""A user module that tries to take a built-in baseline's name: the registry refuses it."""

from ovmer.describe import BaselineSpec, DescribeAdapter, register_adapter


@register_adapter
class NotVideoLLaVA(DescribeAdapter):
    spec = BaselineSpec(name="video-llava", modalities=frozenset({"video", "text"}), run="native", checkpoint="x")

    def load(self) -> None:
        pass

    def describe(self, message) -> str:
        return ""
