"""What an installed distribution would ship: an adapter and an LLM backend, found through entry points."""

from __future__ import annotations

from ovmer.describe import BaselineSpec, DescribeAdapter
from ovmer.llm import LLMBackend


class EntryPointModel(DescribeAdapter):
    spec = BaselineSpec(name="ep-model", modalities=frozenset({"audio", "text"}), run="native",
                        checkpoint="dist/ep-model", paper=False, notes="from an entry point")

    def load(self) -> None:
        pass

    def describe(self, message) -> str:
        return f"audio of {message.audio().waveform.size} samples; sounds worried"


class ShoutingBackend(LLMBackend):
    """Replies with the last user turn in capitals, plus a fixed label list."""

    name = "shouting"

    def __init__(self, model: str) -> None:
        self.model = model

    @property
    def model_id(self) -> str:
        return self.model

    def generate(self, batch, settings):
        return [f"{conversation[-1].content[-20:].upper()} [worried, anxious]" for conversation in batch]
