"""``ovmer export`` of an extract-stage store file gives a submission that ``ovmer check-submission`` accepts."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import run_cli

from ovmer.data import load_ovmerd, load_released_descriptions, load_released_labels
from ovmer.extract.stage import run_extract
from ovmer.store import ResultsStore, store_path
from ovmer.store.authors_npz import import_released


def _candidates(path: Path, names) -> Path:
    path.write_text("name\n" + "".join(f"{n}\n" for n in names), encoding="utf-8")
    return path


def test_exported_released_labels_pass_with_their_empty_items_allowed(tmp_path: Path, capsys) -> None:
    import_released(["Chat-UniVi"], ["S2"], root=tmp_path)
    submission = tmp_path / "Chat-UniVi-openset.npz"
    code, out, _ = run_cli(capsys, "export", "extract/Chat-UniVi/S2", str(submission), "--output", str(tmp_path))
    assert code == 0 and submission.is_file()
    candidates = _candidates(tmp_path / "track_all_candidates.csv", load_ovmerd().names)
    code, out, _ = run_cli(capsys, "check-submission", str(submission), "--candidates", str(candidates))
    # the authors' extraction left 6 samples without a label ("[]")
    empty = [n for n, text in load_released_labels("Chat-UniVi", "S2").items() if text.strip() == "[]"]
    assert len(empty) == 6 and code == 1 and out.strip().splitlines() == [
        f"{submission}: 6 item(s) are empty label lists: {', '.join(empty[:3])}, … (6 in all) "
        "(--allow-empty accepts them)"
    ]
    code, out, _ = run_cli(capsys, "check-submission", str(submission), "--candidates", str(candidates),
                           "--allow-empty")
    assert code == 0 and out.startswith(f"{submission}: valid mer2025-track2 submission: 332 samples")
    # one candidate more: the same file now misses it
    _candidates(candidates, [*load_ovmerd().names, "sample_99999999"])
    code, out, _ = run_cli(capsys, "check-submission", str(submission), "--candidates", str(candidates),
                           "--allow-empty")
    assert code == 1 and "1 candidate sample(s) missing: sample_99999999" in out


def test_exported_cpu_extraction_passes(tmp_path: Path, capsys) -> None:
    texts = load_released_descriptions("Otter", "S2")
    chosen = {name: texts[name] for name in list(texts)[:40]}
    run_extract("Mine", "S2", backend="cpu", descriptions=chosen, store_root=tmp_path, progress=False)
    stored = store_path("extract", "Mine", "S2", root=tmp_path)
    empty = sorted(n for n, r in ResultsStore(stored).latest().items() if not r.value)
    submission = tmp_path / "Mine-openset.npz"
    code, _, _ = run_cli(capsys, "export", str(stored), str(submission))
    assert code == 0
    candidates = _candidates(tmp_path / "candidates.csv", chosen)
    flags = ["--allow-empty"] if empty else []
    code, out, _ = run_cli(capsys, "check-submission", str(submission), "--candidates", str(candidates), *flags)
    assert code == 0, out
    assert out.startswith(f"{submission}: valid mer2025-track2 submission: 40 samples") and f"{len(empty)} empty" in out
