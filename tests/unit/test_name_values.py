"""The one name -> value reader: every file kind, every caller's spec, one set of error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ovmer.data.name_values import (
    PREDICTION_FILES,
    REPLY_FILES,
    TEXT_FILES,
    read_name_values,
)
from ovmer.errors import OvmerError, UntrustedPickleError
from ovmer.group.stage import read_predictions as group_predictions
from ovmer.llm.inputs import read_text_table
from ovmer.llm.replay import read_reply_file
from ovmer.scoring.files import read_raw_predictions
from ovmer.store import Record, ResultsStore


def _store(path: Path, *records: Record) -> Path:
    store = ResultsStore(path)
    for record in records:
        store.append(record)
    return path


def _openset_npz(path: Path) -> Path:
    np.savez(path, filenames=np.array(["a", "b"]), fileitems=np.array(["[happy]", "[sad, calm]"]))
    return path


def _description_npz(path: Path) -> Path:
    holder = np.empty((), dtype=object)
    holder[()] = {"a": "She smiles.", "b": "He frowns."}
    np.savez(path, name2reason=holder)
    return path


def test_csv_takes_the_first_value_column_present_and_refuses_repeated_names(tmp_path: Path) -> None:
    table = tmp_path / "inputs.csv"
    table.write_text("name,english,description\na,hello,She smiles.\nb,,He frowns.\n", encoding="utf-8")
    assert read_name_values(table, TEXT_FILES.with_columns(("description", "english"))) == {
        "a": "She smiles.",
        "b": "He frowns.",
    }
    assert read_text_table(table, columns=("english", "subtitle")) == {"a": "hello", "b": ""}
    tsv = tmp_path / "inputs.tsv"
    tsv.write_text("name\ttext\na\tone, two\n", encoding="utf-8")
    assert read_text_table(tsv) == {"a": "one, two"}
    twice = tmp_path / "twice.csv"
    twice.write_text("name,openset\na,[happy]\na,[sad]\n", encoding="utf-8")
    with pytest.raises(OvmerError, match=r"twice.csv: sample name\(s\) listed twice: \['a'\]"):
        read_raw_predictions(twice)


def test_missing_columns_files_and_suffixes_name_the_file_and_the_caller(tmp_path: Path) -> None:
    no_value = tmp_path / "bad.csv"
    no_value.write_text("name,other\na,x\n", encoding="utf-8")
    with pytest.raises(OvmerError, match=r"bad.csv: missing column\(s\) \['openset'\]; a CSV prediction file"):
        read_raw_predictions(no_value)
    with pytest.raises(OvmerError, match=r"missing column\(s\) \['english or subtitle'\]; a CSV input file"):
        read_text_table(no_value, columns=("english", "subtitle"))
    with pytest.raises(OvmerError, match=r"absent.jsonl: no such replay source"):
        read_reply_file(tmp_path / "absent.jsonl")
    with pytest.raises(OvmerError, match=r"bad.csv: unsupported replay source \(expected .jsonl, .npz\)"):
        read_reply_file(no_value)


def test_store_files_give_replies_or_values_and_warn_about_error_records(tmp_path: Path) -> None:
    path = _store(
        tmp_path / "store" / "extract" / "Mine" / "subtitle.jsonl",
        Record("a", "ok", "k", raw="Output: [happy]", value=["happy"]),
        Record("b", "ok", "k", raw=None, value=[]),
        Record("c", "error", "k", error="boom"),
    )
    with pytest.warns(UserWarning, match=r"1 sample\(s\) have an error record and count as missing: c"):
        # scoring reads the reply as returned (its parser decides), a record without one its value
        assert read_raw_predictions(path) == {"a": "Output: [happy]", "b": []}
    with pytest.warns(UserWarning, match="error record"):
        assert read_reply_file(path) == {"a": "Output: [happy]"}  # a record without a reply has none to replay
    with pytest.warns(UserWarning, match="error record"):
        assert group_predictions(path) == {"a": ["happy"], "b": []}
    with pytest.warns(UserWarning), pytest.raises(OvmerError, match=r"records hold list, not text \(e.g. a\)"):
        read_text_table(path)


def test_label_readers_refuse_other_stages_store_files(tmp_path: Path) -> None:
    described = _store(tmp_path / "store" / "describe" / "Mine" / "subtitle.jsonl", Record("a", "ok", "k", value="hi"))
    message = r"a describe-stage store file, not label lists; use the extract stage's file"
    with pytest.raises(OvmerError, match=message):
        read_raw_predictions(described)
    with pytest.raises(OvmerError, match=message):
        group_predictions(described)
    assert read_text_table(described) == {"a": "hi"}  # descriptions are text inputs
    assert not PREDICTION_FILES.accepts_stage_of(described) and PREDICTION_FILES.accepts_stage_of(tmp_path / "x.jsonl")


def test_npz_kinds_per_caller(tmp_path: Path) -> None:
    labels = _openset_npz(tmp_path / "labels-openset.npz")
    texts = _description_npz(tmp_path / "texts.npz")
    expected_labels = {"a": "[happy]", "b": "[sad, calm]"}
    assert read_raw_predictions(labels) == expected_labels
    assert group_predictions(labels) == {"a": ["happy"], "b": ["sad", "calm"]}
    assert read_reply_file(labels) == expected_labels
    with pytest.raises(OvmerError, match=r"texts.npz: expected keys filenames, fileitems; found \['name2reason'\]"):
        read_raw_predictions(texts)
    # Descriptions are pickled: only files in the asset manifest, or with trust, are unpickled.
    with pytest.raises(UntrustedPickleError):
        read_text_table(texts)
    with pytest.raises(UntrustedPickleError):
        read_reply_file(texts)
    descriptions = {"a": "She smiles.", "b": "He frowns."}
    assert read_name_values(texts, TEXT_FILES, trust=True) == descriptions
    assert read_name_values(texts, REPLY_FILES, trust=True) == descriptions
    with pytest.raises(UntrustedPickleError):
        read_name_values(labels, TEXT_FILES)  # a label file is no description file
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(OvmerError, match="broken.npz: cannot read as npz"):
        read_reply_file(broken)
