"""``ovmer asr --backend faster-whisper`` with a real checkpoint (faster-whisper tiny.en) on espeak-ng speech."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from media_helpers import espeak_available, make_video, make_wav
from real_helpers import TINY_EN, needs_tiny_en, word_error_rate

from ovmer.cli import main
from ovmer.describe.asr import asr_store, create_transcriber, default_store_name, run_asr
from ovmer.errors import OvmerError
from ovmer.reproduce.notebooks import execute_notebook

pytestmark = [pytest.mark.slow, pytest.mark.real, needs_tiny_en,
              pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed (apt-get install espeak-ng)")]
pytest.importorskip("faster_whisper", reason="faster-whisper not installed (pip install 'ovmer[models]')")

SPOKEN = {
    "greeting": "hello there, how are you today",
    "farewell": "see you tomorrow",
    "joy": "I am very happy to see you again",
    "plea": "please do not leave me alone",
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("speech")
    for name, text in SPOKEN.items():
        if name == "farewell":  # one clip's speech is the audio track of a video
            make_video(folder / f"{name}.mp4", seconds=1.5, speech=text)
        else:
            make_wav(folder / f"{name}.wav", speech=text)
    return folder


def test_cli_transcribes_espeak_speech_with_wer_at_most_a_tenth_and_resumes(clips, tmp_path, capsys) -> None:
    csv = tmp_path / "subs.csv"
    command = ["asr", "--backend", "faster-whisper", "--data", str(clips), "--model-path", str(TINY_EN),
               "--output", str(tmp_path), "--language", "en", "--no-progress", "--write-csv", str(csv)]
    assert main(command) == 0, capsys.readouterr().err
    assert "asr faster-whisper: 4 done" in capsys.readouterr().out

    store = asr_store(default_store_name("faster-whisper", str(TINY_EN)), tmp_path)
    records = store.latest()
    assert sorted(records) == sorted(SPOKEN) and all(r.ok for r in records.values())
    heard = {name: record.value for name, record in records.items()}
    names = sorted(SPOKEN)
    wer = word_error_rate([SPOKEN[n] for n in names], [heard[n] for n in names])
    assert wer <= 0.1, heard
    assert records["greeting"].meta["backend"] == "faster-whisper"
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False).set_index("name")
    assert frame.loc[names, "english"].tolist() == [heard[n] for n in names]

    # A re-run finds every transcript done (same settings, model files and audio).
    assert main(command) == 0
    assert "0 done, 4 skipped" in capsys.readouterr().out
    # The backend's own options are part of the key: another beam width transcribes again.
    assert main([*command, "--beam-size", "1", "--vad"]) == 0
    assert "4 done" in capsys.readouterr().out


def test_options_and_errors_are_clear(clips, tmp_path) -> None:
    engine = create_transcriber("faster-whisper", str(TINY_EN), language="en", beam_size=2, vad=True,
                                compute_type="int8")
    assert engine.settings() == {"backend": "faster-whisper", "language": "en", "task": "transcribe",
                                 "max_new_tokens": 200, "dtype": "auto", "compute_type": "int8",
                                 "beam_size": 2, "vad": True}
    assert create_transcriber("faster-whisper", str(TINY_EN)).compute_type == "float32"  # CPU, dtype auto
    with pytest.raises(OvmerError, match="compute type must be one of"):
        create_transcriber("faster-whisper", str(TINY_EN), compute_type="int3")
    with pytest.raises(OvmerError, match="the whisper ASR backend does not take these options"):
        create_transcriber("whisper", str(TINY_EN), beam_size=2)
    with pytest.raises(OvmerError, match="not a CTranslate2 Whisper folder"):
        create_transcriber("faster-whisper", str(tmp_path)).load()
    summary = run_asr(clips, str(TINY_EN), backend="faster-whisper", language="en", names=["joy"],
                      store_root=tmp_path, progress=False, options={"compute_type": "int8"})
    assert summary.done == 1


def test_the_subtitles_by_asr_notebook_writes_the_csv_headless(clips, tmp_path) -> None:
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "subtitles_by_asr.ipynb"
    csv = tmp_path / "subtitle_chieng.csv"
    ran = execute_notebook(notebook, tmp_path / "ran.ipynb", {
        "data_dir": str(clips), "model_path": str(TINY_EN), "language": "en", "csv": str(csv),
        "output": str(tmp_path / "out"), "beam_size": 1,
    })
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False).set_index("name")
    names = sorted(SPOKEN)
    assert word_error_rate([SPOKEN[n] for n in names], frame.loc[names, "english"].tolist()) <= 0.1
    shown = "".join("".join(o.get("data", {}).get("text/plain", "")) for c in json.loads(ran.read_text())["cells"]
                    for o in c.get("outputs", []))
    assert "asr: 4 done" in shown and f"wrote {csv} (english)" in shown and "greeting" in shown
