"""Damaged caches are rebuilt with a warning; damaged assets are re-fetched or named in one line.

The caches (the compiled scoring resources, the fitted CPU extractor, reproduction
stamps) are derived from verified assets, so reading one never fails a command:
it is rebuilt, and the numbers are those of a clean run. The assets themselves
(xlsx, csv, npz, the grouping zip and its .npy members) are checked by sha256 and
fetched again, and their readers name the file when handed a damaged copy.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from adversarial_helpers import Ovmer, bit_flipped, mutated, npy_bytes, npz_bytes, truncated, write, zip_with

from ovmer.assets import asset_path
from ovmer.assets.fetch import extract_zip_safely
from ovmer.data.released import released_file
from ovmer.data.wheels import read_synonym_runs, read_wheel_rows, read_word_forms
from ovmer.errors import OvmerError
from ovmer.extract.cpu import training
from ovmer.scoring.grouping import released_groupings
from ovmer.scoring.resources import cache_file, clear_memory_cache, load_resources

RELEASED = "results-ovmerd/Otter/output-reason-7b-subtitle-eng-openset.npz"


def score_json(ovmer: Ovmer, data: Path) -> list[dict]:
    return json.loads(ovmer.ok("score", data / RELEASED, "--json").out)


@pytest.fixture(scope="module")
def clean_scores(ovmer_data: Path) -> list[dict]:
    from ovmer.scoring import score_file

    return [score_file(ovmer_data / RELEASED, baseline="Otter").to_dict()]


DAMAGED_CACHES = {
    "truncated": lambda b: truncated(b),
    "bit-flipped": lambda b: bit_flipped(b, 0.6),
    "mutated": lambda b: mutated(b, seed=3, count=40),
    "empty": lambda b: b"",
    "text": lambda b: b"not a cache",
    "npy": lambda b: npy_bytes(np.arange(3)),
    "missing-members": None,  # built from the real arrays below
    "wrong-shape": None,
}


@pytest.mark.parametrize("damage", list(DAMAGED_CACHES))
def test_a_damaged_scoring_cache_is_rebuilt_with_a_warning(
    ovmer: Ovmer, private_data: Path, clean_scores: list[dict], damage: str
) -> None:
    cache = cache_file(private_data)
    assert cache.is_file()
    if DAMAGED_CACHES[damage] is None:  # the right key, the wrong content
        with np.load(cache) as archive:
            arrays = {k: archive[k] for k in archive.files}
        if damage == "wrong-shape":
            arrays["table_ids"] = arrays["table_ids"][:-5]
        else:
            arrays = {"meta": arrays["meta"]}
        cache.write_bytes(npz_bytes(**arrays))
    else:
        cache.write_bytes(DAMAGED_CACHES[damage](cache.read_bytes()))
    clear_memory_cache()
    with pytest.warns(UserWarning, match="unreadable resource cache.*rebuilding it"):
        reports = score_json(ovmer, private_data)
    assert [{k: v for k, v in r.items() if k != "file"} for r in reports] == [
        {k: v for k, v in r.items() if k != "file"} for r in clean_scores]
    clear_memory_cache()
    load_resources(private_data)  # the rebuilt cache reads back without a warning


def test_a_scoring_cache_path_taken_by_a_folder_only_costs_speed(ovmer: Ovmer, private_data: Path) -> None:
    cache = cache_file(private_data)
    cache.unlink()
    cache.mkdir()
    clear_memory_cache()
    with pytest.warns(UserWarning, match="could not write the resource cache"):
        assert score_json(ovmer, private_data)[0]["n_scored"] > 0


@pytest.mark.parametrize(
    "content",
    [b"", b'{"format": "ovmer-cpu-ext', b"\xff\xfe{}", b"[1, 2, 3]", b'{"format": "other", "version": 1}',
     b"[" * 100_000, json.dumps({"format": "x"}).encode()],
    ids=["empty", "truncated", "not-utf8", "list", "other-format", "deep", "no-version"],
)
def test_a_damaged_cpu_extractor_cache_is_refitted_with_a_warning(
    private_data: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    good = training.load_or_fit(private_data)
    path = training.extractor_path(private_data)
    path.write_bytes(content)
    monkeypatch.setattr(training, "fit_released", lambda excluded, data, progress=False: good)  # the fit: seconds
    with pytest.warns(UserWarning, match="refitting the cached extractor"):
        again = training.load_or_fit(private_data)
    assert again.fingerprint() == good.fingerprint()
    assert training.CpuExtractor.load(path).fingerprint() == good.fingerprint()  # and the cache is whole again


def test_a_truncated_cpu_extractor_cache_refits_for_real_in_a_command(
    ovmer: Ovmer, private_data: Path, tmp_path: Path
) -> None:
    texts = write(tmp_path / "d.csv", "name,description\na,She smiles happily and laughs.\n")
    ovmer.ok("extract", "--backend", "cpu", "--baseline", "Mine", "--setting", "S1", "--input", texts, "--quiet")
    path = training.extractor_path(private_data)
    path.write_bytes(truncated(path.read_bytes(), 0.3))
    with pytest.warns(UserWarning, match="refitting"):
        ovmer.ok("extract", "--backend", "cpu", "--baseline", "Other", "--setting", "S1", "--input", texts, "--quiet")


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe", b"[1]"], ids=["empty", "torn", "utf16", "list"])
def test_a_damaged_reproduction_stamp_reruns_its_step(tmp_path: Path, content: bytes) -> None:
    from ovmer.reproduce.layout import reproduce_layout
    from ovmer.reproduce.steps import _read_stamp

    layout = reproduce_layout(True)
    write(layout.stamps / "04_score.json", content)
    assert _read_stamp(layout, "04_score") is None


# --------------------------------------------------------------------------- assets in the data folder


@pytest.mark.parametrize("rel", ["emotion_wheel/wheel3.xlsx", "emotion_wheel/synonym.xlsx", "emotion_wheel/format.csv",
                                 "ovmerd/check-openset.csv"])
def test_a_damaged_asset_is_fetched_again_and_scores_are_unchanged(
    ovmer: Ovmer, private_data: Path, clean_scores: list[dict], rel: str
) -> None:
    target = private_data / rel
    target.write_bytes(bit_flipped(target.read_bytes(), 0.4))
    cache_file(private_data).unlink()
    clear_memory_cache()
    reports = score_json(ovmer, private_data)
    assert reports[0]["metrics"] == clean_scores[0]["metrics"]


def test_a_damaged_asset_without_a_source_is_one_line(
    ovmer: Ovmer, private_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asset_helpers import closed_port_url, fetch_module

    from ovmer.assets import AssetEntry, load_manifest

    rel = "emotion_wheel/synonym.xlsx"
    offline = {k: AssetEntry(e.path, e.sha256, e.bytes, closed_port_url(k)) for k, e in load_manifest().items()}
    monkeypatch.setattr(fetch_module, "load_manifest", lambda: offline)
    monkeypatch.delenv("OVMER_ASSET_SOURCE", raising=False)
    (private_data / rel).write_bytes(b"PK\x03\x04 broken")
    cache_file(private_data).unlink(missing_ok=True)
    clear_memory_cache()
    ovmer.fails("score", private_data / RELEASED, names=[rel, "download from", "failed"])


@pytest.mark.parametrize(
    "content",
    [b"", b"PK\x03\x04garbage", b"not a zip", "truncated", "flipped", "mutated"],
    ids=["empty", "zip-magic", "text", "truncated", "flipped", "mutated"],
)
@pytest.mark.parametrize("reader", [read_wheel_rows, read_synonym_runs], ids=["wheel", "synonyms"])
def test_the_wheel_readers_name_a_damaged_spreadsheet(ovmer_data: Path, tmp_path: Path, reader, content) -> None:
    real = (ovmer_data / ("emotion_wheel/wheel1.xlsx" if reader is read_wheel_rows else "emotion_wheel/synonym.xlsx"))
    data = real.read_bytes()
    data = {"truncated": truncated(data), "flipped": bit_flipped(data, 0.5), "mutated": mutated(data, 5, 64)}.get(
        content, content) if isinstance(content, str) else content
    path = write(tmp_path / "w.xlsx", data)
    try:
        rows = reader(path)
    except OvmerError as exc:
        assert str(path) in str(exc)
    else:  # a mutation that left the sheet readable must still give rows of text
        assert all(isinstance(cell, str) for row in rows for cell in (row if reader is read_wheel_rows else row[1]))


def test_the_word_form_reader_names_a_shifted_row(tmp_path: Path) -> None:
    path = write(tmp_path / "format.csv", "name,format\nhappy,happier,happiest\n")
    with pytest.raises(OvmerError, match=r"format.csv: line 2 has 3 fields"):
        read_word_forms(path)


def test_a_wheel_sheet_without_its_columns(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "w.xlsx"
    pd.DataFrame({"level1": ["a"], "other": ["b"]}).to_excel(path, index=False)
    with pytest.raises(OvmerError, match=r"w.xlsx: missing column\(s\) \['level2', 'level3'\]"):
        read_wheel_rows(path)


@pytest.mark.parametrize(
    ("members", "fragment"),
    [
        ({"../evil.npy": b"x"}, "unsafe member path"),
        ({"/abs/evil.npy": b"x"}, "unsafe member path"),
        ({"a\\..\\..\\evil.npy": b"x"}, "unsafe member path"),
    ],
    ids=["dotdot", "absolute", "backslash"],
)
def test_unsafe_zip_members_are_refused(tmp_path: Path, members, fragment) -> None:
    archive = write(tmp_path / "a.zip", zip_with(members))
    with pytest.raises(OvmerError, match=fragment):
        extract_zip_safely(archive, tmp_path / "out")
    assert not (tmp_path / "evil.npy").exists()


@pytest.mark.parametrize("damage", ["truncated", "flipped", "empty"])
def test_a_damaged_zip_is_one_error(ovmer_data: Path, tmp_path: Path, damage: str) -> None:
    data = (ovmer_data / "gpt-grouping" / "openset-synonym.zip").read_bytes()
    data = {"truncated": truncated(data, 0.7), "flipped": bit_flipped(data, 0.3), "empty": b""}[damage]
    archive = write(tmp_path / "openset-synonym.zip", data)
    with pytest.raises(OvmerError, match="openset-synonym.zip"):
        extract_zip_safely(archive, tmp_path / "out")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "cannot read a grouping"),
        (b"\x93NUMPY\x01\x00garbage", "expected a text array"),
        (npz_bytes(a=np.arange(2)), "an npz archive"),
        (npy_bytes(np.array([{"a": 1}], dtype=object)), "expected a text array"),
    ],
    ids=["empty", "bad-header", "npz", "pickled"],
)
def test_a_damaged_released_grouping_is_named(private_data: Path, content: bytes, fragment: str) -> None:
    asset_path("gpt-grouping/openset-synonym.zip", private_data)
    member = private_data / "gpt-grouping" / "openset-synonym" / "sample_00000007.npy"
    member.write_bytes(content)
    with pytest.raises(OvmerError, match=fragment) as caught:
        released_groupings()
    assert str(member) in str(caught.value)


def test_a_grouping_zip_whose_members_went_missing(private_data: Path) -> None:
    folder = private_data / "gpt-grouping" / "openset-synonym"
    for path in folder.glob("*.npy"):
        path.unlink()
    with pytest.raises(OvmerError, match="no groupings found"):
        released_groupings()


# --------------------------------------------------------------------------- fetch


def test_fetch_argument_and_source_problems(ovmer: Ovmer, tmp_path: Path, ovmer_data: Path) -> None:
    ovmer.fails("fetch", "--source", tmp_path / "nowhere", "--dest", tmp_path / "d", "--quiet",
                names=[tmp_path / "nowhere", "is not a folder"])
    blocker = write(tmp_path / "blocker", "x")
    ovmer.fails("fetch", "--dest", blocker / "data", "--quiet", names=["cannot write into"])
    source = tmp_path / "source"
    rel = released_file("Otter", "S1", "openset")
    write(source / rel, bit_flipped((ovmer_data / rel).read_bytes()))
    for other in ("LICENSE-upstream-AffectGPT",):
        write(source / other, (ovmer_data / other).read_bytes())
    line = ovmer.fails("fetch", "--source", source, "--dest", tmp_path / "d2", "--quiet")
    assert "missing from the asset source" in line or "checksum mismatch" in line
    assert not list((tmp_path / "d2").rglob(".partial-*"))


def test_a_zip_bomb_like_member_count_is_still_unpacked_safely(tmp_path: Path) -> None:
    members = {f"openset-synonym/s{i}.npy": npy_bytes(np.array(["a"])) for i in range(50)}
    archive = write(tmp_path / "a.zip", zip_with(members))
    written = extract_zip_safely(archive, tmp_path / "out")
    assert len(written) == 50 and all(p.is_relative_to(tmp_path / "out") for p in written)
    assert zipfile.is_zipfile(archive)
