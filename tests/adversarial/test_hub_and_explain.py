"""The commands that came with the Hub downloads and the label explainer, fed bad input.

``download`` / ``download-model`` offline with an empty cache, misspelt parts and
baselines, a baseline that is not native, a damaged record of downloaded models;
``explain-label`` with empty, odd and unknown labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from adversarial_helpers import Ovmer, write


@pytest.fixture()
def offline_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (("download", "mer2025", "--parts", "vidoe"), ("unknown part 'vidoe'", "Did you mean 'video'?")),
        (("download", "mer2025", "--parts", "video"), ("not in the Hub cache",)),
        (("download-model", "Video-Lava"), ("Did you mean",)),
        (("download-model", "Otter"), ("Otter is not a native baseline",)),
        (("download-model", "Video-LLaVA"), ("not in the Hub cache",)),
        (("explain-label", " "), ("the label is empty",)),
    ],
)
def test_bad_input_to_the_new_commands(
    ovmer: Ovmer, offline_hub: Path, tmp_path: Path, argv: tuple[str, ...], fragments
) -> None:
    extra = ("--dest", tmp_path / "mer") if argv[0] == "download" else ()
    ovmer.fails(*argv, *extra, names=fragments)
    assert not (tmp_path / "mer").exists() or not any((tmp_path / "mer").rglob("*.mp4"))


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[" * 50_000], ids=["torn", "utf16", "deep"])
def test_a_damaged_record_of_downloaded_models_is_named(
    ovmer: Ovmer, private_data: Path, offline_hub: Path, tmp_path: Path, content: bytes
) -> None:
    from ovmer.hub.models import record_path

    record = write(record_path(), content)
    write(tmp_path / "mer" / "subtitle_chieng.csv", "name,chinese,english\na,b,c\n")
    ovmer.fails("describe", "--baseline", "Video-LLaVA", "--setting", "S0", "--data", tmp_path / "mer",
                "--no-progress", names=[record, "unreadable record of downloaded models"])


@pytest.mark.parametrize("label", ["Happy", "zzzz-not-a-word", "开心", "happy\x00sad", "a" * 5000, "[happy, sad]"])
def test_explain_label_answers_odd_labels(ovmer: Ovmer, label: str) -> None:
    outcome = ovmer.ok("explain-label", label, "--json")
    data = json.loads(outcome.out)
    assert isinstance(data, dict) and data


def test_explain_label_argument_errors(capsys: pytest.CaptureFixture[str]) -> None:
    from ovmer.cli import main

    for argv in (["explain-label"], ["explain-label", "happy", "--wheel", "9"], ["explain-label", "x", "--level", "0"]):
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        assert stopped.value.code == 2 and "Traceback" not in capsys.readouterr().err
