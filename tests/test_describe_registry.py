"""The baseline registry: every paper system, frame policies, lookups, lazy adapters, the table and CLI."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from ovmer.cli import main as cli_main
from ovmer.data.released import RELEASED_BASELINES
from ovmer.describe.adapter import DescribeAdapter, FramePolicy
from ovmer.describe.registry import BASELINES, baselines_table, create_adapter, get_baseline
from ovmer.errors import OvmerError

PAPER_SYSTEMS = {
    "audio": ["Qwen-Audio", "SALMONN", "SECap"],
    "video": ["Otter", "VideoChat", "VideoChat2", "Video-LLaMA", "Video-LLaVA", "Video-ChatGPT", "LLaMA-VID",
              "mPLUG-Owl", "Chat-UniVi"],
    "audio+video": ["OneLLM", "PandaGPT"],
}
NATIVE = {
    "Video-LLaVA": ("VideoLlavaForConditionalGeneration", "LanguageBind/Video-LLaVA-7B-hf"),
    "Qwen2-Audio-7B-Instruct": ("Qwen2AudioForConditionalGeneration", "Qwen/Qwen2-Audio-7B-Instruct"),
    "LLaVA-NeXT-Video": ("LlavaNextVideoForConditionalGeneration", "llava-hf/LLaVA-NeXT-Video-7B-hf"),
    "Qwen2.5-Omni": ("Qwen2_5OmniThinkerForConditionalGeneration", "Qwen/Qwen2.5-Omni-7B"),
}


@pytest.mark.parametrize(("kind", "name"), [(k, n) for k, names in PAPER_SYSTEMS.items() for n in names])
def test_every_paper_system_is_registered_with_its_modalities(kind: str, name: str) -> None:
    spec = get_baseline(name)
    assert spec.paper
    assert spec.modalities - {"text"} == set(kind.split("+"))
    assert spec.run in ("native", "external", "replay")
    assert spec.checkpoint
    if "video" in spec.modalities:
        assert spec.frames.num_frames or spec.frames.fps, f"{name} has no frame policy"


def test_frame_policies_are_the_papers() -> None:
    expected = {
        "Otter": FramePolicy(num_frames=16),
        "VideoChat": FramePolicy(num_frames=8),
        "VideoChat2": FramePolicy(num_frames=4),
        "mPLUG-Owl": FramePolicy(num_frames=4),
        "LLaMA-VID": FramePolicy(fps=1.0),
        "Chat-UniVi": FramePolicy(fps=1.0, max_frames=100),
        "Video-LLaVA": FramePolicy(num_frames=8),
    }
    for name, policy in expected.items():
        assert BASELINES[name].frames == policy, name
    assert BASELINES["Chat-UniVi"].frames.describe() == "1 fps, max 100"
    assert BASELINES["Otter"].frames.describe() == "16 frames"


def test_released_flags_match_the_released_outputs() -> None:
    assert {name for name, spec in BASELINES.items() if spec.released} == set(RELEASED_BASELINES)


def test_external_systems_say_where_the_upstream_code_is() -> None:
    for spec in BASELINES.values():
        if spec.run == "external":
            assert spec.upstream and spec.adapter is None, spec.name


@pytest.mark.parametrize("name", list(NATIVE))
def test_native_entries_point_at_adapter_classes(name: str) -> None:
    spec = get_baseline(name)
    model_class, checkpoint = NATIVE[name]
    assert spec.run == "native" and spec.checkpoint == checkpoint
    module_name, _, class_name = spec.adapter.partition(":")
    module = importlib.import_module(module_name)
    adapter_cls = getattr(module, class_name)
    assert issubclass(adapter_cls, DescribeAdapter)
    assert model_class in (module.__doc__ or ""), "the adapter module documents the transformers class it runs"


def test_qwen2_audio_is_not_registered_as_qwen_audio() -> None:
    assert get_baseline("Qwen-Audio").run == "external"
    assert get_baseline("Qwen-Audio").checkpoint == "Qwen/Qwen-Audio-Chat"
    assert get_baseline("Qwen2-Audio-7B-Instruct").paper is False


def test_lookup_ignores_case_and_punctuation() -> None:
    assert get_baseline("videollava").name == "Video-LLaVA"
    assert get_baseline("qwen2.5 omni").name == "Qwen2.5-Omni"
    assert get_baseline("CHAT_UNIVI").name == "Chat-UniVi"


@pytest.mark.parametrize(("typo", "suggestion"), [("Vido-LLaVA", "Video-LLaVA"), ("Salmon", "SALMONN"),
                                                  ("PandaGTP", "PandaGPT")])
def test_typos_get_a_did_you_mean(typo: str, suggestion: str) -> None:
    with pytest.raises(OvmerError, match=f"Did you mean .*'{suggestion}'"):
        get_baseline(typo)


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(OvmerError, match="Known baselines: .*Otter"):
        get_baseline("GPT-4V")


def test_external_baselines_have_no_adapter() -> None:
    with pytest.raises(OvmerError, match="external protocol.*import-released"):
        create_adapter("Otter")
    with pytest.raises(OvmerError, match="no native adapter: run it in its authors' environment") as info:
        create_adapter("SECap")
    assert "import-released" not in str(info.value)


def test_create_adapter_builds_without_loading() -> None:
    adapter = create_adapter("video-llava", model_path="/nowhere", device="cpu", dtype="float32",
                             max_new_tokens=7)
    assert adapter.spec is BASELINES["Video-LLaVA"]
    assert (adapter.model_path, adapter.device, adapter.dtype, adapter.max_new_tokens) == (
        "/nowhere", "cpu", "float32", 7)
    assert adapter.model is None
    assert adapter.generation_settings() == {"max_new_tokens": 7, "do_sample": False, "dtype": "float32"}


def test_one_adapter_class_serves_several_entries() -> None:
    small = create_adapter("Qwen2.5-Omni-3B")
    big = create_adapter("Qwen2.5-Omni")
    assert type(small) is type(big)
    assert small.spec.checkpoint == "Qwen/Qwen2.5-Omni-3B" and big.spec.checkpoint == "Qwen/Qwen2.5-Omni-7B"
    assert "video_max_pixels" in big.generation_settings()


def test_table_has_one_row_per_baseline() -> None:
    table = baselines_table()
    assert list(table["name"]) == list(BASELINES)
    assert {"name", "modalities", "frames", "run", "checkpoint", "paper", "released", "notes"} <= set(table.columns)
    rows = table.set_index("name")
    assert rows.loc["OneLLM", "modalities"] == "audio+video"
    assert rows.loc["SALMONN", "frames"] == "-"
    assert rows.loc["LLaMA-VID", "frames"] == "1 fps"
    assert sorted(table.loc[table["run"] == "native", "name"]) == sorted([*NATIVE, "Qwen2.5-Omni-3B"])
    assert table["paper"].sum() == sum(len(names) for names in PAPER_SYSTEMS.values())


def test_cli_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["baselines"]) == 0
    out = capsys.readouterr().out
    for name in [*sum(PAPER_SYSTEMS.values(), []), *NATIVE]:
        assert name in out
    assert cli_main(["baselines", "--run", "native", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("name,modalities,frames,run,checkpoint")
    assert len(lines) == 1 + 5 and all(",native," in line for line in lines[1:])


def test_registry_prompts_and_cli_import_no_heavy_modules() -> None:
    code = (
        "import sys; import ovmer.describe.registry, ovmer.describe.prompts, ovmer.describe.cli_baselines; "
        "heavy = [m for m in ('torch', 'transformers', 'pandas') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_did_you_mean_puts_the_closest_name_first() -> None:
    with pytest.raises(OvmerError, match=r"Did you mean 'Video-LLaVA'"):
        get_baseline("videolava")
