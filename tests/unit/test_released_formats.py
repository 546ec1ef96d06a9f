"""The released-output formats: file names, readers of wrong files, and exports of a pipeline store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ovmer.data import RELEASED_BASELINES, released_file
from ovmer.data.name_values import read_description_npz, read_openset_npz
from ovmer.errors import OvmerError
from ovmer.settings import ALL_SETTINGS, Setting
from ovmer.store import Record, ResultsStore
from ovmer.store.authors_npz import (
    export_descriptions,
    export_labels,
    export_store,
    infer_format,
)

RUNS = [(b, s) for b in RELEASED_BASELINES for s in ALL_SETTINGS]


def test_ten_baselines_three_settings() -> None:
    assert len(RELEASED_BASELINES) == 10 and len(RUNS) == 30
    assert {"Video-ChatGPT", "VideoChat2"} <= set(RELEASED_BASELINES)
    assert released_file("Otter", "S2") == "results-ovmerd/Otter/output-reason-7b-nosubtitle-addsub-eng-openset.npz"
    assert released_file("Otter", Setting.SUBTITLE, "description") == (
        "results-ovmerd/Otter/output-reason-7b-subtitle-eng.npz"
    )
    with pytest.raises(OvmerError, match=r"unknown released baseline 'otter'. Did you mean 'Otter'\?"):
        released_file("otter", "S0")
    with pytest.raises(OvmerError, match="kind must be 'description' or 'openset'"):
        released_file("Otter", "S0", "labels")


def test_readers_reject_wrong_files(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, names=np.array(["a"]), items=np.array(["[x]"]))
    with pytest.raises(OvmerError, match="expected keys filenames, fileitems"):
        read_openset_npz(wrong)
    uneven = tmp_path / "uneven.npz"
    np.savez(uneven, filenames=np.array(["a", "b"]), fileitems=np.array(["[x]"]))
    with pytest.raises(OvmerError, match="2 filenames but 1 fileitems"):
        read_openset_npz(uneven)
    not_a_dict = tmp_path / "list.npz"
    np.savez(not_a_dict, name2reason=np.array(["a", "b"], dtype=object))
    with pytest.raises(OvmerError, match="expected key 'name2reason' holding a dict"):
        read_description_npz(not_a_dict, trust=True)


def write_store(path: Path, records: list[Record]) -> Path:
    store = ResultsStore(path)
    for record in records:
        store.append(record)
    return path


def test_export_of_a_pipeline_store(tmp_path: Path) -> None:
    path = write_store(
        tmp_path / "store" / "extract" / "Mine" / "subtitle.jsonl",
        [
            Record("s1", "ok", "k", raw="Output: [Happy, sad]", value=["happy", "sad"]),
            Record("s2", "ok", "k", raw=None, value=["calm"]),
            Record("s30", "ok", "k", raw="[a much longer list, of labels]", value=["a much longer list", "of labels"]),
        ],
    )
    raw_file = export_labels(path, tmp_path / "raw.npz")
    with np.load(raw_file) as data:
        assert data["filenames"].tolist() == ["s1", "s2", "s30"]
        assert data["filenames"].dtype == np.dtype("<U3")
        assert data["fileitems"].tolist() == ["Output: [Happy, sad]", "[calm]", "[a much longer list, of labels]"]
        assert data["fileitems"].dtype == np.array(data["fileitems"].tolist()).dtype == np.dtype("<U31")
    fmt, value_file = export_store(path, tmp_path / "value.npz", labels_from="value")
    assert fmt == "openset"
    with np.load(value_file) as data:
        assert data["fileitems"].tolist() == ["[happy, sad]", "[calm]", "[a much longer list, of labels]"]
    assert read_openset_npz(value_file) == {
        "s1": "[happy, sad]", "s2": "[calm]", "s30": "[a much longer list, of labels]"
    }


def test_export_refuses_error_records_unless_asked(tmp_path: Path) -> None:
    path = write_store(
        tmp_path / "descriptions.jsonl",
        [
            Record("s1", "ok", "k", raw=" A calm man. ", value="A calm man."),
            Record("s2", "error", "k", error="RuntimeError: CUDA out of memory"),
            Record("s3", "ok", "k", raw="She smiles.", value=None),
        ],
    )
    with pytest.raises(OvmerError, match=r"descriptions.jsonl: 1 sample\(s\) have error records \(s2\)"):
        export_descriptions(path, tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()
    written = export_descriptions(path, tmp_path / "out.npz", skip_errors=True)
    # The parsed value when there is one, else the raw text.
    assert read_description_npz(written, trust=True) == {"s1": "A calm man.", "s3": "She smiles."}


def test_format_inference_and_bad_exports(tmp_path: Path) -> None:
    texts = write_store(tmp_path / "a.jsonl", [Record("s1", "ok", "k", raw="t", value="text")])
    lists = write_store(tmp_path / "b.jsonl", [Record("s1", "ok", "k", raw="[x]", value=["x"])])
    mixed = write_store(tmp_path / "c.jsonl", [Record("s1", "ok", "k", value="t"), Record("s2", "ok", "k", value=[])])
    assert infer_format(texts, ResultsStore(texts).latest()) == "description"
    assert infer_format(lists, ResultsStore(lists).latest()) == "openset"
    assert infer_format(tmp_path / "store" / "merge" / "X" / "subtitle.jsonl") == "description"
    with pytest.raises(OvmerError, match="cannot tell whether it holds descriptions or label lists"):
        export_store(mixed, tmp_path / "out.npz")
    with pytest.raises(OvmerError, match="name the output file \\*.npz"):
        export_store(texts, tmp_path / "out.csv")
    with pytest.raises(OvmerError, match="no such results-store file"):
        export_labels(tmp_path / "missing.jsonl", tmp_path / "out.npz")
    only_errors = write_store(tmp_path / "d.jsonl", [Record("s1", "error", "k", error="x")])
    with pytest.raises(OvmerError, match="no finished records to export"):
        export_labels(only_errors, tmp_path / "out.npz", skip_errors=True)
    assert not list(tmp_path.glob("*.npz")) and not list(tmp_path.glob(".partial-*"))
