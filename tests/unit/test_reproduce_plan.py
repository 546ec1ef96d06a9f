"""ovmer.reproduce without running anything: records, table writing, layout, step planning, the artefact
registry and the stage plans."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ovmer.errors import OvmerError
from ovmer.settings import Setting

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def test_record_outside_a_kernel_returns_the_value_and_validates_it() -> None:
    from ovmer.reproduce.record import record

    assert record("x", {"a": [1, 2.5, "t"]}) == {"a": [1, 2.5, "t"]}
    with pytest.raises(OvmerError, match="not a finite number"):
        record("bad", float("nan"))
    with pytest.raises(OvmerError, match="cannot store a object"):
        record("bad", object())


def test_records_are_read_back_from_notebook_outputs(tmp_path: Path) -> None:
    from ovmer.reproduce.record import RECORD_MIME, read_records

    notebook = {
        "cells": [
            {"cell_type": "code", "outputs": [
                {"output_type": "display_data", "data": {RECORD_MIME: {"name": "m", "value": 1.5}}},
                {"output_type": "stream", "name": "stdout", "text": "hello"},
            ]},
            {"cell_type": "markdown"},
            {"cell_type": "code", "outputs": [
                {"output_type": "display_data", "data": {RECORD_MIME: json.dumps({"name": "m", "value": 2})}},
            ]},
        ]
    }
    path = tmp_path / "run.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert read_records(path) == {"m": 2}  # the later record of a name wins
    with pytest.raises(OvmerError, match="executed notebook not found"):
        read_records(tmp_path / "missing.ipynb")


def test_table_formats_numbers_and_writes_three_files(tmp_path: Path) -> None:
    from ovmer.reproduce.table_io import Table, format_cell, write_table

    assert format_cell(-0.0001, 2) == "0.00"
    assert format_cell(float("nan"), 2) == "-"
    assert format_cell(3, 2) == "3"
    frame = pd.DataFrame({"M-avg": [47.21974, 1.0], "note": ["a|b", "x_y & z"]}, index=["Chat-UniVi", "B"])
    table = Table("t1", "Caption 100%", frame, digits=2, index_label="system")
    text = table.text()
    assert text.splitlines()[0] == "| system     | M-avg | note    |"
    assert text.splitlines()[1] == "|------------|------:|---------|"
    assert "| 47.22 |" in text and "a\\|b" in text
    paths = write_table(table, tmp_path)
    assert [p.name for p in paths] == ["t1.csv", "t1.md", "t1.tex"]
    assert pd.read_csv(paths[0], index_col=0).loc["Chat-UniVi", "M-avg"] == pytest.approx(47.21974)
    latex = paths[2].read_text()
    assert r"Caption 100\%" in latex and r"x\_y \& z" in latex and r"\toprule" in latex


def test_smoke_layout_never_touches_the_real_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ovmer.paths import figures_dir
    from ovmer.reproduce.layout import display_path, reproduce_layout, resolve_display_path

    monkeypatch.setenv("OVMER_OUTPUT", str(tmp_path))
    full, smoke = reproduce_layout(False), reproduce_layout(True)
    assert full.figures == figures_dir() and full.tables == tmp_path / "tables"
    for folder in (smoke.notebooks, smoke.tables, smoke.figures, smoke.scores):
        assert folder.is_relative_to(tmp_path / "smoke")
    assert display_path(smoke.scores) == "<output>/smoke/scores/scores.json"
    assert display_path(figures_dir() / "a.png") == "figures/a.png"
    for path in (smoke.scores, figures_dir() / "a.png"):
        assert resolve_display_path(display_path(path)) == path


def test_steps_are_ordered_and_typos_get_a_hint() -> None:
    from ovmer.reproduce.steps import STEPS, order_steps

    assert order_steps(["06_figures", "04_score", "05_tables"]) == ["04_score", "05_tables", "06_figures"]
    with pytest.raises(OvmerError, match="unknown notebook step '04_scores'. Did you mean '04_score'?"):
        order_steps(["04_scores"])
    assert STEPS.names() == [p.stem for p in sorted(NOTEBOOKS.glob("0*.ipynb"))]
    for name in STEPS:
        assert all(STEPS.names().index(need) < STEPS.names().index(name) for need in STEPS.get(name).needs)


def test_default_reproduction_scores_released_labels() -> None:
    from ovmer.reproduce.runner import ReproduceOptions, plan_reproduction

    layout, plans = plan_reproduction(ReproduceOptions(smoke=True))
    assert [p.step.name for p in plans] == ["04_score", "05_tables", "06_figures"]
    assert plans[0].parameters == {"smoke": True, "labels": "released", "extra_baselines": []}
    assert layout.root.name == "smoke"
    # released labels are assets (pinned by the manifest); tables and figures read the scores cache
    assert plans[0].inputs == () and plans[1].inputs == plans[2].inputs == (layout.scores,)


def test_extract_backend_adds_the_extract_step_and_scores_the_store() -> None:
    from ovmer.reproduce.runner import ReproduceOptions, plan_reproduction
    from ovmer.reproduce.selection import SMOKE_BASELINES

    _, plans = plan_reproduction(ReproduceOptions(smoke=True, extract_backend="cpu"))
    assert [p.step.name for p in plans] == ["03_extract_labels", "04_score", "05_tables", "06_figures"]
    assert plans[0].parameters["baselines"] == list(SMOKE_BASELINES)
    assert plans[0].parameters["backend"] == "cpu"
    assert plans[1].parameters["labels"] == "store"
    assert len(plans[1].inputs) == 2 * 3 and all(p.parent.parent.name == "extract" for p in plans[1].inputs)


def test_clean_notebook_strips_run_noise() -> None:
    from ovmer.reproduce.notebooks import clean_notebook

    notebook = {
        "metadata": {"papermill": {"duration": 1.2}, "kernelspec": {"name": "ovmer"}},
        "nbformat": 4, "nbformat_minor": 5,
        "cells": [
            {"cell_type": "code", "id": "a", "metadata": {"tags": ["parameters"], "papermill": {"duration": 1}},
             "execution_count": 7, "outputs": [], "source": "smoke: bool = True"},
            {"cell_type": "code", "id": "b", "metadata": {"tags": ["injected-parameters"]},
             "execution_count": 8, "outputs": [], "source": "smoke = False"},
            {"cell_type": "code", "id": "c", "metadata": {"execution": {"iopub.status.busy": "t"}},
             "execution_count": 9, "source": "1",
             "outputs": [{"output_type": "execute_result", "execution_count": 9, "data": {}, "metadata": {}}]},
            {"cell_type": "code", "id": "d", "metadata": {"tags": ["no-stored-output"]}, "execution_count": 10,
             "source": "w", "outputs": [{"output_type": "display_data", "data": {}, "metadata": {}}]},
        ],
    }
    clean = clean_notebook(notebook)
    assert "papermill" not in clean["metadata"] and clean["metadata"]["kernelspec"]["name"] == "ovmer"
    assert [c["id"] for c in clean["cells"]] == ["a", "c", "d"]
    assert [c["execution_count"] for c in clean["cells"]] == [1, 2, None]
    assert clean["cells"][1]["outputs"][0]["execution_count"] == 2
    assert clean["cells"][1]["metadata"] == {} and clean["cells"][2]["outputs"] == []


def test_plan_scoring_validates_and_caps_smoke() -> None:
    from ovmer.reproduce.scores import plan_scoring
    from ovmer.reproduce.selection import SMOKE_BASELINES

    plan = plan_scoring(smoke=True, n_boot=1000)
    assert plan.baselines == SMOKE_BASELINES and plan.n_boot == 100
    assert plan.settings == (Setting.NOSUBTITLE, Setting.SUBTITLE, Setting.NOSUBTITLE_ADDSUB)
    with pytest.raises(OvmerError, match="(?i)did you mean 'Chat-UniVi'"):
        plan_scoring(smoke=False, baselines=["Chat-Univi"])
    with pytest.raises(OvmerError, match="labels must be one of"):
        plan_scoring(smoke=False, labels="mine")
    with pytest.raises(OvmerError, match="unknown setting"):
        plan_scoring(smoke=False, settings=["S3"])
    with pytest.raises(OvmerError, match="may not reuse a released baseline"):
        plan_scoring(smoke=False, extra_baselines=["Otter"])


def test_missing_scores_file_names_the_notebook(tmp_path: Path) -> None:
    from ovmer.reproduce.scores import load_scores

    with pytest.raises(OvmerError, match="04_score"):
        load_scores(tmp_path / "scores.json")
    (tmp_path / "old.json").write_text(json.dumps({"format": 0, "entries": []}))
    with pytest.raises(OvmerError, match="run 04_score again"):
        load_scores(tmp_path / "old.json")


def test_every_artefact_declares_what_its_builder_takes_and_its_notebook_saves_it() -> None:
    from ovmer.reproduce.artefacts import ARTEFACTS, FIGURE, TABLE, artefact_builder, artefact_names

    assert len(artefact_names(TABLE)) == 10 and len(artefact_names(FIGURE)) == 9
    assert sorted(artefact_names(TABLE) + artefact_names(FIGURE)) == sorted(ARTEFACTS)
    for name in ARTEFACTS:
        artefact_builder(name)  # raises when the declared inputs and the builder's parameters differ
    for notebook, kind in (("05_tables", TABLE), ("06_figures", FIGURE)):
        code = json.loads((NOTEBOOKS / f"{notebook}.ipynb").read_text())["cells"]
        saved = ["".join(c["source"]).split('save_artefact("')[1].split('"')[0] for c in code
                 if 'save_artefact("' in "".join(c["source"])]
        assert saved == artefact_names(kind), notebook


def test_artefact_registry_errors_are_one_line(tmp_path: Path) -> None:
    from ovmer.registry import RegistryError
    from ovmer.reproduce import artefacts

    inputs = artefacts.ArtefactInputs(tmp_path / "scores.json", tmp_path, tmp_path)
    with pytest.raises(OvmerError, match="unknown artefact 'table2_ablations'. Did you mean 'table2_ablation'?"):
        artefacts.save_artefact("table2_ablations", inputs)
    with pytest.raises(OvmerError, match="unknown artefact input 'score'. Did you mean 'scores'?"):
        artefacts.ArtefactInputs(tmp_path, tmp_path, tmp_path, score=1)
    with pytest.raises(OvmerError, match="unknown artefact input 'scorse'"):
        artefacts.register_artefact("new", artefacts.TABLE, "ovmer.reproduce.tables:ablation", ["scorse"])
    with pytest.raises(OvmerError, match="no table or figure was saved"):
        artefacts.record_artefacts(inputs)
    with pytest.raises(OvmerError, match="scores.json: no scores yet; run notebooks/04_score.ipynb"):
        artefacts.save_artefact("table2_ablation", inputs)
    wrong = artefacts.Artefact("wrong", artefacts.TABLE, "ovmer.reproduce.tables:ablation", ("ground_truth",))
    missing = artefacts.Artefact("missing", artefacts.FIGURE, "ovmer.reproduce.figures:no_such_figure", ())
    artefacts.ARTEFACTS.register("wrong", wrong)
    artefacts.ARTEFACTS.register("missing", missing)
    try:
        with pytest.raises(RegistryError, match=r"declares the inputs \(ground_truth\) but its builder .* \(scores\)"):
            artefacts.save_artefact("wrong", inputs)
        with pytest.raises(RegistryError, match="figure 'missing': 'ovmer.reproduce.figures:no_such_figure' cannot"):
            artefacts.save_artefact("missing", inputs)
    finally:
        for name in ("wrong", "missing"):
            artefacts.ARTEFACTS._entries.pop(name)
            artefacts.ARTEFACTS._loaded.pop(name, None)


def test_stage_plans_validate_their_parameters(tmp_path: Path) -> None:
    from ovmer.reproduce.stage_describe import plan_describe
    from ovmer.reproduce.stages import finish_stage, plan_stage, summary_frame

    merge = plan_stage("merge", smoke=True, baselines=[], backend="replay", output=str(tmp_path))
    assert merge.baselines == ("Chat-UniVi", "SALMONN") and merge.settings == (Setting.NOSUBTITLE_ADDSUB,)
    assert merge.limit is None and merge.store_root == tmp_path / "smoke"
    with pytest.raises(OvmerError, match="extract: limit must be 0"):
        plan_stage("extract", smoke=True, baselines=[], backend="cpu", limit=-1)
    with pytest.raises(OvmerError, match="^limit must be 0"):
        plan_describe(smoke=True, baseline="Otter", limit=-2)
    assert plan_describe(smoke=True, baseline="Otter").limit == 4
    with pytest.raises(OvmerError, match="made by clue merging"):
        plan_describe(smoke=True, baseline="Otter", settings=["S2"])
    failed = summary_frame([{"baseline": "Otter", "setting": "S0", "stage": "extract", "done": 1, "skipped": 0,
                             "failed": 2, "store file": "x.jsonl"}])
    with pytest.raises(OvmerError, match=r"extract: failed samples in Otter/S0 extract \(2 failed\)"):
        finish_stage(failed, "extract")
    with pytest.raises(OvmerError, match="nothing to run"):
        finish_stage(summary_frame([]), "merge")


def test_reproduce_is_a_registered_command(capsys: pytest.CaptureFixture[str]) -> None:
    from ovmer.cli import COMMANDS, main

    assert COMMANDS.entry("reproduce").target == "ovmer.reproduce.cli"
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--smoke", "--extract-backend", "--extra-baseline", "--force", "--refresh-notebooks"):
        assert option in out
