"""The registry of describe-stage baselines: every system of the paper, plus native newer ones.

Each entry says which media the model reads, how the paper sampled frames,
which checkpoint it used and how this package runs it:

- ``native``: an adapter in :mod:`ovmer.describe.adapters` runs it through
  transformers (``adapter`` is ``"module:Class"``, imported only when created);
- ``external``: the model runs in its authors' code and environment, driven
  through the describe stage's subprocess protocol (``upstream`` says where
  that code lives);
- ``replay``: only released outputs can be used.

``released`` marks the systems whose OV-MERD descriptions the authors
published (see :mod:`ovmer.data.released`). Importing this module is cheap: no
torch, no transformers, no pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ovmer.describe.adapter import BaselineSpec, DescribeAdapter, FramePolicy
from ovmer.errors import OvmerError
from ovmer.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

_TRACK23 = "zeroQiaoba/MERTools: MER2025/MER2025_Track23"
_ADAPTERS = "ovmer.describe.adapters"

AUDIO = frozenset({"audio", "text"})
VIDEO = frozenset({"video", "text"})
AUDIO_VIDEO = frozenset({"audio", "video", "text"})

_SPECS: tuple[BaselineSpec, ...] = (
    # --- audio LLMs of the paper ---------------------------------------------------------------------
    BaselineSpec(
        name="Qwen-Audio", modalities=AUDIO, run="external", checkpoint="Qwen/Qwen-Audio-Chat",
        released=True, upstream=f"{_TRACK23}/Qwen-Audio/main-audio.py",
        notes="Qwen-7B with a Whisper-large-v2 encoder; for a transformers model see Qwen2-Audio-7B-Instruct",
    ),
    BaselineSpec(
        name="SALMONN", modalities=AUDIO, run="external", checkpoint="tsinghua-ee/SALMONN (salmonn_7b)",
        released=True, upstream=f"{_TRACK23}/SALMONN/main-audio.py",
        notes="Vicuna-7B-v1.5 + Whisper-large-v2 + BEATs; audio truncated to 30 s",
    ),
    BaselineSpec(
        name="SECap", modalities=AUDIO, run="external", checkpoint="thuhcsi/SECap",
        upstream="github.com/thuhcsi/SECap",
        notes="speech emotion captioning (HuBERT + Q-Former + LLaMA); no released OV-MERD outputs",
    ),
    # --- video LLMs of the paper ---------------------------------------------------------------------
    BaselineSpec(
        name="Otter", modalities=VIDEO, run="external", frames=FramePolicy(num_frames=16),
        checkpoint="luodian/OTTER-Video-LLaMA7B-DenseCaption",
        released=True, upstream=f"{_TRACK23}/Otter/main-video.py",
    ),
    BaselineSpec(
        name="VideoChat", modalities=VIDEO, run="external", frames=FramePolicy(num_frames=8),
        checkpoint="OpenGVLab/Ask-Anything video_chat (VideoChat-7B)",
        released=True, upstream=f"{_TRACK23}/VideoChat/main-video.py",
    ),
    BaselineSpec(
        name="VideoChat2", modalities=VIDEO, run="external", frames=FramePolicy(num_frames=4),
        checkpoint="OpenGVLab/VideoChat2 (videochat2_7b_stage3)",
        released=True, upstream=f"{_TRACK23}/VideoChat2/main-video.py",
    ),
    BaselineSpec(
        name="Video-LLaMA", modalities=VIDEO, run="external", frames=FramePolicy(num_frames=8),
        checkpoint="DAMO-NLP-SG/Video-LLaMA (7B, vision branch)",
        upstream="github.com/DAMO-NLP-SG/Video-LLaMA",
        notes="upstream default of 8 uniformly sampled frames; no released OV-MERD outputs",
    ),
    BaselineSpec(
        name="Video-LLaVA", modalities=VIDEO, run="native", frames=FramePolicy(num_frames=8),
        checkpoint="LanguageBind/Video-LLaVA-7B-hf",
        adapter=f"{_ADAPTERS}.video_llava:VideoLlavaAdapter",
        released=True, upstream=f"{_TRACK23}/Video-LLaVA/main-video.py",
        notes="the paper ran LanguageBind/Video-LLaVA-7B in its own code; this is its transformers port",
    ),
    BaselineSpec(
        name="Video-ChatGPT", modalities=VIDEO, run="external", frames=FramePolicy(num_frames=100),
        checkpoint="MBZUAI/Video-ChatGPT-7B",
        released=True, upstream=f"{_TRACK23}/Video-ChatGPT",
        notes="upstream samples 100 frames and pools CLIP features over time and space",
    ),
    BaselineSpec(
        name="LLaMA-VID", modalities=VIDEO, run="external", frames=FramePolicy(fps=1.0),
        checkpoint="YanweiLi/llama-vid-7b-full-224-video-fps-1",
        released=True, upstream=f"{_TRACK23}/LLaMA-VID",
        notes="two tokens per frame (context + content)",
    ),
    BaselineSpec(
        name="mPLUG-Owl", modalities=VIDEO, run="external", frames=FramePolicy(num_frames=4),
        checkpoint="MAGAer13/mplug-owl-llama-7b-video",
        released=True, upstream=f"{_TRACK23}/mPLUG-Owl/main-video.py",
    ),
    BaselineSpec(
        name="Chat-UniVi", modalities=VIDEO, run="external", frames=FramePolicy(fps=1.0, max_frames=100),
        checkpoint="Chat-UniVi/Chat-UniVi (7B)",
        released=True, upstream=f"{_TRACK23}/Chat-UniVi",
    ),
    # --- audio+video LLMs of the paper ---------------------------------------------------------------
    BaselineSpec(
        name="OneLLM", modalities=AUDIO_VIDEO, run="external", frames=FramePolicy(num_frames=10),
        checkpoint="csuhan/OneLLM-7B",
        upstream="github.com/csuhan/OneLLM",
        notes="ImageBind-style clip sampler: 5 clips x 2 frames; no released OV-MERD outputs",
    ),
    BaselineSpec(
        name="PandaGPT", modalities=AUDIO_VIDEO, run="external", frames=FramePolicy(num_frames=10),
        checkpoint="openllmplayground/pandagpt_7b_max_len_1024",
        upstream="github.com/yxuansu/PandaGPT",
        notes="ImageBind encoders; video as 5 clips x 2 frames; no released OV-MERD outputs",
    ),
    # --- native transformers models beyond the paper -------------------------------------------------
    BaselineSpec(
        name="Qwen2-Audio-7B-Instruct", modalities=AUDIO, run="native", paper=False,
        checkpoint="Qwen/Qwen2-Audio-7B-Instruct",
        adapter=f"{_ADAPTERS}.qwen2_audio:Qwen2AudioAdapter",
        notes="transformers successor of Qwen-Audio; audio truncated to 30 s by its feature extractor",
    ),
    BaselineSpec(
        name="LLaVA-NeXT-Video", modalities=VIDEO, run="native", paper=False,
        frames=FramePolicy(num_frames=16), checkpoint="llava-hf/LLaVA-NeXT-Video-7B-hf",
        adapter=f"{_ADAPTERS}.llava_next_video:LlavaNextVideoAdapter",
        notes="144 tokens per frame after 2x2 pooling; 16 frames keep the prompt within its context",
    ),
    BaselineSpec(
        name="Qwen2.5-Omni", modalities=AUDIO_VIDEO, run="native", paper=False,
        frames=FramePolicy(fps=2.0, max_frames=64), checkpoint="Qwen/Qwen2.5-Omni-7B",
        adapter=f"{_ADAPTERS}.qwen2_5_omni:Qwen25OmniAdapter",
        notes="thinker only (text out); audio and video given as two separate segments",
    ),
    BaselineSpec(
        name="Qwen2.5-Omni-3B", modalities=AUDIO_VIDEO, run="native", paper=False,
        frames=FramePolicy(fps=2.0, max_frames=64), checkpoint="Qwen/Qwen2.5-Omni-3B",
        adapter=f"{_ADAPTERS}.qwen2_5_omni:Qwen25OmniAdapter",
        notes="smaller Qwen2.5-Omni for GPUs under 24 GB; thinker only",
    ),
    # --- any model behind a server ---------------------------------------------------------------------
    BaselineSpec(
        name="openai-compatible", modalities=AUDIO_VIDEO, run="native", paper=False,
        frames=FramePolicy(num_frames=8), checkpoint="the served model (--model)",
        adapter=f"{_ADAPTERS}.openai_compatible:OpenAICompatibleAdapter",
        notes="any multimodal model an OpenAI-compatible server runs (vllm serve, SGLang, hosted APIs): "
              "--base-url, --model; records go under the served model's name",
    ),
)



def _missing_model_package(name: str, exc: ImportError) -> str:
    return (f"baseline {name!r} needs {exc.name or 'a missing package'} ({exc}); "
            "install the model extras: pip install 'ovmer[models]'")


# User adapters from installed distributions: ``[project.entry-points."ovmer.adapters"]``
# ``my-model = "my_package.module:MyAdapter"``; the class's ``spec`` is the baseline.
ADAPTER_ENTRY_POINTS = "ovmer.adapters"

# Names match loosely: ``videollava`` is Video-LLaVA.
BASELINES: Registry[BaselineSpec] = Registry(
    "baseline", BaselineSpec, loose=True, missing_hint="(`ovmer baselines` lists them)",
    entry_points=ADAPTER_ENTRY_POINTS, entry_point_target=lambda target: f"{target}.spec",
)
# The native adapter classes, by baseline name ("module:Class", imported only when one is created).
ADAPTERS: Registry[type[DescribeAdapter]] = Registry(
    "describe adapter", DescribeAdapter, on_import_error=_missing_model_package,
    entry_points=ADAPTER_ENTRY_POINTS,
)
for _spec in _SPECS:
    BASELINES.register(_spec.name, _spec, _spec.notes)
    if _spec.adapter:
        ADAPTERS.register(_spec.name, _spec.adapter)


def register_baseline(spec: BaselineSpec) -> BaselineSpec:
    """Make a system of the user's a baseline without editing the package (one run externally, say).

    Its name must be new (names match loosely): a built-in or earlier baseline
    of that name is never replaced.
    """
    if not isinstance(spec, BaselineSpec):
        raise OvmerError(f"register_baseline needs a BaselineSpec, got {type(spec).__name__}")
    BASELINES.register(spec.name, spec, spec.notes or spec.checkpoint, builtin=False)
    return spec


def register_adapter(adapter_class: type[DescribeAdapter]) -> type[DescribeAdapter]:
    """Make a user's adapter class a baseline (its ``spec``), run natively; usable as a class decorator."""
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, DescribeAdapter)):
        raise OvmerError(f"register_adapter needs a DescribeAdapter subclass, got {adapter_class!r}")
    spec = getattr(adapter_class, "spec", None)
    if not isinstance(spec, BaselineSpec):
        raise OvmerError(f"{adapter_class.__name__} has no spec: set spec = BaselineSpec(...) on the class")
    if spec.run != "native":
        raise OvmerError(f"{adapter_class.__name__}.spec.run is {spec.run!r}: an adapter class runs natively")
    register_baseline(spec)
    ADAPTERS.register(spec.name, adapter_class, builtin=False)
    return adapter_class


def get_baseline(name: str) -> BaselineSpec:
    """The spec registered under ``name`` (case and punctuation ignored); unknown names suggest close ones."""
    return BASELINES.get(name)


def create_adapter(name: str, /, **kwargs: Any) -> DescribeAdapter:
    """Build (not load) the native adapter of ``name``; ``kwargs`` go to its constructor (model_path, device, dtype...)."""
    spec = get_baseline(name)
    key = BASELINES.canonical(name)  # an entry point's name, which its spec may spell otherwise
    if spec.run != "native" or key not in ADAPTERS:
        how = {
            "external": "run it in its authors' environment through the external protocol of `ovmer describe`",
            "replay": "only its released outputs can be used (`ovmer import-released`)",
        }.get(spec.run, spec.run)
        released = " Its released OV-MERD outputs can be imported with `ovmer import-released`." if (
            spec.released and spec.run != "replay") else ""
        raise OvmerError(f"baseline {spec.name!r} has no native adapter: {how}.{released}")
    adapter = ADAPTERS.get(key)(**kwargs)
    # One adapter class can serve several registry entries (e.g. Omni 7B and 3B): the entry wins,
    # as the adapter's options shape it (a served model's name, the modalities it is sent).
    adapter.spec = adapter.run_spec(spec)
    return adapter


def baselines_table() -> pd.DataFrame:
    """One row per baseline: name, modalities, frames, run mode, checkpoint, paper/released flags, notes."""
    import pandas as pd

    order = {"audio": 0, "video": 1, "text": 2}
    rows = [
        {
            "name": spec.name,
            "modalities": "+".join(sorted((m for m in spec.modalities if m != "text"), key=order.__getitem__)),
            "frames": spec.frames.describe() if "video" in spec.modalities else "-",
            "run": spec.run,
            "checkpoint": spec.checkpoint,
            "paper": spec.paper,
            "released": spec.released,
            "adapter": spec.adapter or "",
            "upstream": spec.upstream,
            "notes": spec.notes,
        }
        for spec in BASELINES.values()
    ]
    return pd.DataFrame(rows)
