"""The per-model contracts are abstract base classes, and their name tables are registries."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pytest

from ovmer.describe.adapter import DEFAULT_FRAMES, BaselineSpec, DescribeAdapter, FramePolicy
from ovmer.describe.asr import ASR_BACKENDS, create_transcriber
from ovmer.describe.registry import ADAPTERS, BASELINES, get_baseline
from ovmer.describe.transcriber import Transcriber
from ovmer.errors import OvmerError
from ovmer.llm.client import LLMBackend
from ovmer.llm.presets import PRESETS, GenerationSettings
from ovmer.llm.registry import BACKENDS
from ovmer.messages import Chat, ChatMessage
from ovmer.registry import Registry


def test_incomplete_implementations_cannot_be_built() -> None:
    class NoDescribe(DescribeAdapter):
        def load(self) -> None: ...

    class NoGenerate(LLMBackend):
        model_id = "m"

    class NoTranscribe(Transcriber):
        def load(self) -> None: ...

    for cls, missing in ((DescribeAdapter, "describe"), (NoDescribe, "describe"), (NoGenerate, "generate"),
                         (NoTranscribe, "transcribe")):
        with pytest.raises(TypeError, match=f"abstract method.*{missing}"):
            cls("model") if issubclass(cls, Transcriber) else cls()


class EchoBackend(LLMBackend):
    name = "echo"

    @property
    def model_id(self) -> str:
        return "echo-1"

    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings: GenerationSettings) -> list[str]:
        return [conversation[-1].content for conversation in batch]


def test_backend_run_info_and_the_deprecated_describe() -> None:
    backend = EchoBackend()
    assert backend.run_info() == {"backend": "echo", "model": "echo-1"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert backend.describe() == backend.run_info()
    assert [w.category for w in caught] == [DeprecationWarning] and "run_info" in str(caught[0].message)
    chat = [ChatMessage("user", "hi")]
    assert backend.generate_outcomes([chat], GenerationSettings()) == ["hi"]


def test_a_minimal_adapter_and_transcriber_work() -> None:
    class Echo(DescribeAdapter):
        spec = get_baseline("Video-LLaVA")

        def load(self) -> None: ...

        def describe(self, message: Chat) -> str:
            return message.text()

    class Silence(Transcriber):
        backend = "silence"

        def load(self) -> None: ...

        def transcribe(self, waveform: np.ndarray) -> str:
            return f"{waveform.size} samples"

    assert Echo().describe(Chat.user(["watch"])) == "watch"
    assert Silence("m").transcribe(np.zeros(3)) == "3 samples"


def test_every_name_table_is_a_registry_with_its_base_class() -> None:
    for registry, base in ((BACKENDS, LLMBackend), (ADAPTERS, DescribeAdapter), (ASR_BACKENDS, Transcriber),
                           (PRESETS, GenerationSettings), (BASELINES, BaselineSpec)):
        assert isinstance(registry, Registry) and registry.base is base
    assert sorted(BACKENDS) == ["openai", "replay", "transformers", "vllm"]
    assert sorted(ASR_BACKENDS) == ["faster-whisper", "whisper", "whisperx"]
    assert set(ADAPTERS) == {name for name in BASELINES if BASELINES[name].run == "native"}
    assert "deterministic" in PRESETS.listing() and PRESETS["paper"].do_sample


def test_misspelt_names_get_the_registry_did_you_mean() -> None:
    with pytest.raises(OvmerError, match="unknown LLM backend 'replya'. Did you mean 'replay'"):
        BACKENDS.get("replya")
    with pytest.raises(OvmerError, match="unknown ASR backend 'wisper'. Did you mean 'whisper'"):
        create_transcriber("wisper", "m")
    with pytest.raises(OvmerError, match=r"unknown baseline 'Chat-Univ'. Did you mean 'Chat-UniVi'.*ovmer baselines"):
        get_baseline("Chat-Univ")


def test_the_default_frame_rule_lives_on_the_spec() -> None:
    bare = BaselineSpec(name="x", modalities=frozenset({"video"}), run="native", checkpoint="c")
    assert bare.frame_policy == DEFAULT_FRAMES == FramePolicy(num_frames=8)
    assert get_baseline("Otter").frame_policy == FramePolicy(num_frames=16)
