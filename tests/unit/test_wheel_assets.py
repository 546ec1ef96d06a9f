"""The one emotion-wheel asset reader, on tiny hand-made files, and the deprecated names of this release."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pandas as pd
import pytest

from ovmer.data.wheels import (
    FORMAT_FILE,
    SYNONYM_FILE,
    WHEEL_ASSETS,
    WHEEL_FILES,
    read_synonym_runs,
    read_wheel_assets,
    read_wheel_rows,
    read_word_forms,
    split_authors_list,
)
from ovmer.errors import LabelFormatError, OvmerError


def test_authors_split_rule() -> None:
    assert split_authors_list("[Happy, 'sad', \"calm\"]") == ["Happy", "sad", "calm"]
    assert split_authors_list("a,, b ") == ["a", "b"]
    assert split_authors_list(None) == [] and split_authors_list(float("nan")) == []
    with pytest.raises(LabelFormatError, match="expected text"):
        split_authors_list(3)


def test_wheel_rows_fill_blanks_from_above_and_clean_cells(tmp_path: Path) -> None:
    path = tmp_path / "wheel.xlsx"
    pd.DataFrame(
        {"level1": [" Joy", None, "Sad"], "level2": ["Content", "Proud ", None], "level3": ["GLAD", "Confident", "x"]}
    ).to_excel(path, index=False)
    assert read_wheel_rows(path) == [
        ("joy", "content", "glad"),
        ("joy", "proud", "confident"),
        ("sad", "proud", "x"),  # a blank cell takes the value above, whatever the level above it says
    ]
    pd.DataFrame({"level1": [None], "level2": ["a"], "level3": ["b"]}).to_excel(path, index=False)
    with pytest.raises(OvmerError, match=r"wheel.xlsx: row 2 has no level1"):
        read_wheel_rows(path)
    pd.DataFrame({"level1": ["a"], "level3": ["b"]}).to_excel(path, index=False)
    with pytest.raises(OvmerError, match=r"missing column\(s\) \['level2'\]"):
        read_wheel_rows(path)
    path.write_bytes(b"not a spreadsheet")
    with pytest.raises(OvmerError, match="wheel.xlsx: cannot read the spreadsheet"):
        read_wheel_rows(path)


def test_synonym_runs_and_word_forms(tmp_path: Path) -> None:
    synonyms = {}
    for run in range(1, 9):
        synonyms[f"word_run{run}"] = ["Glad", "proud"]
        synonyms[f"synonym_run{run}"] = ["happy, 'Cheerful'" if run == 1 else "happy", None]
    pd.DataFrame(synonyms).to_excel(tmp_path / "synonym.xlsx", index=False)
    rows = read_synonym_runs(tmp_path / "synonym.xlsx")
    assert len(rows) == 16
    assert rows[:3] == [("glad", ("happy", "cheerful")), ("proud", ()), ("glad", ("happy",))]
    pd.DataFrame({"word_run1": ["x"], "synonym_run1": ["y"]}).to_excel(tmp_path / "short.xlsx", index=False)
    with pytest.raises(OvmerError, match="missing column word_run2 or synonym_run2"):
        read_synonym_runs(tmp_path / "short.xlsx")
    forms = tmp_path / "format.csv"
    forms.write_text("name,format\nHappy,\"happiness, Happily\"\n,orphan\nsad,\n", encoding="utf-8")
    assert read_word_forms(forms) == [("happy", ("happiness", "happily")), ("sad", ())]
    (tmp_path / "bad.csv").write_text("label,format\nx,y\n", encoding="utf-8")
    with pytest.raises(OvmerError, match=r"bad.csv: missing column\(s\) \['name'\]; the word-form table needs"):
        read_word_forms(tmp_path / "bad.csv")


def test_read_wheel_assets_reads_every_file_in_order(tmp_path: Path) -> None:
    paths: dict[str, Path] = {}
    for k, rel in enumerate(WHEEL_FILES, start=1):
        paths[rel] = tmp_path / f"wheel{k}.xlsx"
        pd.DataFrame({"level1": [f"top{k}"], "level2": ["mid"], "level3": ["leaf"]}).to_excel(paths[rel], index=False)
    pd.DataFrame({f"{c}_run{r}": ["w"] for r in range(1, 9) for c in ("word", "synonym")}).to_excel(
        tmp_path / "synonym.xlsx", index=False
    )
    paths[SYNONYM_FILE] = tmp_path / "synonym.xlsx"
    paths[FORMAT_FILE] = tmp_path / "format.csv"
    paths[FORMAT_FILE].write_text("name,format\nw,\n", encoding="utf-8")
    assert sorted(paths) == sorted(WHEEL_ASSETS)
    assets = read_wheel_assets(paths)
    assert [rows[0][0] for rows in assets.wheels] == [f"top{k}" for k in range(1, 6)]
    assert assets.wheel_words() == {"top1", "top2", "top3", "top4", "top5", "mid", "leaf"}
    assert assets.synonyms[0] == ("w", ("w",)) and assets.word_forms == (("w", ()),)


def test_deprecated_names_warn_and_still_work() -> None:
    from ovmer.scoring import per_sample_scores, predictions_scores
    from ovmer.store import authors_npz

    with pytest.warns(DeprecationWarning, match="use per_sample_scores"), pytest.raises(OvmerError, match="mapping"):
        predictions_scores([("a", "happy")], {"a": ["happy"]})  # type: ignore[arg-type]
    assert per_sample_scores is not predictions_scores
    sys.modules.pop("ovmer.store.released", None)
    with pytest.warns(DeprecationWarning, match="import from ovmer.store.authors_npz"):
        old = importlib.import_module("ovmer.store.released")
    assert old.import_released is authors_npz.import_released and old.export_store is authors_npz.export_store
