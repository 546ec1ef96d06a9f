"""Reply limits and stop strings, CPU dtypes, repeated-run store files and GGUF file checks (no models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ovmer import devices
from ovmer.errors import OvmerError
from ovmer.extract.stage import REPLY as EXTRACT_REPLY
from ovmer.group.stage import REPLY as GROUP_REPLY
from ovmer.keys import llm_key
from ovmer.labels import parse_labels
from ovmer.llm import get_preset
from ovmer.llm.chat_completions import _reply_text
from ovmer.llm.client import LLMBackend, Reply, was_cut
from ovmer.llm.gguf import gguf_model, is_gguf
from ovmer.llm.openai_backend import OpenAIBackend
from ovmer.llm.presets import GenerationSettings, ReplyLimit
from ovmer.llm.text_stage import generate_replies
from ovmer.prompts import load_prompt
from ovmer.scoring.grouping import parse_groups
from ovmer.store.jsonl import seed_of_path, store_path

# The key of an extract call under the deterministic preset with the stage's stop at "]" and 512-token extension (new in 0.1:
# the earlier 512-token key, pinned in test_keys.py, stays what it was).
SHORT_EXTRACT_KEY = "d50e994ffe1e5ac3c266f87e7a409198fd8e24d7469b94afa171f6ceeb670d6d"


class Backend(LLMBackend):
    name = "transformers"
    model_id = "tiny"

    def __init__(self, fields: dict | None = None) -> None:
        self.fields = fields or {}

    def key_fields(self) -> dict:
        return self.fields

    def generate(self, batch, settings):
        return []


def test_stages_leave_the_preset_open_and_fill_their_own_limits() -> None:
    deterministic, paper = get_preset("deterministic"), get_preset("paper")
    assert (deterministic.max_new_tokens, deterministic.stop) == (None, None)
    assert deterministic.resolved(EXTRACT_REPLY).as_dict() == {
        "do_sample": False, "repetition_penalty": 1.0, "max_new_tokens": 128, "stop": ["]"], "extend_to": 512}
    assert deterministic.resolved(GROUP_REPLY).as_dict()["stop"] == ["]]"]
    # merge has no limit of its own: 512 tokens and no stop, the keys it always had
    assert deterministic.resolved().as_dict() == deterministic.as_dict() == {
        "do_sample": False, "repetition_penalty": 1.0, "max_new_tokens": 512}
    # the paper preset spells out the authors' settings: nothing for a stage to fill
    assert paper.resolved(EXTRACT_REPLY) == paper and "stop" not in paper.as_dict()
    # explicit choices win over the stage's, and an explicit budget is never extended
    explicit = deterministic.replace(max_new_tokens=300).resolved(EXTRACT_REPLY)
    assert (explicit.max_new_tokens, explicit.extend_to) == (300, None) and "extend_to" not in explicit.as_dict()
    assert deterministic.replace(stop=()).resolved(EXTRACT_REPLY).stop == ()


def test_stop_strings_are_kept_and_overhang_is_cut() -> None:
    settings = GenerationSettings(stop=("]", "]]"))
    assert settings.cut_at_stop("[happy, sad]. Because she smiles") == "[happy, sad]"
    assert settings.cut_at_stop("no list here") == "no list here"
    assert GenerationSettings().cut_at_stop("[a] b") == "[a] b"
    with pytest.raises(OvmerError, match="stop must be a sequence of non-empty strings"):
        GenerationSettings(stop="]")  # type: ignore[arg-type]
    with pytest.raises(OvmerError, match="non-empty"):
        GenerationSettings(stop=("",))
    assert GenerationSettings(stop=["]"]).stop == ("]",)  # type: ignore[arg-type]


@pytest.mark.parametrize("reply", [
    "[happy, excited]", "Output: [happy, excited]", "['happy', 'excited'] The woman smiles, so she is happy.",
    "The main character is the woman. [happy, excited]\nShe smiles a lot.", "[]", "no list at all, sorry",
])
def test_stopping_at_the_list_end_reads_the_same_labels_as_the_complete_reply(reply: str) -> None:
    stopped = GenerationSettings().resolved(EXTRACT_REPLY).cut_at_stop(reply)
    assert parse_labels(stopped) == parse_labels(reply)


def test_stopping_at_the_end_of_the_groups_reads_the_same_groups() -> None:
    reply = "[['happy', 'joyful'], ['angry']] These are the groups."
    stopped = GenerationSettings().resolved(GROUP_REPLY).cut_at_stop(reply)
    assert stopped == "[['happy', 'joyful'], ['angry']]" and parse_groups(stopped) == parse_groups(reply)


def test_keys_change_with_the_new_defaults_and_a_backend_dtype_only() -> None:
    prompt = load_prompt("extract")
    messages = prompt.messages(description="He smiles {x}.")
    short = get_preset().resolved(EXTRACT_REPLY)
    key = llm_key("extract", Backend(), prompt, messages, short)
    assert key == llm_key("extract", Backend({}), prompt, messages, short)
    assert key != llm_key("extract", Backend(), prompt, messages, get_preset())
    assert key != llm_key("extract", Backend({"dtype": "bfloat16"}), prompt, messages, short)
    assert key == SHORT_EXTRACT_KEY


def test_auto_dtype_is_bfloat16_only_on_cpus_with_bfloat16_instructions(tmp_path: Path, monkeypatch) -> None:
    amx, plain = tmp_path / "amx", tmp_path / "plain"
    amx.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile\n")
    plain.write_text("processor\t: 0\nflags\t\t: fpu sse avx2\n")
    assert devices.cpu_has_fast_bfloat16(str(amx)) and not devices.cpu_has_fast_bfloat16(str(plain))
    assert not devices.cpu_has_fast_bfloat16(str(tmp_path / "absent"))
    for fast, expected in ((True, "bfloat16"), (False, "float32")):
        monkeypatch.setattr(devices, "cpu_has_fast_bfloat16", lambda fast=fast: fast)
        assert devices.llm_dtype_name("auto", "cpu", "float32") == expected
    assert devices.llm_dtype_name("auto", "cuda", "bfloat16") == "bfloat16"
    assert devices.llm_dtype_name("auto", "cuda:1", None) == "float32"
    assert devices.llm_dtype_name("fp32", "cpu", "bfloat16") == "float32"
    with pytest.raises(OvmerError, match="unknown dtype"):
        devices.llm_dtype_name("int4", "cpu", None)


def test_repeated_runs_have_their_own_store_files(tmp_path: Path) -> None:
    path = store_path("extract", "Otter", "S2", tmp_path, seed=3)
    assert path.name == "nosubtitle-addsub.seed-3.jsonl" and seed_of_path(path) == 3
    assert store_path("extract", "Otter", "S2", tmp_path).name == "nosubtitle-addsub.jsonl"
    assert seed_of_path(store_path("extract", "Otter", "S2", tmp_path)) is None
    assert store_path("extract", "Otter", "S0", tmp_path, shard=(0, 2), seed=1).name == "nosubtitle.seed-1.shard-0-of-2.jsonl"


def test_openai_requests_carry_the_stop_and_vllm_stop_reasons_are_put_back() -> None:
    backend = OpenAIBackend("m")
    body = backend.request_body([], GenerationSettings().resolved(EXTRACT_REPLY))
    assert (body["stop"], body["max_tokens"]) == (["]"], 128)
    assert "stop" not in backend.request_body([], get_preset("paper"))
    reply = {"choices": [{"message": {"content": "[happy, sad"}, "finish_reason": "stop", "stop_reason": "]"}]}
    assert _reply_text(json.dumps(reply).encode(), ("]",)) == "[happy, sad]"
    reply["choices"][0]["stop_reason"] = 2  # a stop token id (end of turn): nothing to put back
    assert _reply_text(json.dumps(reply).encode(), ("]",)) == "[happy, sad"


def test_gguf_files_are_recognised_and_bad_ones_refused(tmp_path: Path) -> None:
    assert is_gguf("models/SmolLM2.Q4_1.GGUF") and not is_gguf("models/SmolLM2")
    with pytest.raises(OvmerError, match="no such GGUF file"):
        gguf_model(tmp_path / "absent.gguf")
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip")
    with pytest.raises(OvmerError, match="not a GGUF file"):
        gguf_model(fake)
    real_header = tmp_path / "tiny-model.Q8_0.gguf"
    real_header.write_bytes(b"GGUF" + b"\0" * 20)
    found = gguf_model(real_header, cache=tmp_path / "cache")
    assert found.model_id == "tiny-model.Q8_0" and found.revision == f"gguf-{found.sha256[:16]}"
    assert found.folder == tmp_path / "cache" / f"{found.sha256[:16]}-tiny-model.Q8_0" and not found.converted


def test_reply_limit_defaults() -> None:
    assert ReplyLimit() == ReplyLimit(512, ())
    assert EXTRACT_REPLY.max_new_tokens < 512 and GROUP_REPLY.max_new_tokens < 512


def test_command_line_reply_options_reach_the_stage_settings() -> None:
    import argparse

    from ovmer.llm.cli import add_extract_arguments, stage_options

    parser = argparse.ArgumentParser()
    add_extract_arguments(parser)

    def settings(*argv: str) -> GenerationSettings:
        return stage_options(parser.parse_args(["--baseline", "x", "--backend", "openai", *argv]))["settings"]

    assert settings().resolved(EXTRACT_REPLY).as_dict()["stop"] == ["]"]
    assert settings("--no-stop").resolved(EXTRACT_REPLY).stop == ()
    assert settings("--max-new-tokens", "64").resolved(EXTRACT_REPLY).max_new_tokens == 64
    assert settings("--preset", "paper", "--seed", "3").resolved(EXTRACT_REPLY).as_dict() == {
        "do_sample": True, "temperature": 0.7, "top_p": 0.8, "repetition_penalty": 1.05, "max_new_tokens": 512,
        "seed": 3}
    assert parser.parse_args(["--baseline", "x", "--repeats", "3"]).repeats == 3


def test_a_reply_knows_whether_the_budget_cut_it_and_survives_pickling() -> None:
    import pickle

    cut = Reply("['happy', 'sa", cut=True)
    assert cut == "['happy', 'sa" and isinstance(cut, str) and was_cut(cut)
    assert not was_cut("plain text") and not was_cut(Reply("[happy]"))
    again = pickle.loads(pickle.dumps(cut))
    assert type(again) is Reply and again == cut and again.cut
    with pytest.raises(OvmerError, match="must exceed"):
        ReplyLimit(max_new_tokens=128, extend_to=64)
    with pytest.raises(OvmerError, match="no longer budget"):
        GenerationSettings(max_new_tokens=10).extended()


def test_servers_report_a_cut_reply_through_finish_reason() -> None:
    reply = {"choices": [{"message": {"content": "['happy', 'sa"}, "finish_reason": "length"}]}
    assert was_cut(_reply_text(json.dumps(reply).encode(), ("]",)))
    reply["choices"][0]["finish_reason"] = "stop"
    assert not was_cut(_reply_text(json.dumps(reply).encode(), ("]",)))


class Lister(LLMBackend):
    """Writes a fixed reply per conversation, one token per character, cut at the budget like a real model."""

    name = "lister"
    model_id = "lister"

    def __init__(self, replies: dict[str, str]) -> None:
        self.replies = replies
        self.calls: list[tuple[int, int]] = []  # (conversations, budget) of every call

    def generate(self, batch, settings):
        self.calls.append((len(batch), settings.token_limit))
        out = []
        for conversation in batch:
            text = settings.cut_at_stop(self.replies[conversation[-1].content])
            out.append(Reply(text[: settings.token_limit], cut=len(text) > settings.token_limit))
        return out


def test_a_reply_cut_by_the_short_budget_is_generated_again_with_the_longer_one() -> None:
    from ovmer.messages import ChatMessage

    long_list = "[" + ", ".join(f"label{i}" for i in range(40)) + "]"  # ~330 characters: past 128
    replies = {"short": "[happy, sad] and more chatter", "long": long_list, "prose": "x" * 600}
    backend = Lister(replies)
    settings = get_preset().resolved(EXTRACT_REPLY)
    batch = [[ChatMessage("user", name)] for name in replies]
    outcomes, budgets = generate_replies(backend, batch, settings)
    assert outcomes[0] == "[happy, sad]" and outcomes[1] == long_list  # the complete list, not its first 128
    assert parse_labels(outcomes[1]) == parse_labels(long_list) and len(parse_labels(long_list)) == 40
    assert budgets == [128, 512, 512] and was_cut(outcomes[2]) and not was_cut(outcomes[1])
    assert backend.calls == [(3, 128), (2, 512)]  # only the cut replies go again, together
    # An explicit budget is the user's: nothing is generated again.
    backend.calls.clear()
    outcomes, budgets = generate_replies(backend, batch, get_preset().replace(max_new_tokens=128).resolved(EXTRACT_REPLY))
    assert budgets == [128, 128, 128] and backend.calls == [(3, 128)]
