"""ASR stage: a tiny random Whisper built offline, transcribing espeak-ng speech into the store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from media_helpers import espeak_available, make_video, make_wav

from ovmer.describe.asr import (
    WhisperTranscriber,
    WhisperXTranscriber,
    asr_store,
    create_transcriber,
    default_store_name,
    run_asr,
    write_subtitle_csv,
)
from ovmer.errors import OvmerError
from ovmer.store.jsonl import Record, ResultsStore

needs_espeak = pytest.mark.skipif(
    not espeak_available(), reason="espeak-ng not installed (apt-get install -y espeak-ng; .ci/run installs it)"
)
SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|zh|>", "<|translate|>", "<|transcribe|>",
            "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]


def _byte_level_chars() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for raw bytes (GPT-2's table)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[byte] = chr(byte)
        else:
            chars[byte] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def build_tiny_whisper(folder):
    """A random-weight Whisper (d_model 16, one layer each side) with a byte-level tokenizer, saved like a checkpoint."""
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({c: i for i, c in enumerate(_byte_level_chars())}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    eot = SPECIALS[0]
    tokenizer = WhisperTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), unk_token=eot,
                                 bos_token=eot, eos_token=eot, pad_token=eot)
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS[1:]})
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIALS}
    config = WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_source_positions=1500, max_target_positions=48, pad_token_id=ids[eot], bos_token_id=ids[eot],
        eos_token_id=ids[eot], decoder_start_token_id=ids["<|startoftranscript|>"],
        suppress_tokens=[], begin_suppress_tokens=[],
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids[eot], pad_token_id=ids[eot],
        bos_token_id=ids[eot], lang_to_id={"<|en|>": ids["<|en|>"], "<|zh|>": ids["<|zh|>"]},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"], is_multilingual=True,
    )
    model.save_pretrained(folder)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tokenizer).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory):
    pytest.importorskip("transformers")
    return build_tiny_whisper(tmp_path_factory.mktemp("asr") / "whisper-tiny-random")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    if not espeak_available():
        pytest.skip("espeak-ng not installed (apt-get install -y espeak-ng)")
    folder = tmp_path_factory.mktemp("clips")
    make_wav(folder / "greeting.wav", speech="hello there, how are you today")
    make_video(folder / "farewell.mp4", seconds=1.5, speech="see you tomorrow")
    return folder


class CountingWhisper(WhisperTranscriber):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loads, self.calls = 0, []

    def load(self):
        self.loads += 1
        super().load()

    def transcribe(self, waveform):
        self.calls.append(waveform.size)
        return super().transcribe(waveform)


@pytest.mark.slow
@needs_espeak
def test_whisper_transcribes_speech_into_the_store_and_resumes(tiny_whisper, clips, tmp_path):
    engine = CountingWhisper(str(tiny_whisper), language="en", max_new_tokens=12)
    summary = run_asr(clips, str(tiny_whisper), store_root=tmp_path, transcriber=engine, progress=False)
    assert (summary.done, summary.failed) == (2, 0), summary.failures
    assert engine.loads == 1
    # espeak speech, decoded at 16 kHz: the wav as is, the clip's AAC track padded to 1.5 s
    assert engine.calls[0] == pytest.approx(24_000, abs=1_100) and engine.calls[1] > 16_000  # sorted names
    store = asr_store(default_store_name("whisper", str(tiny_whisper)), tmp_path)
    assert store.path.parts[-3:] == ("asr", "whisper-whisper-tiny-random", "nosubtitle.jsonl")
    records = store.latest()
    assert set(records) == {"greeting", "farewell"} and all(isinstance(r.value, str) for r in records.values())
    # greedy decoding of a fixed model: the same audio gives the same text
    again = CountingWhisper(str(tiny_whisper), language="en", max_new_tokens=12)
    again.load()
    from ovmer.describe.media import load_audio

    assert again.transcribe(load_audio(clips / "greeting.wav").waveform).strip() == records["greeting"].value

    rerun = CountingWhisper(str(tiny_whisper), language="en", max_new_tokens=12)
    summary = run_asr(clips, str(tiny_whisper), store_root=tmp_path, transcriber=rerun, progress=False)
    assert (summary.done, summary.skipped) == (0, 2) and rerun.loads == 0 and rerun.calls == []
    translate = CountingWhisper(str(tiny_whisper), task="translate", max_new_tokens=12)
    assert run_asr(clips, str(tiny_whisper), store_root=tmp_path, transcriber=translate, progress=False).done == 2


@pytest.mark.slow
def test_long_audio_is_cut_into_30_second_windows(tiny_whisper):
    engine = WhisperTranscriber(str(tiny_whisper), max_new_tokens=4)
    engine.load()
    seen = []
    extractor = engine.processor.feature_extractor

    def spy(pieces, **kwargs):
        seen.append([len(p) for p in pieces])
        return extractor.__class__.__call__(extractor, pieces, **kwargs)

    engine.processor.feature_extractor = spy  # type: ignore[assignment]
    text = engine.transcribe(np.zeros(65 * 16_000, np.float32))
    assert isinstance(text, str) and seen == [[480_000, 480_000, 80_000]]


def test_subtitle_csv_fills_only_empty_cells_unless_overwrite(tmp_path):
    store = ResultsStore(tmp_path / "asr.jsonl")
    for name, text in (("a", "hello"), ("b", "new words"), ("c", "third")):
        store.append(Record(name, "ok", "k", raw=text, value=text))
    store.append(Record("d", "error", "k", error="boom"))
    csv = tmp_path / "subtitle_chieng.csv"
    pd.DataFrame({"name": ["a", "b"], "chinese": ["你好", "中文"], "english": ["", "curated"]}).to_csv(csv, index=False)
    write_subtitle_csv(store, csv, column="english")
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    assert frame.to_dict("records") == [
        {"name": "a", "chinese": "你好", "english": "hello"},
        {"name": "b", "chinese": "中文", "english": "curated"},  # curated text kept
        {"name": "c", "chinese": "", "english": "third"},
    ]
    write_subtitle_csv(store, csv, column="english", overwrite=True)
    assert pd.read_csv(csv, dtype=str, keep_default_na=False)["english"].tolist() == ["hello", "new words", "third"]
    fresh = write_subtitle_csv(store, tmp_path / "new" / "subs.csv", column="chinese")
    assert pd.read_csv(fresh, dtype=str, keep_default_na=False).columns.tolist() == ["name", "chinese", "english"]


def test_backend_errors_are_clear(tmp_path):
    with pytest.raises(OvmerError, match="did you mean 'whisperx'"):
        create_transcriber("wisperx", str(tmp_path))
    assert isinstance(create_transcriber("WhisperX", str(tmp_path)), WhisperXTranscriber)
    with pytest.raises(OvmerError, match="ASR model folder does not exist"):
        create_transcriber("whisper", str(tmp_path / "absent")).load()
    with pytest.raises(OvmerError, match="task must be transcribe or translate"):
        create_transcriber("whisper", str(tmp_path), task="summarise")
    try:
        import whisperx  # noqa: F401
    except ImportError:
        with pytest.raises(OvmerError, match="environment_whisperx.yml"):
            create_transcriber("whisperx", str(tmp_path)).load()


@pytest.mark.slow
@needs_espeak
def test_cli_asr_writes_store_and_csv(tiny_whisper, clips, tmp_path, capsys):
    from ovmer.cli import main

    code = main(["asr", "--data", str(clips), "--model-path", str(tiny_whisper), "--output", str(tmp_path),
                 "--language", "en", "--no-progress", "--write-csv", str(tmp_path / "subs.csv")])
    assert code == 0, capsys.readouterr().err
    assert "asr whisper: 2 done" in capsys.readouterr().out
    frame = pd.read_csv(tmp_path / "subs.csv", dtype=str, keep_default_na=False)
    assert sorted(frame["name"]) == ["farewell", "greeting"]
