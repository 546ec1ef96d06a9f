"""The command line's last line of defence, and bad arguments for every command.

An unexpected exception in any command (a bug, not bad input) prints one line and
exits 70; ``--debug`` or ``OVMER_DEBUG=1`` shows the traceback. Ctrl-C exits 130
keeping finished records. Argument errors are argparse's usage and exit 2. A few
cases run ``python -m ovmer`` as a real process, as a user's shell would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from adversarial_helpers import Ovmer, write

from ovmer.cli import COMMANDS, INTERNAL_ERROR_STATUS
from ovmer.store import Record, ResultsStore, store_path


def _explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError("something the code never expected\nsecond line")


# One function that each command calls early, to break it from inside.
BREAK_POINTS = {
    "fetch": ("ovmer.assets.cli", "fetch", ()),
    "import-released": ("ovmer.store.cli", "import_released", ("--quiet",)),
    "export": ("ovmer.store.cli_export", "export_store", ("extract/Otter/S1", "x.npz")),
    "score": ("ovmer.scoring.cli", "load_resources", ("x.npz",)),
    "check-submission": ("ovmer.scoring.cli_submission", "check_submission", ("x.npz", "--candidates", "c.csv")),
    "describe": ("ovmer.describe.cli", "resolve_run", ("--baseline", "Otter", "--setting", "S0", "--data", ".")),
    "describe-merge": ("ovmer.describe.cli", "merge_shards",
                       ("--baseline", "Otter", "--setting", "S0", "--shards", "2", "--data", ".")),
    "baselines": ("ovmer.describe.cli_baselines", "baselines_table", ()),
    "asr": ("ovmer.describe.cli", "transcribe_subtitles", ("--data", ".", "--model-path", ".")),
    "convert-gguf": ("ovmer.llm.cli_gguf", "convert_gguf", ("model.gguf",)),
    "merge": ("ovmer.llm.cli", "run_merge", ("--backend", "replay", "--baseline", "Otter")),
    "extract": ("ovmer.llm.cli", "run_extract", ("--baseline", "Otter")),
    "group": ("ovmer.llm.cli", "run_group", ("--backend", "replay", "--baseline", "Otter")),
    "fit-extractor": ("ovmer.extract.cpu.training", "fit_released", ("--quiet",)),
    "reproduce": ("ovmer.reproduce.cli", "run_reproduction", ("--smoke", "--no-fetch")),
    "download": ("ovmer.hub.cli", "download_mer2025", ("mer2025",)),
    "download-model": ("ovmer.hub.cli", "download_model", ("Video-LLaVA",)),
    "explain-label": ("ovmer.scoring.cli_explain", "explain_label", ("happy",)),
}


def test_every_command_has_a_break_point() -> None:
    assert sorted(BREAK_POINTS) == sorted(COMMANDS.names())


@pytest.mark.parametrize("command", sorted(BREAK_POINTS))
def test_an_unexpected_exception_is_one_line_and_exit_70(
    ovmer: Ovmer, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    module, attribute, argv = BREAK_POINTS[command]
    if command == "reproduce":
        monkeypatch.setattr("ovmer.reproduce.cli.import_released", lambda: [])
    monkeypatch.setattr(f"{module}.{attribute}", _explode)
    line = ovmer.fails(command, *argv, code=INTERNAL_ERROR_STATUS)
    assert line.endswith("; run with --debug for the traceback")
    assert "RuntimeError: something the code never expected | second line" in line


@pytest.mark.parametrize("how", ["flag-first", "flag-after", "env"])
def test_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    from ovmer.cli import main

    monkeypatch.setattr("ovmer.scoring.cli.load_resources", _explode)
    argv = {"flag-first": ["--debug", "score", "x.npz"], "flag-after": ["score", "x.npz", "--debug"],
            "env": ["score", "x.npz"]}[how]
    if how == "env":
        monkeypatch.setenv("OVMER_DEBUG", "1")
    assert main(argv) == INTERNAL_ERROR_STATUS
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: something the code never expected" in err
    assert err.strip().splitlines()[-1].startswith("ovmer: internal error in score: ")


def test_debug_also_traces_a_user_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from ovmer.cli import main

    assert main(["--debug", "score", str(tmp_path / "none.npz")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("ovmer score: error: ")


def test_ctrl_c_keeps_finished_records(ovmer: Ovmer, output: Path, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    store = ResultsStore(store_path("extract", "Mine", "S1", output))
    store.append(Record("a", "ok", "k", raw="[calm]", value=["calm"]))
    before = store.path.read_bytes()

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("ovmer.llm.cli.run_extract", interrupted)
    texts = write(tmp_path / "d.csv", "name,description\na,He smiles.\n")
    outcome = ovmer.run("extract", "--baseline", "Mine", "--setting", "S1", "--input", texts)
    assert outcome.code == 130 and outcome.error_lines == ["ovmer extract: interrupted; finished records are kept"]
    assert store.path.read_bytes() == before


@pytest.mark.parametrize(
    "argv",
    [
        ("score",),
        ("score", "--gt"),
        ("score", "x.npz", "--parser", "gpt"),
        ("export", "only-one"),
        ("export", "a", "b", "--format", "xml"),
        ("describe", "--baseline", "Otter"),
        ("describe-merge", "--baseline", "Otter", "--setting", "S0", "--shards", "two", "--data", "."),
        ("extract", "--baseline", "Otter", "--backend", "gpt9"),
        ("extract", "--baseline", "Otter", "--limit", "ten"),
        ("merge", "--baseline", "Otter"),
        ("group", "--backend", "replay"),
        ("fit-extractor", "--exclude", "Oter"),
        ("baselines", "--format", "yaml"),
        ("fetch", "--bogus"),
        ("reproduce", "--extra-baseline"),
        ("asr", "--data"),
    ],
)
def test_argument_errors_are_usage_and_exit_2(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    from ovmer.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(list(argv))
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"ovmer {argv[0]}: error:" in err


@pytest.mark.parametrize(("command", "hint"), [("scor", "Did you mean 'score'?"), ("import", "import-released"),
                                               ("", "unknown command")])
def test_an_unknown_command(capsys: pytest.CaptureFixture[str], command: str, hint: str) -> None:
    from ovmer.cli import main

    assert main([command]) == 2
    assert hint in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (("reproduce", "--extract-backend", "cpuu", "--smoke", "--no-fetch"),
         ("unknown extract backend 'cpuu'", "Did you mean 'cpu'?", "Known extract backends: cpu, ")),
        (("reproduce", "--merge-backend", "opneai", "--smoke", "--no-fetch"),
         ("unknown merge backend 'opneai'", "Did you mean 'openai'?")),
        (("asr", "--data", "."), ("--model-path is required",)),
        (("asr", "--data", "/nowhere", "--model-path", "/nowhere"), ("/nowhere",)),
        (("score", "x.npz", "--gt", "/"), ("/: is a folder",)),
    ],
)
def test_command_specific_refusals_come_before_any_work(
    ovmer: Ovmer, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], fragments
) -> None:
    monkeypatch.setattr("ovmer.reproduce.cli.import_released", _explode)  # a typo must stop before the import
    monkeypatch.setattr("ovmer.reproduce.cli.run_reproduction", _explode)
    ovmer.fails(*argv, names=fragments)


def test_reproduce_with_a_missing_extra_baseline_folder(ovmer: Ovmer, tmp_path: Path) -> None:
    ovmer.fails("reproduce", "--smoke", "--no-fetch", "--extra-baseline", tmp_path / "mine", names=[tmp_path / "mine"])


def test_reproduce_with_a_damaged_extra_baseline_store(ovmer: Ovmer, tmp_path: Path) -> None:
    folder = tmp_path / "Mine"
    write(folder / "nosubtitle.jsonl", b"\x00\x01\x02 garbage\n")
    ovmer.fails("reproduce", "--smoke", "--no-fetch", "--extra-baseline", folder,
                names=[folder / "nosubtitle.jsonl", "not a results-store file"])


# --------------------------------------------------------------------------- real processes


def run_process(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "ovmer", *argv], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_a_real_process_reports_a_damaged_npz_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "x-openset.npz", b"PK\x03\x04 not really")
    done = run_process("score", str(path))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [f"ovmer score: error: {path}: cannot read as npz (BadZipFile: "
                                                "File is not a zip file)"]


def test_a_real_process_reports_a_bad_store_line_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "store" / "extract" / "B" / "subtitle.jsonl", '{"name": ["a"], "status": "ok", "key": "k"}\n')
    done = run_process("export", str(path), str(tmp_path / "x.npz"))
    assert done.returncode == 1 and done.stderr.strip().splitlines() == [
        f"ovmer export: error: {path}:1: 'name' must be a sample name (text), got ['a']"]


def test_a_real_process_with_debug_env_prints_a_traceback_for_a_bug(tmp_path: Path) -> None:
    # A command with a bug in it, registered the way every command is (one registry line).
    write(tmp_path / "buggy_command.py", "def add_arguments(parser):\n    pass\n\n"
          "def main(args):\n    return {}['missing']\n")
    write(tmp_path / "sitecustomize.py", "import ovmer.cli\novmer.cli.COMMANDS.register('boom', 'buggy_command', 'x')\n")
    done = run_process("boom", env={"PYTHONPATH": str(tmp_path), "OVMER_DEBUG": "1"})
    assert done.returncode == INTERNAL_ERROR_STATUS and "Traceback" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("ovmer: internal error in boom: KeyError: 'missing'")
    quiet = run_process("boom", env={"PYTHONPATH": str(tmp_path), "OVMER_DEBUG": "0"})
    assert quiet.returncode == INTERNAL_ERROR_STATUS and quiet.stderr.strip().splitlines() == [
        "ovmer: internal error in boom: KeyError: 'missing'; run with --debug for the traceback"]
