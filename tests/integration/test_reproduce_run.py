"""End-to-end: `ovmer reproduce --smoke` through papermill, numbers read back from the executed notebooks."""

from __future__ import annotations

import functools
import json
import shutil
import time
from pathlib import Path

import pytest

from ovmer.reproduce.artefacts import FIGURE, TABLE, artefact_names
from ovmer.reproduce.sources import ModuleGraph
from ovmer.settings import Setting

ROOT = Path(__file__).resolve().parents[2]

CHAT_UNIVI_S2_M_AVG = 47.2197  # the scoring spec check (issue 3), x100
SALMONN_S0_M_AVG = 35.0135  # the same released file scored by `ovmer score` (x100)


@pytest.fixture()
def output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OVMER_OUTPUT", str(tmp_path))
    return tmp_path


@pytest.fixture()
def sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Steps are keyed on a copy of the package's sources, which the test edits (the kernels run the real one).

    It also keeps edits elsewhere in a shared working tree from re-running steps mid-test.
    """
    copy = tmp_path / "sources"
    shutil.copytree(ROOT / "ovmer", copy / "ovmer", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr("ovmer.reproduce.steps.ModuleGraph", functools.partial(ModuleGraph, copy))
    return copy / "ovmer"


def _prepend_to_docstring(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace('"""', f'"""{text} ', 1), encoding="utf-8")


@pytest.mark.slow
def test_smoke_reproduction_records_the_spec_numbers_and_skips_when_up_to_date(
    output: Path, sources: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from ovmer.reproduce.cli import add_arguments, main
    from ovmer.reproduce.record import read_records

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert main(parser.parse_args(["--smoke", "--no-fetch"])) == 0
    printed = capsys.readouterr().out
    smoke = output / "smoke"
    records = read_records(smoke / "notebooks" / "04_score.ipynb")
    assert records["m_avg"]["Chat-UniVi/S2"] == pytest.approx(CHAT_UNIVI_S2_M_AVG, abs=1e-3)
    assert records["m_avg"]["SALMONN/S0"] == pytest.approx(SALMONN_S0_M_AVG, abs=1e-3)
    assert set(records["m_avg"]) == {f"{b}/{s}" for b in ("Chat-UniVi", "SALMONN") for s in ("S0", "S1", "S2")}
    # the main table is printed, with where everything went
    assert "| Chat-UniVi |" in printed and "47.22" in printed
    # real paths (relative to the working directory when below it), so a user can open them
    assert f"{(smoke / 'tables').resolve()}/" in printed and f"{(smoke / 'figures').resolve()}/" in printed
    tables = read_records(smoke / "notebooks" / "05_tables.ipynb")["outputs"]
    assert len(tables) == 3 * len(artefact_names(TABLE)) and all(p.startswith("<output>/smoke/tables/") for p in tables)
    figures = sorted(p.name for p in (smoke / "figures").iterdir())
    assert len(figures) == 2 * len(artefact_names(FIGURE)) and "emotion_wheels.pdf" in figures and "ablation.png" in figures
    executed = json.loads((smoke / "notebooks" / "04_score.ipynb").read_text())
    assert executed["metadata"]["papermill"]["parameters"] == {"smoke": True, "labels": "released",
                                                               "extra_baselines": []}
    stored = json.dumps(executed)
    assert "it/s]" not in stored and "\\r" not in stored  # no progress bars in the stored outputs

    assert "05_tables          ran" in printed and "(first run)" in printed

    # unchanged inputs: every step is skipped, also after a docstring edit in a module no step uses
    from ovmer.reproduce.runner import ReproduceOptions, run_reproduction

    _prepend_to_docstring(sources / "describe" / "media.py", "Edited.")
    started = time.perf_counter()
    again = run_reproduction(ReproduceOptions(smoke=True))
    assert [r.status for r in again.runs] == ["skipped"] * 3 and time.perf_counter() - started < 20
    assert again.runs[0].records["m_avg"]["Chat-UniVi/S2"] == pytest.approx(CHAT_UNIVI_S2_M_AVG, abs=1e-3)
    # a deleted table re-runs only its step
    (smoke / "tables" / "table2_ablation.md").unlink()
    third = run_reproduction(ReproduceOptions(smoke=True))
    assert [(r.status, r.reason) for r in third.runs] == [
        ("skipped", "up to date"), ("ran", "output <output>/smoke/tables/table2_ablation.md missing"),
        ("skipped", "up to date")]
    assert (smoke / "tables" / "table2_ablation.md").is_file()
    # an edit in a module the tables use (the paper's published numbers) re-runs the tables and figures,
    # which reach it through the artefact registry, but not the scoring
    _prepend_to_docstring(sources / "scoring" / "paper.py", "Edited.")
    fourth = run_reproduction(ReproduceOptions(smoke=True))
    assert [(r.status, r.reason) for r in fourth.runs] == [
        ("skipped", "up to date"), ("ran", "source ovmer/scoring/paper.py changed"),
        ("ran", "source ovmer/scoring/paper.py changed")]


@pytest.mark.slow
def test_reextraction_and_an_extra_baseline_are_scored_from_the_store(
    output: Path, sources: Path, tmp_path: Path
) -> None:
    """--extract-backend cpu plus a user's system whose descriptions equal Chat-UniVi's: same labels, same scores."""
    from ovmer.data import load_released_descriptions
    from ovmer.reproduce.runner import ReproduceOptions, plan_reproduction
    from ovmer.reproduce.steps import run_steps
    from ovmer.store import Record, ResultsStore

    folder = tmp_path / "systems" / "MyUniVi"
    folder.mkdir(parents=True)
    for setting in (Setting.NOSUBTITLE, Setting.SUBTITLE):
        store = ResultsStore(folder / f"{setting.value}.jsonl")
        for name, text in load_released_descriptions("Chat-UniVi", setting).items():
            store.append(Record(name, "ok", f"user-{name}", raw=text, value=text))
    options = ReproduceOptions(smoke=True, extract_backend="cpu", extra_baselines=(folder,))
    layout, plans = plan_reproduction(options)
    # tables and figures are covered above; score from the store here
    summary = run_steps([p for p in plans if p.step.name in ("03_extract_labels", "04_score")], layout)
    assert [r.name for r in summary.runs] == ["03_extract_labels", "04_score"]
    m_avg = summary.runs[1].records["m_avg"]
    assert set(m_avg) == {"Chat-UniVi/S0", "Chat-UniVi/S1", "Chat-UniVi/S2", "SALMONN/S0", "SALMONN/S1",
                          "SALMONN/S2", "MyUniVi/S0", "MyUniVi/S1"}
    for setting in ("S0", "S1"):
        assert m_avg[f"MyUniVi/{setting}"] == pytest.approx(m_avg[f"Chat-UniVi/{setting}"], abs=1e-9)
    # re-extracted labels score near, not exactly at, the released LLM labels
    assert m_avg["Chat-UniVi/S2"] == pytest.approx(CHAT_UNIVI_S2_M_AVG, abs=8.0)
    assert m_avg["Chat-UniVi/S2"] != pytest.approx(CHAT_UNIVI_S2_M_AVG, abs=1e-6)
    # the scored store files are inputs of 04_score: a changed label file re-runs it
    again = run_steps([p for p in plans if p.step.name in ("03_extract_labels", "04_score")], layout)
    assert [r.status for r in again.runs] == ["skipped", "skipped"]
    labels = layout.root / "store" / "extract" / "MyUniVi" / "nosubtitle.jsonl"
    first = next(iter(ResultsStore(labels).values()))
    ResultsStore(labels).append(Record(first, "ok", "edited", raw="['happy']", value=["happy"]))
    third = run_steps([p for p in plans if p.step.name == "04_score"], layout)
    assert third.runs[0].status == "ran"
    assert third.runs[0].reason == "file <output>/smoke/store/extract/MyUniVi/nosubtitle.jsonl changed"
