"""The authors' released outputs: readable, aligned, imported into the store and exported back."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ovmer.assets import asset_path
from ovmer.data import OVMERD, RELEASED_BASELINES, load_ovmerd, released_file
from ovmer.data.name_values import read_description_npz
from ovmer.data.released import load_released_descriptions, load_released_labels
from ovmer.errors import UntrustedPickleError
from ovmer.labels import parse_labels
from ovmer.settings import ALL_SETTINGS, Setting
from ovmer.store import Record, ResultsStore, store_path
from ovmer.store.authors_npz import (
    description_stage,
    export_descriptions,
    export_labels,
    import_released,
)

RUNS = [(b, s) for b in RELEASED_BASELINES for s in ALL_SETTINGS]


@pytest.fixture(scope="module")
def ovmerd() -> OVMERD:
    return load_ovmerd()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    """All 60 released files imported into a fresh store."""
    root = tmp_path_factory.mktemp("imported")
    return root, import_released(root=root)


@pytest.mark.parametrize(("baseline", "setting"), RUNS, ids=[f"{b}-{s.short}" for b, s in RUNS])
def test_both_files_readable_and_aligned(baseline: str, setting: Setting, ovmerd: OVMERD) -> None:
    descriptions = load_released_descriptions(baseline, setting)
    labels = load_released_labels(baseline, setting)
    # The 332 names line up with the ground truth, in the same order, in both files.
    assert tuple(descriptions) == ovmerd.names
    assert tuple(labels) == ovmerd.names
    assert all(isinstance(text, str) for text in descriptions.values())
    assert sum(1 for text in descriptions.values() if text.strip()) >= 331
    parsed = {name: parse_labels(raw, where=f"{baseline} {setting}: {name}") for name, raw in labels.items()}
    assert sum(1 for value in parsed.values() if value) >= 180  # Otter S1 is the sparsest, at 182


def test_known_released_values() -> None:
    labels = load_released_labels("Chat-UniVi", "S0")
    assert labels["sample_00000000"] == "[anger, frustration]"
    assert labels["sample_00000007"] == "[happy, content]"
    assert load_released_descriptions("Otter", "S1")["sample_00000686"] == ""  # the one empty description
    assert sum(len(parse_labels(raw)) for raw in load_released_labels("Otter", "S1").values()) == 374


def test_import_puts_each_file_in_its_stage(imported: tuple[Path, list], ovmerd: OVMERD) -> None:
    root, results = imported
    assert len(results) == 60
    assert sum(r.summary.done for r in results) == 60 * 332
    assert {(r.stage, r.setting) for r in results} == {
        ("describe", Setting.NOSUBTITLE),
        ("describe", Setting.SUBTITLE),
        ("merge", Setting.NOSUBTITLE_ADDSUB),
        ("extract", Setting.NOSUBTITLE),
        ("extract", Setting.SUBTITLE),
        ("extract", Setting.NOSUBTITLE_ADDSUB),
    }
    assert description_stage("S2") == "merge" and description_stage("S0") == "describe"
    assert not store_path("describe", "Otter", "S2", root=root).exists()
    assert not store_path("merge", "Otter", "S1", root=root).exists()

    labels = ResultsStore(store_path("extract", "VideoChat", "S0", root=root)).latest()
    assert tuple(labels) == ovmerd.names
    released = load_released_labels("VideoChat", "S0")
    for name, record in labels.items():
        assert record.ok and record.raw == released[name]  # the file's text, kept as it is
        assert record.value == parse_labels(released[name])  # and the parsed list beside it
        assert record.meta["source"] == "released"
        assert record.meta["asset"] == released_file("VideoChat", "S0")

    merged = ResultsStore(store_path("merge", "SALMONN", "S2", root=root)).latest()
    texts = load_released_descriptions("SALMONN", "S2")
    assert {name: rec.value for name, rec in merged.items()} == texts
    assert all(rec.raw == rec.value for rec in merged.values())
    assert len({rec.key for rec in merged.values()}) == 332  # one key per sample and file


def test_reimport_adds_nothing(imported: tuple[Path, list]) -> None:
    root, _ = imported
    files = sorted((root / "store").rglob("*.jsonl"))
    assert len(files) == 60
    sizes = {path: path.stat().st_size for path in files}
    again = import_released(baselines=["Otter", "SALMONN"], root=root)
    assert sum(r.summary.done for r in again) == 0
    assert sum(r.summary.skipped for r in again) == 12 * 332
    assert {path: path.stat().st_size for path in files} == sizes


def npz_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.mark.parametrize(("baseline", "setting"), RUNS, ids=[f"{b}-{s.short}" for b, s in RUNS])
def test_export_round_trip_matches_the_released_files(
    baseline: str, setting: Setting, imported: tuple[Path, list], tmp_path: Path
) -> None:
    root, _ = imported
    # Label lists: same keys, dtypes and values; the array members are byte-identical.
    original = asset_path(released_file(baseline, setting, "openset"))
    exported = export_labels(store_path("extract", baseline, setting, root=root), tmp_path / "labels.npz")
    with np.load(original) as ours_expected, np.load(exported) as ours:
        assert ours.files == ours_expected.files == ["filenames", "fileitems"]
        for key in ours.files:
            assert ours[key].dtype == ours_expected[key].dtype
            assert ours[key].shape == ours_expected[key].shape
            np.testing.assert_array_equal(ours[key], ours_expected[key])
    assert npz_members(exported) == npz_members(original)

    # Descriptions: a 0-d object array holding the same dict, in the same order.
    original = asset_path(released_file(baseline, setting, "description"))
    exported = export_descriptions(
        store_path(description_stage(setting), baseline, setting, root=root), tmp_path / "reasons.npz"
    )
    with np.load(original, allow_pickle=True) as expected, np.load(exported, allow_pickle=True) as ours:
        assert ours.files == expected.files == ["name2reason"]
        assert ours["name2reason"].dtype == expected["name2reason"].dtype == np.dtype(object)
        assert ours["name2reason"].shape == expected["name2reason"].shape == ()
        mine, theirs = ours["name2reason"].item(), expected["name2reason"].item()
        assert type(mine) is dict and mine == theirs and list(mine) == list(theirs)


def test_exported_pickles_need_trust_to_read_back(imported: tuple[Path, list], tmp_path: Path) -> None:
    root, _ = imported
    exported = export_descriptions(store_path("describe", "Otter", "S0", root=root), tmp_path / "out.npz")
    with pytest.raises(UntrustedPickleError):
        read_description_npz(exported)
    assert read_description_npz(exported, trust=True) == load_released_descriptions("Otter", "S0")


def test_import_resumes_after_a_torn_line(tmp_path: Path) -> None:
    import_released(baselines=["Qwen-Audio"], settings=["S0"], root=tmp_path)
    path = store_path("extract", "Qwen-Audio", "S0", root=tmp_path)
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:100]) + lines[100][:30])  # killed while writing record 101
    with pytest.warns(UserWarning, match="unreadable line"):
        results = import_released(baselines=["Qwen-Audio"], settings=["S0"], root=tmp_path)
    extract = next(r for r in results if r.stage == "extract")
    assert (extract.summary.done, extract.summary.skipped) == (232, 100)
    with pytest.warns(UserWarning, match=r"\[101\]"):
        latest = ResultsStore(path).latest()
    assert len(latest) == 332
    first = json.loads(lines[0])
    assert latest[first["name"]].meta["time"] == first["meta"]["time"]  # kept, not redone


def test_import_never_replaces_results_the_package_computed(tmp_path: Path) -> None:
    """A re-extraction in the same store file survives a later import of the released labels."""
    path = store_path("extract", "Otter", "S2", root=tmp_path)
    own = ResultsStore(path)
    own.append(Record("sample_00000000", "ok", "cpu-key", raw="[joyful]", value=["joyful"], meta={"source": "cpu"}))
    own.append(Record("sample_00000007", "error", "cpu-key", error="RuntimeError: boom"))

    results = import_released(baselines=["Otter"], settings=["S2"], root=tmp_path)
    extract = next(r for r in results if r.stage == "extract")
    assert (extract.summary.done, extract.summary.skipped) == (331, 1)
    latest = ResultsStore(path).latest()
    assert latest["sample_00000000"].value == ["joyful"]  # kept
    released = parse_labels(load_released_labels("Otter", "S2")["sample_00000007"])
    assert latest["sample_00000007"].value == released  # an error record is filled from the release
    again = import_released(baselines=["Otter"], settings=["S2"], root=tmp_path)
    assert next(r for r in again if r.stage == "extract").summary.done == 0
