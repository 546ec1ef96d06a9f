"""Record keys are a file format: the same inputs give the same key as in the releases before.

The values below were computed by the code before the describe runner was split
and the message, prompt and key modules were unified; a resumed run after an
upgrade must skip finished work, so none of them may change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ovmer.describe.prompts import render_describe_prompt
from ovmer.describe.registry import get_baseline
from ovmer.keys import (
    asr_key,
    cpu_extract_key,
    describe_key,
    file_identity,
    folder_fingerprint,
    llm_key,
    model_fingerprint,
    rule_key,
)
from ovmer.llm.presets import get_preset
from ovmer.prompts import load_prompt
from ovmer.settings import Setting

PINNED = {
    "asr": "ff6091792d4c4132003b8d9bcd242030466ddd57db8c4f46542d4f101bd65139",
    "cpu": "c9ef443a517abfb22c98cdfa24aef4c2aee06dd097b9ec1811241517c1125f1f",
    "describe-external/nosubtitle": "7ff5d3eee771c3636385de03c4c1c30ccb14f1589f836b1d155130fc9559dcba",
    "describe-external/subtitle": "467f378b6ddaa3099fc7b589b330dad00526e891d430d5a059096c8f461ffa98",
    "describe/nosubtitle": "5a9255aebf00720f011fee5a462513d28e3acbe47f74ae95cc5f8e0c417ec368",
    "describe/subtitle": "1283c30e8f94859fe220623b068570811dbb93771b3da865be815cf5c567d384",
    "describe-served/subtitle": "62623fbfadb5a3c53f02b70a36ec15f4743f838e030400ce724119c849016da8",
    # Since 0.2 the fingerprint covers tokenizer and chat-template files (tokenizer.json here); a folder
    # without them keeps the first recipe's value ("folder_fingerprint/weights-only").
    "folder_fingerprint": "1c9d8ec2595326ff",
    "folder_fingerprint/first-recipe": "d9e01b1f045c847f",
    "folder_fingerprint/weights-only": "5009a332fe99fcc6",
    "llm/extract/deterministic": "ca5146c2677fbecdf3c57b9366c99c0fc9f66bd03ecacf50eef5ea79029c26eb",
    "llm/extract/paper": "1dade471e13c00fb1966e78268113481342a83ab208e00998541299df2c99b2e",
    "llm/group/deterministic": "e1ee929cba973c2aa1b32ad3bbbd01c43e099a19ed562dc313873c72018641e2",
    "llm/group/paper": "894a5fdf9fed767f74bae7677fbe4aa0b7edecbb2806bbe56de5139da79bc75e",
    "llm/merge/deterministic": "0cf0abe35f2789d3bfcb49ff8cf08cadf190ce0fdf2b824f6bf3394a7b5be6d4",
    "llm/merge/paper": "770e5505ab95aacb49bd605924b386654885d33d6988e43f8b35ff25829fa04a",
    "request": "892507f41acae12c5a45a439c5b84e430f6c93e1b7998971dd3558f8f0d8a9cd",
    "rule": "59cacb1e58ae9378a1a731c86c5d584d3c96967b24a3f88f6d6126b65984b98f",
}
MODEL_FILES = {
    "big.safetensors": 4194305,
    "config.json": "a010c0bd8122f369f196536fffc217e49d7aedd9e91bc0282a0995cc575e6c57",
    "model.safetensors": "7ca5bd879f393d9dd05b14f38add9c0fc6b67928f7f2d261b2e47a32ee8219e3",
    "sub/extra.bin": "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603",
    "tokenizer.json": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
}


@pytest.fixture()
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "config.json").write_text('{"hidden_size": 8}')
    (model / "model.safetensors").write_bytes(b"\0" * 5000)
    (model / "big.safetensors").write_bytes(b"\0" * ((4 << 20) + 1))  # over the hashing limit: size only
    (model / "tokenizer.json").write_text("{}")
    (model / "sub" / "extra.bin").write_bytes(b"ab")
    (model / ".cache").mkdir()
    (model / ".cache" / "x").write_text("ignored")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not really a video")
    return model, clip


def test_model_fingerprints(inputs: tuple[Path, Path]) -> None:
    model, _ = inputs
    assert model_fingerprint(model, "org/model") == {"checkpoint": "org/model", "files": MODEL_FILES}
    assert folder_fingerprint(model) == PINNED["folder_fingerprint"]
    (model / "tokenizer.json").unlink()
    (model / "big.safetensors").unlink()
    (model / "model.safetensors").write_bytes(b"\0" * 5000)
    assert folder_fingerprint(model) == PINNED["folder_fingerprint/weights-only"]


def test_folder_fingerprint_follows_the_chat_template_and_tokenizer(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"hidden_size": 8}')
    (model / "model.safetensors").write_bytes(b"\0" * 5000)
    seen = {folder_fingerprint(model)}
    for name, text in (("tokenizer_config.json", "{}"), ("chat_template.jinja", "{{ messages }}"),
                       ("chat_template.jinja", "{{ messages | last }}"), ("generation_config.json", "{}")):
        (model / name).write_text(text)
        seen.add(folder_fingerprint(model))
    assert len(seen) == 5  # every file, and every edit of one, gives a new revision
    (model / "README.md").write_text("notes")
    assert folder_fingerprint(model) in seen  # documentation is not part of the model
    assert model_fingerprint(None, "org/model") == {"checkpoint": "org/model"}


@pytest.mark.parametrize("setting", [Setting.NOSUBTITLE, Setting.SUBTITLE])
def test_describe_keys(inputs: tuple[Path, Path], setting: Setting) -> None:
    model, clip = inputs
    spec = get_baseline("Video-LLaVA")
    prompt = render_describe_prompt(setting, spec.modalities, "I  am\nfine" if setting is Setting.SUBTITLE else None)
    key = describe_key(
        baseline=spec.name, model=model_fingerprint(model, spec.checkpoint), prompt=prompt,
        generation={"max_new_tokens": 256, "do_sample": False, "dtype": "auto"}, frames=spec.frame_policy,
        visual="frames", media={"video": file_identity(clip)}, setting=setting)
    assert key == PINNED[f"describe/{setting.value}"]
    secap = get_baseline("SECap")  # names no frame policy: the default frames are keyed
    key = describe_key(
        baseline=secap.name, model=model_fingerprint(None, secap.checkpoint),
        prompt=render_describe_prompt(setting, secap.modalities, "hi" if setting is Setting.SUBTITLE else None),
        generation={}, frames=secap.frame_policy, visual="faces", media={"audio": file_identity(clip)},
        setting=setting, runner="external")
    assert key == PINNED[f"describe-external/{setting.value}"]


def test_asr_rule_and_cpu_keys(inputs: tuple[Path, Path]) -> None:
    model, clip = inputs
    settings = {"backend": "whisper", "language": "en", "task": "transcribe", "max_new_tokens": 200, "dtype": "auto"}
    assert asr_key(settings=settings, model=model_fingerprint(model, "whisper-tiny"), audio=file_identity(clip)) == (
        PINNED["asr"])
    assert rule_key("merge", "no-subtitle", "a description") == PINNED["rule"]
    assert cpu_extract_key("CpuExtractor:abc", "She cries.") == PINNED["cpu"]


@pytest.mark.parametrize("stage", ["extract", "merge", "group"])
@pytest.mark.parametrize("preset", ["deterministic", "paper"])
def test_llm_stage_keys(inputs: tuple[Path, Path], stage: str, preset: str) -> None:
    model, _ = inputs

    class Backend:
        name = "transformers"
        model_id = "tiny"
        revision = PINNED["folder_fingerprint/first-recipe"]  # the llm key's recipe, for a given revision

        def key_fields(self) -> dict:
            return {}

    values = {"extract": {"description": "He smiles {x}."}, "merge": {"description": "d", "subtitle": "s"},
              "group": {"labels": "[happy, sad]"}}[stage]
    prompt = load_prompt(stage)
    key = llm_key(stage, Backend(), prompt, prompt.messages(**values), get_preset(preset))  # type: ignore[arg-type]
    assert key == PINNED[f"llm/{stage}/{preset}"]


def test_the_vllm_backend_records_the_model_files_revision(inputs: tuple[Path, Path]) -> None:
    from ovmer.llm.vllm_backend import VLLMBackend

    model, _ = inputs
    assert VLLMBackend(str(model)).revision == folder_fingerprint(model)
    assert VLLMBackend(str(model)).run_info()["revision"] == folder_fingerprint(model)
    assert VLLMBackend("org/not-in-the-local-cache").revision is None  # a hub id with no cached snapshot


def test_served_model_keys(inputs: tuple[Path, Path]) -> None:
    from ovmer.describe.registry import create_adapter
    from ovmer.keys import request_sha256

    _, clip = inputs
    adapter = create_adapter("openai-compatible", model="org/Tiny-VL", base_url="http://127.0.0.1:1/v1",
                             num_frames=4, max_side=336)
    generation = adapter.generation_settings()
    assert generation["request"] == {
        "body": {"model": "org/Tiny-VL", "max_tokens": 256, "temperature": 0.0},
        "media": {"image_format": "jpeg", "jpeg_quality": 90, "video_url": False},
        "modalities": ["audio", "video"], "max_side": 336, "layout": 1,
    }
    assert generation["request_sha256"] == request_sha256(generation["request"]) == PINNED["request"]
    spec = adapter.spec
    prompt = render_describe_prompt(Setting.SUBTITLE, spec.modalities, "hi")
    key = describe_key(
        baseline=spec.name, model=model_fingerprint(None, spec.checkpoint), prompt=prompt, generation=generation,
        frames=spec.frame_policy, visual="frames", media={"video": file_identity(clip), "audio": file_identity(clip)},
        setting=Setting.SUBTITLE)
    assert key == PINNED["describe-served/subtitle"]
