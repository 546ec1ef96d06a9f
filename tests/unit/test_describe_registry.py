"""The baseline registry: every paper system, frame policies, lookups, lazy adapters, the table and CLI."""

from __future__ import annotations

import pytest
from describe_helpers import NATIVE

from ovmer.cli import main as cli_main
from ovmer.data.released import RELEASED_BASELINES
from ovmer.describe.adapter import FramePolicy
from ovmer.describe.registry import BASELINES, baselines_table, create_adapter, get_baseline
from ovmer.errors import OvmerError

PAPER_SYSTEMS = {
    "audio": ["Qwen-Audio", "SALMONN", "SECap"],
    "video": ["Otter", "VideoChat", "VideoChat2", "Video-LLaMA", "Video-LLaVA", "Video-ChatGPT", "LLaMA-VID",
              "mPLUG-Owl", "Chat-UniVi"],
    "audio+video": ["OneLLM", "PandaGPT"],
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


def test_table_has_one_row_per_baseline() -> None:
    table = baselines_table()
    assert list(table["name"]) == list(BASELINES)
    assert {"name", "modalities", "frames", "run", "checkpoint", "paper", "released", "notes"} <= set(table.columns)
    rows = table.set_index("name")
    assert rows.loc["OneLLM", "modalities"] == "audio+video"
    assert rows.loc["SALMONN", "frames"] == "-"
    assert rows.loc["LLaMA-VID", "frames"] == "1 fps"
    assert sorted(table.loc[table["run"] == "native", "name"]) == sorted([*NATIVE, "Qwen2.5-Omni-3B", "openai-compatible"])
    assert table["paper"].sum() == sum(len(names) for names in PAPER_SYSTEMS.values())


def test_cli_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["baselines"]) == 0
    out = capsys.readouterr().out
    for name in [*sum(PAPER_SYSTEMS.values(), []), *NATIVE]:
        assert name in out
    assert cli_main(["baselines", "--run", "native", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("name,modalities,frames,run,checkpoint")
    assert len(lines) == 1 + 6 and all(",native," in line for line in lines[1:])  # 5 models + openai-compatible


def test_did_you_mean_puts_the_closest_name_first() -> None:
    with pytest.raises(OvmerError, match=r"Did you mean 'Video-LLaVA'"):
        get_baseline("videolava")
