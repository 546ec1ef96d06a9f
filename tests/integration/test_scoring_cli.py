"""``ovmer score``: an npz, a folder with --json, a CSV, a store JSONL; missing samples."""

from __future__ import annotations

import json
import shutil

import pytest

from ovmer.assets import asset_path
from ovmer.cli import main
from ovmer.data.released import released_file
from ovmer.scoring import M_AVG, METRIC_NAMES, read_predictions, score_released
from ovmer.scoring.paper import PAPER_EW_COLUMNS
from ovmer.store import Record, ResultsStore


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["score", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def s2_npz():
    return asset_path(released_file("Chat-UniVi", "S2"))


def test_score_one_npz_prints_a_table(capsys, s2_npz) -> None:
    code, out, _ = _run(capsys, str(s2_npz))
    assert code == 0
    header, row = out.splitlines()[:2]
    assert header.split()[:4] == ["baseline", "setting", "n", "M1"] and "M-avg" in header
    assert row.split()[:5] == ["Chat-UniVi", "nosubtitle-addsub", "331", "28.43", "33.17"]
    assert "47.22" in row.split()


def test_score_folder_json(capsys, tmp_path, s2_npz) -> None:
    for baseline, setting in (("Chat-UniVi", "S2"), ("Otter", "S0")):
        source = asset_path(released_file(baseline, setting))
        (tmp_path / baseline).mkdir()
        shutil.copy(source, tmp_path / baseline / source.name)
    (tmp_path / "Otter" / "notes.csv").write_text("a,b\n1,2\n")  # not a label file: skipped
    code, out, _ = _run(capsys, str(tmp_path), "--json")
    assert code == 0
    objects = json.loads(out)
    assert [(o["baseline"], o["setting"]) for o in objects] == [
        ("Chat-UniVi", "nosubtitle-addsub"),
        ("Otter", "nosubtitle"),
    ]
    first = objects[0]
    assert list(first) == ["file", "baseline", "setting", "n_scored", "metrics", "M-avg"]
    assert first["n_scored"] == 331 and list(first["metrics"]) == list(METRIC_NAMES)
    assert first["M-avg"] == score_released("Chat-UniVi", "S2").m_avg  # full precision, fractions
    assert abs(first["metrics"]["M1"]["f"] - 0.2843) < 1e-4


def test_score_csv_and_store_jsonl(capsys, tmp_path, s2_npz) -> None:
    labels = read_predictions(s2_npz)
    csv = tmp_path / "preds.csv"
    csv.write_text("name,openset\n" + "".join(f'{n},"[{", ".join(v)}]"\n' for n, v in labels.items()))
    store_file = tmp_path / "extract" / "Chat-UniVi" / "nosubtitle-addsub.jsonl"
    store = ResultsStore(store_file)
    for name, value in labels.items():
        store.append(Record(name, "ok", "key", raw=str(value), value=value))
    code, out, _ = _run(capsys, str(csv), str(store_file), "--json")
    assert code == 0
    from_csv, from_store = json.loads(out)
    expected = score_released("Chat-UniVi", "S2").m_avg
    assert from_csv["M-avg"] == pytest.approx(expected, abs=1e-12)
    assert from_store["M-avg"] == pytest.approx(expected, abs=1e-12)
    assert from_store["setting"] == "nosubtitle-addsub" and from_store["baseline"] == "Chat-UniVi"


def test_missing_samples_fail_unless_missing_as_empty(capsys, tmp_path, s2_npz) -> None:
    labels = read_predictions(s2_npz)
    names = list(labels)
    path = tmp_path / "subtitle.jsonl"
    store = ResultsStore(path)
    for name in names[:-2]:
        store.append(Record(name, "ok", "key", value=labels[name]))
    code, _, err = _run(capsys, str(path))
    assert code == 1
    assert "no prediction for 2 ground-truth sample(s)" in err and names[-1] in err
    code, out, _ = _run(capsys, str(path), "--missing-as-empty", "--json")
    assert code == 0 and json.loads(out)[0]["n_scored"] == 331


def test_custom_ground_truth_and_bad_paths(capsys, tmp_path, s2_npz) -> None:
    labels = read_predictions(s2_npz)
    name = next(iter(labels))
    gt = tmp_path / "gt.csv"
    gt.write_text(f'name,openset\n{name},"[{", ".join(labels[name])}]"\n')
    code, out, err = _run(capsys, str(s2_npz), "--gt", str(gt), "--json")
    assert code == 0 and "ignored 331 prediction(s)" in err
    result = json.loads(out)[0]
    assert result["n_scored"] == 1 and result["metrics"]["M1"]["f"] == 1.0
    bad_gt = tmp_path / "bad.csv"
    bad_gt.write_text("id,labels\na,b\n")
    code, _, err = _run(capsys, str(s2_npz), "--gt", str(bad_gt))
    assert code == 1 and "missing column(s)" in err
    code, _, err = _run(capsys, str(tmp_path / "nowhere"))
    assert code == 1 and "no such file or folder" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _run(capsys, str(empty))
    assert code == 1 and "no label files" in err


def test_paper_constants() -> None:
    import ovmer.scoring.paper as paper

    assert PAPER_EW_COLUMNS[0] == "GPT" and PAPER_EW_COLUMNS[-1] == M_AVG and len(PAPER_EW_COLUMNS) == 14
    table = paper.PAPER_EW_TABLE
    assert list(table.columns) == list(PAPER_EW_COLUMNS) and list(table.index)[-1] == "PCC" and len(table) == 13
    assert table.loc["PCC", "M-avg"] == pytest.approx(table["M-avg"].iloc[:12].corr(table["GPT"].iloc[:12]))
    assert paper.PAPER_GPT_GROUPING == {
        "accuracy": 0.581777108433735,
        "recall": 0.4977911646586345,
        "average": 0.5397841365461847,
    }


def test_description_store_files_are_refused_and_skipped_in_folders(capsys, tmp_path) -> None:
    labels = read_predictions(asset_path(released_file("Otter", "S1")))
    for stage, value in (("describe", "She smiles and sounds happy."), ("extract", None)):
        store = ResultsStore(tmp_path / "store" / stage / "Otter" / "subtitle.jsonl")
        for name, labelled in labels.items():
            store.append(Record(name, "ok", "key", value=value if value is not None else labelled))
    describe_file = tmp_path / "store" / "describe" / "Otter" / "subtitle.jsonl"
    code, _, err = _run(capsys, str(describe_file))
    assert code == 1 and "a describe-stage store file, not label lists" in err and str(describe_file) in err
    code, out, _ = _run(capsys, str(tmp_path), "--json")
    assert code == 0
    assert [o["file"] for o in json.loads(out)] == [str(tmp_path / "store" / "extract" / "Otter" / "subtitle.jsonl")]
    assert json.loads(out)[0]["baseline"] == "Otter"  # the store's baseline folder, not "store"
