"""ovmer.reproduce on the real assets: notebook hygiene, the scores cache, the tables and figures of the
artefact registry, dataset statistics, the describe replay, the explorer and extra baselines."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from ovmer.errors import OvmerError
from ovmer.settings import Setting

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
CHAT_UNIVI_S2_M_AVG = 47.2197  # the scoring spec check (issue 3), x100


# -- notebooks: planned parameters, hygiene ------------------------------------------------------


def test_every_planned_parameter_is_declared_by_its_notebook(tmp_path: Path) -> None:
    from ovmer.reproduce.notebooks import declared_parameters, notebooks_dir
    from ovmer.reproduce.runner import ReproduceOptions, plan_reproduction

    extra = _describe_folder(tmp_path / "MySystem", n=3)
    options = ReproduceOptions(smoke=True, extract_backend="cpu", merge_backend="replay", extra_baselines=(extra,))
    _, plans = plan_reproduction(options)
    assert [p.step.name for p in plans][:2] == ["02_merge_clues", "03_extract_labels"]
    for plan in plans:
        declared = declared_parameters(notebooks_dir() / f"{plan.step.name}.ipynb")
        assert set(plan.parameters) <= set(declared), plan.step.name


def test_undeclared_parameter_is_refused(tmp_path: Path) -> None:
    from ovmer.reproduce.layout import reproduce_layout
    from ovmer.reproduce.steps import STEPS, StepPlan, run_steps

    with pytest.raises(OvmerError, match="does not declare parameter"):
        run_steps([StepPlan(STEPS.get("05_tables"), {"smoke": True, "nonsense": 1})], reproduce_layout(True, tmp_path))


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_committed_notebook_follows_the_rules(path: Path) -> None:
    from ovmer.reproduce.notebooks import declared_parameters

    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    # the first code cell holds the parameters, only as `name: type = value  # help` lines
    assert code[0]["metadata"].get("tags") == ["parameters"]
    lines = [line for line in "".join(code[0]["source"]).splitlines() if line.strip()]
    declared = declared_parameters(path)
    assert len(declared) == len(lines)
    for name, info in declared.items():
        assert info["inferred_type_name"] in ("bool", "str", "int", "float", "list"), name
        assert info["help"].strip(), f"{path.name}: parameter {name} has no help text"
    # clean, deterministic stored outputs
    assert set(notebook["metadata"]) == {"kernelspec", "language_info"}
    counts = [c["execution_count"] for c in code if c["execution_count"] is not None]
    assert counts == list(range(1, len(counts) + 1))
    text = json.dumps(notebook)
    for noise in ("/tmp/", "/work/", "/home/", "\"papermill\":", "injected-parameters", "0x7f", "it/s]"):
        assert noise not in text, f"{path.name} stores {noise!r}"
    for cell in code:
        for output in cell["outputs"]:
            assert output.get("name") != "stderr", f"{path.name}: stderr output {output.get('text')!r:.200}"
            assert output["output_type"] != "error"


# -- scores ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_scores(tmp_path_factory: pytest.TempPathFactory):
    """Scores of three released baselines in S0 and S2 (20 bootstrap draws), through the cache file."""
    from ovmer.reproduce.scores import compute_scores, load_scores, plan_scoring

    out = tmp_path_factory.mktemp("scores")
    plan = plan_scoring(smoke=False, baselines=["Chat-UniVi", "Otter", "SALMONN"], settings=["S0", "S2"],
                        n_boot=20, output=str(out))
    table = compute_scores(plan)
    assert load_scores(plan.scores_file) == table
    return table


def test_scores_match_the_spec_and_carry_intervals_and_diagnostics(small_scores) -> None:
    entry = small_scores.get("Chat-UniVi", "S2")
    assert entry.m_avg * 100 == pytest.approx(CHAT_UNIVI_S2_M_AVG, abs=1e-3)
    assert entry.metrics["M1"]["f"] * 100 == pytest.approx(28.4300, abs=1e-3)
    low, high = entry.intervals["M-avg"]
    assert low < entry.m_avg < high
    assert entry.n_samples == 332 and 0 <= entry.empty_predictions < 332 and entry.mean_labels > 0
    assert 0 <= entry.oov["M1"]["pred_dropped"] <= 1
    frame = small_scores.f_frame()
    assert frame.loc[("Chat-UniVi", "S2"), "M-avg"] == pytest.approx(CHAT_UNIVI_S2_M_AVG, abs=1e-3)
    assert list(frame.index.get_level_values("setting").unique()) == ["S0", "S2"]


# -- the artefact registry: tables and figures ----------------------------------------------------


@pytest.fixture()
def table_inputs(small_scores, tmp_path: Path):
    from ovmer.data import load_ovmerd
    from ovmer.reproduce.artefacts import ArtefactInputs
    from ovmer.scoring import load_resources

    return ArtefactInputs(tmp_path / "no-scores.json", tmp_path / "tables", tmp_path / "figures",
                          scores=small_scores, ground_truth=dict(load_ovmerd().ground_truth),
                          resources=load_resources())


def _table(name: str, inputs):
    from ovmer.reproduce.artefacts import save_artefact

    return save_artefact(name, inputs).value


def test_inputs_are_read_once_on_first_use(small_scores, tmp_path: Path) -> None:
    from ovmer.reproduce.artefacts import ArtefactInputs
    from ovmer.reproduce.scores import save_scores

    save_scores(small_scores, tmp_path / "scores.json")
    inputs = ArtefactInputs(tmp_path / "scores.json", tmp_path, tmp_path)
    assert inputs.get("scores") == small_scores and inputs.get("scores") is inputs.get("scores")
    descriptions = inputs.get("descriptions")
    assert set(descriptions["source"]) == {"reference", "Chat-UniVi", "Otter", "SALMONN"}
    assert set(descriptions["setting"]) == {"-", "S0", "S2"}


def test_table1_compares_with_the_paper_and_correlates_with_gpt(table_inputs) -> None:
    from ovmer.scoring.paper import PAPER_EW_COLUMNS, PAPER_EW_ROWS

    table = _table("table1_ew_s2", table_inputs)
    frame = table.frame
    ours = table_inputs.get("scores").f_frame().xs("S2", level="setting")
    printed = pd.DataFrame.from_dict(PAPER_EW_ROWS, orient="index", columns=list(PAPER_EW_COLUMNS))
    assert frame.loc["Chat-UniVi (paper)", "GPT"] == 53.08 and frame.loc["Chat-UniVi (paper)", "M-avg"] == 46.75
    assert frame.loc["Chat-UniVi (Δ)", "M-avg"] == pytest.approx(ours.loc["Chat-UniVi", "M-avg"] - 46.75)
    # the systems without released outputs have the paper's row only; released ones not scored here none
    assert [i for i in frame.index if i.startswith(("SECap", "Video-LLaMA"))] == ["Video-LLaMA (paper)",
                                                                                   "SECap (paper)"]
    assert not any(i.startswith("VideoChat2") for i in frame.index)
    # PCC: over the paper's 12 rows, and over our 3 systems against the paper's GPT column
    assert frame.loc["PCC (paper, 12 systems)", "M-avg"] == pytest.approx(printed["M-avg"].corr(printed["GPT"]))
    expected = pd.Series(ours["M-avg"].to_numpy()).corr(pd.Series([53.08, 43.51, 47.96]))  # Chat-UniVi, Otter, SALMONN
    assert frame.loc["PCC (ours, 3 systems)", "M-avg"] == pytest.approx(expected)
    assert "Largest |Δ M-avg|: Chat-UniVi (+0.47); 3 of 3 systems within 1.0" in table.note
    # the CSV is the long form: system, kind, metric, value
    long = pd.read_csv(table_inputs.tables_dir / "table1_ew_s2.csv")
    assert list(long.columns) == ["system", "kind", "metric", "value"]
    assert set(long["kind"]) == {"ours", "paper", "delta"} and set(long["metric"]) == set(PAPER_EW_COLUMNS)
    rows = long.set_index(["system", "kind", "metric"])["value"]
    assert rows[("Otter", "paper", "M3-W2-L1")] == 49.93
    assert rows[("Otter", "delta", "M-avg")] == pytest.approx(ours.loc["Otter", "M-avg"] - 39.41, abs=1e-6)
    assert rows[("PCC", "ours", "M-avg")] == pytest.approx(expected, abs=1e-6)
    assert ("SECap", "ours", "M1") not in rows and ("Otter", "ours", "GPT") not in rows
    assert len(long) == 3 * (13 + 14 + 13) + 2 * 14 + 2 * 13  # 3 scored systems, 2 paper-only, 2 PCC rows
    markdown = (table_inputs.tables_dir / "table1_ew_s2.md").read_text()
    assert "| Otter (Δ)" in markdown and "one LLM label-extraction run with sampling" in markdown
    summary = _table("table1_summary", table_inputs).frame
    assert summary.loc["Otter", "Δ M-avg"] == pytest.approx(ours.loc["Otter", "M-avg"] - 39.41)


def test_protocol_table_and_ranking_figure(table_inputs) -> None:
    from ovmer.scoring import score_released
    from ovmer.scoring.protocols import score_with_protocol

    frame = _table("table6_protocols", table_inputs).frame
    assert list(frame.index) == [f"{b} {s}" for b in ("Chat-UniVi", "Otter", "SALMONN") for s in ("S0", "S2")]
    assert list(frame.columns)[:2] == ["M-avg (OV-MER)", "hit rate (MER2023)"]  # hit rate beside M-avg
    report = score_released("Otter", "S2")
    level1 = sum(report.metrics[f"M3-W{w}-L1"].f for w in range(1, 6)) / 5
    level2 = sum(report.metrics[f"M3-W{w}-L2"].f for w in range(1, 6)) / 5
    assert frame.loc["Otter S2", "M-avg (OV-MER)"] == pytest.approx(100 * report.m_avg)
    assert frame.loc["Otter S2", "AffectGPT L1 F"] == pytest.approx(100 * level1)
    assert frame.loc["Otter S2", "MER2025 T2"] == pytest.approx(50 * (level1 + level2))
    assert frame.loc["Otter S2", "MER2026 T2"] == pytest.approx(100 * level1)
    from ovmer.data import load_released_labels

    hit = score_with_protocol(load_released_labels("Otter", "S2"), "hit-rate")
    assert frame.loc["Otter S2", "hit rate (MER2023)"] == pytest.approx(100 * hit.score)
    assert frame.loc["Otter S2", "m-score (MER2023)"] == pytest.approx(100 * hit.parts["m_score"])
    from ovmer.reproduce.artefacts import save_artefact

    saved = save_artefact("protocol_ranking", table_inputs)
    assert [p.name for p in saved.paths] == ["protocol_ranking.png", "protocol_ranking.pdf"]


def test_ablation_diagnostics_and_grouping_tables(table_inputs) -> None:
    from ovmer.reproduce.artefacts import record_artefacts
    from ovmer.scoring.paper import PAPER_GPT_GROUPING

    ablation = _table("table2_ablation", table_inputs).frame
    row = ablation.loc["Chat-UniVi S2"]
    assert row["M-avg"] == pytest.approx(CHAT_UNIVI_S2_M_AVG, abs=1e-3)
    assert row["95% low"] < row["M-avg"] < row["95% high"]
    assert list(ablation.index) == [f"{b} {s}" for b in ("Chat-UniVi", "Otter", "SALMONN") for s in ("S0", "S2")]
    diagnostics = _table("table4_diagnostics", table_inputs).frame
    assert diagnostics.loc["Otter S0", "samples"] == 332
    assert "M3-W1 dropped (%)" in diagnostics.columns and "M3-W1-L2 dropped (%)" not in diagnostics.columns
    grouping = _table("table5_gpt_grouping", table_inputs).frame
    for key, value in PAPER_GPT_GROUPING.items():
        assert grouping.loc[key, "ours"] == pytest.approx(value, abs=1e-12)
    # the notebook records exactly the files of what it saved, in order
    recorded = record_artefacts(table_inputs)
    assert [Path(p).name for p in recorded] == [f"{n}.{e}" for n in ("table2_ablation", "table4_diagnostics",
                                                                      "table5_gpt_grouping")
                                               for e in ("csv", "md", "tex")]


# -- dataset statistics ---------------------------------------------------------------------------


def test_dataset_statistics_of_ovmerd(table_inputs) -> None:
    from ovmer.reproduce.dataset import ground_truth_coverage, label_count_distribution, vocabulary_stages

    ground_truth, resources = table_inputs.get("ground_truth"), table_inputs.get("resources")
    counts = label_count_distribution(ground_truth)
    assert counts.to_dict() == {1: 13, 2: 97, 3: 94, 4: 61, 5: 36, 6: 19, 7: 4, 8: 6, 9: 2}
    stats = _table("table3_dataset", table_inputs).frame["value"].to_dict()
    assert stats["samples"] == 332 and stats["distinct labels"] == 248 and stats["label occurrences"] == 1121
    top = _table("table3_top_labels", table_inputs).frame
    assert top.iloc[0]["label"] == "angry" and top.iloc[0]["samples"] == 97
    stages = vocabulary_stages(resources)
    assert stages.loc["all wheels"].tolist() == [253, 1255, 7386]
    assert (stages.diff(axis=1).iloc[:, 1:] > 0).all().all()  # each stage adds labels
    coverage = ground_truth_coverage(ground_truth, resources)
    assert coverage.loc["wheel words", "occurrences covered (%)"] < coverage.loc["M1", "occurrences covered (%)"]
    assert coverage.to_numpy()[:, 1:].max() <= 100


# -- figures --------------------------------------------------------------------------------------


def test_figures_are_written_and_byte_stable(table_inputs) -> None:
    from ovmer.reproduce.artefacts import save_artefact

    saved = save_artefact("ablation", table_inputs)
    first = [p.read_bytes() for p in saved.paths]
    assert [p.suffix for p in saved.paths] == [".png", ".pdf"] and all(len(b) > 1000 for b in first)
    assert all(p.parent == table_inputs.figures_dir for p in saved.paths)
    assert [p.read_bytes() for p in save_artefact("ablation", table_inputs).paths] == first
    assert repr(saved).startswith("ablation: ") and "ablation.pdf" in repr(saved)


def test_correlation_figure_explains_too_few_files(small_scores, tmp_path: Path) -> None:
    from ovmer.reproduce.artefacts import ArtefactInputs, save_artefact
    from ovmer.reproduce.scores import ScoreTable

    one = ScoreTable(small_scores.entries[:1], small_scores.config)
    saved = save_artefact("metric_correlation", ArtefactInputs(tmp_path, tmp_path, tmp_path, scores=one))
    assert all(p.is_file() for p in saved.paths)


# -- explore --------------------------------------------------------------------------------------


def test_explore_sample_shows_labels_and_per_metric_mapping() -> None:
    from ovmer.data import load_ovmerd
    from ovmer.reproduce.explore import explore_sample

    dataset = load_ovmerd()
    name = dataset.names[5]
    view = explore_sample("Otter", "S0", name)
    assert view.ground_truth == dataset.ground_truth[name] and view.reference == dataset.reference_en[name]
    assert len(view.metrics) == 12 and {"gt_dropped", "precision"} <= set(view.metrics.columns)
    assert name in repr(view) and '<h4 class="ovmer-header">' in view._repr_html_()
    with pytest.raises(OvmerError, match="not an OV-MERD test sample"):
        explore_sample("Otter", "S0", "sample_x")
    with pytest.raises(OvmerError, match="unknown setting"):
        explore_sample("Otter", "S9", name)


# -- extra baselines ------------------------------------------------------------------------------


def _describe_folder(folder: Path, n: int | None = None, source: str = "Chat-UniVi") -> Path:
    """A describe-stage folder for a user's system, made of a released baseline's S0/S1 descriptions."""
    from ovmer.data import load_released_descriptions
    from ovmer.store import Record, ResultsStore

    folder.mkdir(parents=True)
    for setting in (Setting.NOSUBTITLE, Setting.SUBTITLE):
        store = ResultsStore(folder / f"{setting.value}.jsonl")
        for name, text in list(load_released_descriptions(source, setting).items())[:n]:
            store.append(Record(name, "ok", f"k-{name}", raw=text, value=text))
    return folder


def test_extra_baselines_are_staged_into_the_run_store(tmp_path: Path) -> None:
    from ovmer.reproduce.extra import stage_extra_baselines
    from ovmer.store import ResultsStore, store_path

    folder = _describe_folder(tmp_path / "mine" / "MySystem", n=3)
    [staged] = stage_extra_baselines([folder], tmp_path / "run")
    assert staged.name == "MySystem" and staged.settings == (Setting.NOSUBTITLE, Setting.SUBTITLE)
    target = store_path("describe", "MySystem", Setting.SUBTITLE, tmp_path / "run")
    assert staged.files[1] == target and len(ResultsStore(target).values()) == 3
    with pytest.raises(OvmerError, match="released baseline's name"):
        stage_extra_baselines([_describe_folder(tmp_path / "x" / "Otter", n=1)], tmp_path / "run")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OvmerError, match="no describe-stage store files"):
        stage_extra_baselines([tmp_path / "empty"], tmp_path / "run")


# -- the stage notebooks' functions ----------------------------------------------------------------


def test_describe_replay_records_every_store_file_it_writes(tmp_path: Path) -> None:
    """Replaying the released outputs imports the label lists too (stage extract): they are outputs as well."""
    from ovmer.reproduce.stage_describe import describe_baseline, plan_describe
    from ovmer.reproduce.stages import finish_stage
    from ovmer.store import ResultsStore, store_path

    plan = plan_describe(smoke=True, baseline="Otter", settings=["S0"], output=str(tmp_path))
    summary = describe_baseline(plan)
    assert list(summary["stage"]) == ["describe", "extract"] and list(summary["done"]) == [332, 332]
    written = [store_path(stage, "Otter", Setting.NOSUBTITLE, plan.store_root) for stage in ("describe", "extract")]
    assert all(len(ResultsStore(p).values()) == 332 for p in written)
    assert [Path(p).resolve() for p in finish_stage(summary, "describe")] == [p.resolve() for p in written]
    again = describe_baseline(plan)  # a re-run skips what is in the store
    assert list(again["done"]) == [0, 0] and list(again["skipped"]) == [332, 332]


# -- CLI ------------------------------------------------------------------------------------------


def test_importing_reproduce_is_light() -> None:
    import subprocess
    import sys

    code = ("import sys, ovmer.reproduce, ovmer.reproduce.cli; "
            "print(any(m in sys.modules for m in ('torch', 'transformers', 'papermill', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    assert math.isfinite(CHAT_UNIVI_S2_M_AVG)
