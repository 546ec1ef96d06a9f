"""`ovmer score` on damaged and odd prediction and ground-truth files: one clear line, or the right numbers.

Every case names the file (and the sample or line when there is one) in a single
``ovmer score: error:`` line, exit 1, no traceback. The cases that are not errors
(a byte-string npz, a BOM, a TSV, a torn last line) must give the same scores as
the clean file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from adversarial_helpers import (
    Ovmer,
    bit_flipped,
    npy_bytes,
    npz_bytes,
    record_line,
    truncated,
    write,
    zip_with,
)

from ovmer.assets import asset_path
from ovmer.data.released import released_file

FIRST = "sample_00000000"


@pytest.fixture(scope="module")
def released() -> Path:
    return asset_path(released_file("Otter", "S1", "openset"))


@pytest.fixture(scope="module")
def pairs(released: Path) -> tuple[list[str], list[str]]:
    with np.load(released) as archive:
        return archive["filenames"].tolist(), archive["fileitems"].tolist()


def scores(ovmer: Ovmer, *argv: object) -> list[dict]:
    """The --json reports without the fields that name the file."""
    reports = json.loads(ovmer.ok("score", *argv, "--json").out)
    return [{k: v for k, v in r.items() if k not in ("file", "baseline")} for r in reports]


def labels_npz(names: list, items: list, **kw) -> bytes:
    return npz_bytes(filenames=np.array(names), fileitems=np.array(items), **kw)


# (case id, file name, builder(released bytes, names, items) -> content, fragments of the message)
Builder = Callable[[bytes, list, list], bytes | str]
BAD_PREDICTIONS: list[tuple[str, str, Builder, tuple[str, ...]]] = [
    ("npz-truncated", "a-openset.npz", lambda b, n, i: truncated(b), ("cannot read as npz",)),
    ("npz-truncated-to-header", "a-openset.npz", lambda b, n, i: b[:40], ("cannot read as npz",)),
    ("npz-bit-flipped", "a-openset.npz", lambda b, n, i: bit_flipped(b), ("cannot read as npz",)),
    ("npz-flipped-in-deflate", "a-openset.npz", lambda b, n, i: bit_flipped(b, 0.3), ("cannot read as npz",)),
    ("npz-empty-file", "a-openset.npz", lambda b, n, i: b"", ("the file is empty",)),
    ("npz-is-text", "a-openset.npz", lambda b, n, i: "name,openset\n", ("not a zip archive",)),
    ("npy-renamed-npz", "a-openset.npz", lambda b, n, i: npy_bytes(np.array(n)), ("a single .npy array",)),
    ("npz-zip-of-text", "a-openset.npz", lambda b, n, i: zip_with({"filenames.npy": b"hello", "fileitems.npy": b"x"}), ("filenames is not a .npy array",)),
    ("npz-wrong-keys", "a-openset.npz", lambda b, n, i: npz_bytes(names=np.array(n)), ("expected keys filenames",)),
    ("npz-extra-key", "a-openset.npz",
     lambda b, n, i: npz_bytes(filenames=np.array(n), fileitems=np.array(i), extra=np.arange(3)), ("found",)),
    ("npz-object-arrays", "a-openset.npz",
     lambda b, n, i: npz_bytes(filenames=np.array(n, dtype=object), fileitems=np.array(i, dtype=object)),
     ("must be text arrays",)),
    ("npz-2d-names", "a-openset.npz",
     lambda b, n, i: labels_npz([n[:2], n[2:4]], [i[:2], i[2:4]]), ("1-D array of text",)),
    ("npz-numeric-items", "a-openset.npz",
     lambda b, n, i: npz_bytes(filenames=np.array(n), fileitems=np.arange(len(n))), ("1-D array of text",)),
    ("npz-length-mismatch", "a-openset.npz", lambda b, n, i: labels_npz(n, i[:-1]), ("fileitems",)),
    ("npz-duplicate-name", "a-openset.npz",
     lambda b, n, i: labels_npz([*n, n[0]], [*i, "[sad]"]), ("listed twice", FIRST, "entry 1 and")),
    ("npz-empty-name", "a-openset.npz", lambda b, n, i: labels_npz(["", *n[1:]], i), ("entry 1 has an empty sample name",)),
    ("npz-bytes-not-utf8", "a-openset.npz",
     lambda b, n, i: npz_bytes(filenames=np.array([b"\xff\xfe"] + [x.encode() for x in n[1:]]),
                               fileitems=np.array([x.encode() for x in i])), ("filenames[0] is not UTF-8",)),
    ("csv-empty", "a.csv", lambda b, n, i: b"", ("is empty (no header row)",)),
    ("csv-only-blank-lines", "a.csv", lambda b, n, i: "\n\n\n", ("is empty (no header row)",)),
    ("csv-latin1", "a.csv", lambda b, n, i: f"name,openset\n{FIRST},[d\xe9\xe7u]\n".encode("latin-1"),
     ("not UTF-8 text", "line 2")),
    ("csv-utf16", "a.csv", lambda b, n, i: f"name,openset\n{FIRST},[happy]\n".encode("utf-16"), ("not UTF-8 text",)),
    ("csv-nul-bytes", "a.csv", lambda b, n, i: f"name,openset\n{FIRST},[ha\x00ppy]\n", ("NUL bytes",)),
    ("csv-shifted-columns", "a.csv", lambda b, n, i: f"name,openset\n{FIRST},happy,sad\n",
     ("line 2 has 3 fields but the header has 2", "must be quoted")),
    ("csv-short-row", "a.csv", lambda b, n, i: f"name,openset\n{FIRST}\n", ("line 2 has 1 fields",)),
    ("csv-no-openset-column", "a.csv", lambda b, n, i: f"name,labels\n{FIRST},[happy]\n", ("missing column(s)",)),
    ("csv-no-name-column", "a.csv", lambda b, n, i: "sample,openset\nx,[happy]\n", ("missing column(s) ['name']",)),
    ("csv-duplicate-name", "a.csv", lambda b, n, i: f"name,openset\n{FIRST},[a]\n{FIRST},[b]\n",
     ("listed twice", FIRST, "data row 1 and 2")),
    ("csv-empty-name", "a.csv", lambda b, n, i: f"name,openset\n{FIRST},[a]\n ,[b]\n", ("data row 2 has an empty sample name",)),
    ("csv-repeated-header", "a.csv", lambda b, n, i: f"name,openset,openset\n{FIRST},[a],[b]\n", ("more than once",)),
    ("csv-empty-header-cell", "a.csv", lambda b, n, i: f"name,,openset\n{FIRST},x,[a]\n", ("empty column name",)),
    ("csv-unclosed-quote", "a.csv", lambda b, n, i: f'name,openset\n{FIRST},"[a, b]\nsample_1,[c]\n',
     ("malformed CSV", "unexpected end of data")),
    ("csv-text-after-quote", "a.csv", lambda b, n, i: f'name,openset\n{FIRST},"[a]"x\n', ("malformed CSV",)),
    ("tsv-comma-separated", "a.tsv", lambda b, n, i: f"name,openset\n{FIRST},[a]\n", ("missing column(s)",)),
    ("jsonl-name-is-a-list", "store/extract/B/subtitle.jsonl", lambda b, n, i: record_line(name=["a"]),
     ("subtitle.jsonl:1", "'name' must be a sample name")),
    ("jsonl-name-is-empty", "store/extract/B/subtitle.jsonl", lambda b, n, i: record_line(name=""), (":1", "'name'")),
    ("jsonl-status-unknown", "store/extract/B/subtitle.jsonl", lambda b, n, i: record_line(status="done"),
     (":1", "status must be ok or error")),
    ("jsonl-key-number", "store/extract/B/subtitle.jsonl", lambda b, n, i: record_line(key=5), (":1", "'key' must be text")),
    ("jsonl-meta-text", "store/extract/B/subtitle.jsonl", lambda b, n, i: record_line(meta="x"), (":1", "'meta' must be")),
    ("jsonl-raw-number", "store/extract/B/subtitle.jsonl", lambda b, n, i: record_line(raw=3), (":1", "'raw' must be")),
    ("jsonl-unknown-field", "store/extract/B/subtitle.jsonl", lambda b, n, i: record_line(colour="red"),
     (":1", "unknown field(s) ['colour']")),
    ("jsonl-no-key", "store/extract/B/subtitle.jsonl", lambda b, n, i: json.dumps({"name": FIRST, "status": "ok"}) + "\n",
     (":1", "no 'key'")),
    ("jsonl-array-line", "store/extract/B/subtitle.jsonl", lambda b, n, i: "[1, 2]\n", (":1", "a JSON list")),
    ("jsonl-string-line", "store/extract/B/subtitle.jsonl", lambda b, n, i: '"hello"\n', (":1", "a JSON str")),
    ("jsonl-all-garbage", "store/extract/B/subtitle.jsonl", lambda b, n, i: b"\x00\xff garbage\nmore garbage\n",
     ("not a results-store file",)),
    ("jsonl-not-utf8-only-line", "store/extract/B/subtitle.jsonl",
     lambda b, n, i: record_line(value=["h"]).replace("h", "\udcff").encode("utf-8", "surrogateescape"),
     ("not a results-store file",)),
    ("jsonl-deeply-nested", "store/extract/B/subtitle.jsonl", lambda b, n, i: "[" * 100_000 + "\n",
     ("not a results-store file",)),
    ("jsonl-value-is-a-number", "store/extract/B/subtitle.jsonl",
     lambda b, n, i: "".join(record_line(name=x, value=["happy"]) for x in n[1:]) + record_line(value=7),
     (FIRST,)),
    ("jsonl-describe-stage", "store/describe/B/subtitle.jsonl", lambda b, n, i: record_line(value="He smiles."),
     ("a describe-stage store file, not label lists",)),
    ("unsupported-suffix", "a.txt", lambda b, n, i: "[happy]", ("unsupported prediction file",)),
    ("xlsx-prediction", "a.xlsx", lambda b, n, i: zip_with({"x": b""}), ("unsupported prediction file",)),
]


@pytest.mark.parametrize(("name", "builder", "fragments"), [c[1:] for c in BAD_PREDICTIONS],
                         ids=[c[0] for c in BAD_PREDICTIONS])
def test_a_bad_prediction_file_is_one_line_naming_it(
    ovmer: Ovmer, tmp_path: Path, released: Path, pairs, name: str, builder: Builder, fragments: tuple[str, ...]
) -> None:
    path = write(tmp_path / name, builder(released.read_bytes(), *pairs))
    ovmer.fails("score", path, names=[str(path).split(".jsonl")[0], *fragments])


def test_a_bad_file_in_a_folder_is_named_and_the_rest_is_not_scored_silently(
    ovmer: Ovmer, tmp_path: Path, released: Path
) -> None:
    write(tmp_path / "Otter" / "good-subtitle-openset.npz", released.read_bytes())
    bad = write(tmp_path / "Zeta" / "bad-subtitle-openset.npz", truncated(released.read_bytes()))
    ovmer.fails("score", tmp_path, names=[bad, "cannot read as npz"])


@pytest.mark.parametrize("what", ["missing", "folder", "empty-folder"])
def test_missing_paths_and_empty_folders(ovmer: Ovmer, tmp_path: Path, what: str) -> None:
    target = tmp_path / "nowhere"
    if what != "missing":
        target.mkdir()
    if what == "folder":
        write(target / "notes.txt", "nothing to score")
    ovmer.fails("score", target, names=[target])


def test_a_directory_named_npz_is_refused(ovmer: Ovmer, tmp_path: Path) -> None:
    folder = tmp_path / "labels-openset.npz"
    folder.mkdir()
    ovmer.fails("score", folder, names=[folder])


# ------------------------------------------------------------------- odd files that are not errors


def test_byte_string_arrays_score_as_the_text_arrays(ovmer: Ovmer, tmp_path: Path, released: Path, pairs) -> None:
    names, items = pairs
    as_bytes = write(tmp_path / "b" / "x-subtitle-openset.npz",
                     npz_bytes(filenames=np.array([n.encode() for n in names]),
                               fileitems=np.array([i.encode() for i in items])))
    plain = write(tmp_path / "a" / "x-subtitle-openset.npz", released.read_bytes())
    assert scores(ovmer, as_bytes) == scores(ovmer, plain)


def test_bom_tsv_and_crlf_csv_score_like_the_npz(ovmer: Ovmer, tmp_path: Path, released: Path, pairs) -> None:
    names, items = pairs
    rows = "".join(f'{n},"{i}"\r\n' for n, i in zip(names, items, strict=True))
    bom_csv = write(tmp_path / "c" / "subtitle.csv", "\ufeffname,openset\r\n" + rows)
    tsv = write(tmp_path / "t" / "subtitle.tsv", "name\topenset\n" + "".join(
        f"{n}\t{i}\n" for n, i in zip(names, items, strict=True)))
    expected = scores(ovmer, released)
    assert scores(ovmer, bom_csv) == scores(ovmer, tsv) == expected


def test_a_torn_last_line_is_skipped_with_a_warning_and_the_rest_is_scored(
    ovmer: Ovmer, tmp_path: Path, pairs
) -> None:
    names, items = pairs
    store = write(tmp_path / "store" / "extract" / "B" / "subtitle.jsonl",
                  "".join(record_line(name=n, raw=i, value=i) for n, i in zip(names, items, strict=True))
                  + '{"name": "sample_9999", "sta')
    outcome = ovmer.run("score", store, "--json")
    assert outcome.code == 0 and len(json.loads(outcome.out)) == 1
    assert any("skipped 1 unreadable line(s) [333]" in w for w in outcome.warnings)


def test_a_damaged_byte_in_one_line_skips_that_sample_only(ovmer: Ovmer, tmp_path: Path, pairs) -> None:
    names, items = pairs
    lines = [record_line(name=n, raw=i, value=i).encode() for n, i in zip(names, items, strict=True)]
    lines[5] = lines[5].replace(b"[", b"[\xff", 1)
    store = write(tmp_path / "store" / "extract" / "B" / "subtitle.jsonl", b"".join(lines))
    line = ovmer.fails("score", store, names=[names[5]])  # the skipped sample is missing, by name
    assert "no prediction for 1 ground-truth sample(s)" in line
    outcome = ovmer.run("score", store, "--missing-as-empty")
    assert outcome.code == 0 and any("unreadable line(s) [6]" in w for w in outcome.warnings)


def test_an_error_after_a_finished_record_does_not_hide_it(ovmer: Ovmer, tmp_path: Path, pairs) -> None:
    names, items = pairs
    body = "".join(record_line(name=n, raw=i, value=i) for n, i in zip(names, items, strict=True))
    clean = write(tmp_path / "one" / "store" / "extract" / "B" / "subtitle.jsonl", body)
    retried = write(tmp_path / "two" / "store" / "extract" / "B" / "subtitle.jsonl",
                    body + "".join(record_line(name=n, status="error", key="k2", error="HTTP 500 req-1") for n in names))
    expected = scores(ovmer, clean)
    outcome = ovmer.run("score", retried, "--json")
    assert [{k: v for k, v in r.items() if k not in ("file", "baseline")} for r in json.loads(outcome.out)] == expected
    assert any("the latest run of 332 sample(s) failed" in w for w in outcome.warnings)


# ------------------------------------------------------------------- ground truth


BAD_GROUND_TRUTH = [
    ("empty", b"", ("is empty",)),
    ("header-only-other-columns", "name,labels\n", ("missing column(s)",)),
    ("shifted", f"name,openset\n{FIRST},happy,sad\n", ("line 2 has 3 fields",)),
    ("duplicate", f"name,openset\n{FIRST},[a]\n{FIRST},[b]\n", ("listed twice", FIRST)),
    ("latin1", f"name,openset\n{FIRST},[d\xe9\xe7u]\n".encode("latin-1"), ("not UTF-8",)),
]


@pytest.mark.parametrize(("content", "fragments"), [c[1:] for c in BAD_GROUND_TRUTH], ids=[c[0] for c in BAD_GROUND_TRUTH])
def test_a_bad_ground_truth_file_is_named(ovmer: Ovmer, tmp_path: Path, released: Path, content, fragments) -> None:
    gt = write(tmp_path / "gt.csv", content)
    ovmer.fails("score", released, "--gt", gt, names=[gt, *fragments])


def test_a_missing_ground_truth_file(ovmer: Ovmer, tmp_path: Path, released: Path) -> None:
    ovmer.fails("score", released, "--gt", tmp_path / "none.csv", names=[tmp_path / "none.csv"])
