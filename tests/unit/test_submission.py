"""``ovmer check-submission``: every kind of problem in a challenge submission, one line each (no assets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_helpers import run_cli

from ovmer.errors import OvmerError
from ovmer.scoring.submission import check_submission

NAMES = [f"sample_{i:05d}" for i in range(6)]


@pytest.fixture
def candidates(tmp_path: Path) -> Path:
    path = tmp_path / "track_all_candidates.csv"
    path.write_text("name\n" + "\n".join(NAMES) + "\n", encoding="utf-8")
    return path


def _submission(path: Path, names, items, **extra) -> Path:
    np.savez_compressed(path, filenames=np.array(names), fileitems=np.array(items), **extra)
    return path


def test_a_valid_submission_is_one_summary_line(tmp_path: Path, candidates: Path, capsys) -> None:
    items = ["[happy, relaxed]", "['sad']", "angry, worried", "[surprise]", "[calm]", "Output: [joy, hope]"]
    path = _submission(tmp_path / "mine-openset.npz", NAMES, items)
    code, out, err = run_cli(capsys, "check-submission", str(path), "--candidates", str(candidates))
    assert code == 0 and err == ""
    (line,) = out.strip().splitlines()
    assert line.startswith(f"{path}: valid mer2025-track2 submission: 6 samples, 1.50 labels per sample, 0 empty")
    # "Output: [joy, hope]" is a label list for ovmer, but the organisers' split keeps "output: [joy" as a label
    assert "1 item(s) read differently by the organisers' list split" in line and "sample_00005" in line
    code, out, _ = run_cli(capsys, "check-submission", str(path), "--candidates", str(candidates),
                           "--track", "mer2026-track2")
    assert code == 0 and "valid mer2026-track2 submission" in out


def test_names_must_be_exactly_the_candidates(tmp_path: Path, candidates: Path, capsys) -> None:
    names = [NAMES[0], NAMES[0], NAMES[1], NAMES[2], NAMES[3], "sample_99999", "other"]
    path = _submission(tmp_path / "names-openset.npz", names, ["[happy]"] * len(names))
    code, out, _ = run_cli(capsys, "check-submission", str(path), "--candidates", str(candidates))
    assert code == 1
    lines = out.strip().splitlines()
    assert lines == [
        f"{path}: 1 sample name(s) listed more than once: sample_00000",
        f"{path}: 2 candidate sample(s) missing: sample_00004, sample_00005",
        f"{path}: 2 name(s) not in the candidate list: sample_99999, other",
    ]


def test_items_must_be_label_lists_and_empty_only_when_allowed(tmp_path: Path, candidates: Path) -> None:
    sentence = "I am unable to tell what this person might be feeling in the clip"
    items = ["[happy]", "[]", "", sentence, "the output is: []", "[sad]"]
    path = _submission(tmp_path / "items-openset.npz", NAMES, items)
    report = check_submission(path, candidates)
    assert report.problems == [
        "1 item(s) hold no label list (text without labels): sample_00003",
        "3 item(s) are empty label lists: sample_00001, sample_00002, sample_00004 (--allow-empty accepts them)",
    ]
    allowed = check_submission(path, candidates, allow_empty=True)
    assert allowed.problems == ["1 item(s) hold no label list (text without labels): sample_00003"]
    many = _submission(tmp_path / "many-openset.npz", NAMES, ["[]"] * 6)
    assert check_submission(many, NAMES).problems == [
        "6 item(s) are empty label lists: sample_00000, sample_00001, sample_00002, … (6 in all) "
        "(--allow-empty accepts them)"
    ]
    assert check_submission(many, NAMES, allow_empty=True).ok


def test_keys_dtypes_and_pickles(tmp_path: Path, candidates: Path) -> None:
    wrong_keys = tmp_path / "keys-openset.npz"
    np.savez(wrong_keys, names=np.array(NAMES), fileitems=np.array(["[a]"] * 6))
    assert check_submission(wrong_keys, candidates).problems == [
        "missing key(s) filenames (found: fileitems, names)",
        "unexpected key(s) names; the archive holds only filenames, fileitems",
    ]
    pickled = tmp_path / "pickled-openset.npz"
    np.savez(pickled, filenames=np.array(NAMES, dtype=object), fileitems=np.array(["[a]"] * 6))
    (problem,) = check_submission(pickled, candidates).problems
    assert problem.startswith("filenames holds pickled objects, which are refused")
    as_bytes = _submission(tmp_path / "bytes-openset.npz", np.array(NAMES, dtype="S"), ["[a]"] * 6)
    assert check_submission(as_bytes, candidates).problems == [
        "filenames must be a 1-D unicode string array, got dtype |S12 shape (6,)"
    ]
    ragged = _submission(tmp_path / "ragged-openset.npz", NAMES, ["[a]"] * 5)
    assert check_submission(ragged, candidates).problems == ["6 filenames but 5 fileitems"]
    two_d = _submission(tmp_path / "2d-openset.npz", NAMES, np.array([["[a]"] * 6]))
    assert check_submission(two_d, candidates).problems == [
        "fileitems must be a 1-D unicode string array, got dtype <U3 shape (1, 6)"
    ]
    not_npz = tmp_path / "text-openset.npz"
    not_npz.write_text("filenames,fileitems\n")
    (problem,) = check_submission(not_npz, candidates).problems
    assert problem.startswith("cannot read as an npz archive without unpickling")
    csv = tmp_path / "labels.csv"
    csv.write_text("name,openset\n")
    assert check_submission(csv, candidates).problems == ["not an .npz file (the organisers accept *-openset.npz)"]


def test_bad_arguments_are_one_line_errors(tmp_path: Path, candidates: Path, capsys) -> None:
    path = _submission(tmp_path / "ok-openset.npz", NAMES, ["[a]"] * 6)
    code, _, err = run_cli(capsys, "check-submission", str(tmp_path / "absent.npz"), "--candidates", str(candidates))
    assert code != 0 and err.strip().endswith("absent.npz: no such submission file")
    twice = tmp_path / "twice.csv"
    twice.write_text("name\na\na\n")
    with pytest.raises(OvmerError, match="candidate name\\(s\\) listed twice: a"):
        check_submission(path, twice)
    no_name = tmp_path / "no-name.csv"
    no_name.write_text("id\na\n")
    with pytest.raises(OvmerError, match="missing column"):
        check_submission(path, no_name)
