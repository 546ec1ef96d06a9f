"""The 30 released label files: one parse for every route, and every protocol against an independent count.

Routes: the npz itself, a ``name, openset`` CSV of its text, the results store it
is imported into, the Python API on the loaded mapping, and ``ovmer score``. With
either parser every route must give the same numbers, to the last bit.

The protocols are recomputed here from the plain reference implementation
(:mod:`ovmer.scoring.reference`: its own file reading, mapping and counting),
aggregated as the authors' evaluation code does.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest

from ovmer.assets import asset_path, load_pickled_npz
from ovmer.cli import main
from ovmer.data import load_ovmerd, load_released_labels
from ovmer.data.released import RELEASED_BASELINES, released_file
from ovmer.scoring import score_file, score_predictions, score_released
from ovmer.scoring.files import file_task
from ovmer.scoring.protocols import make_protocol, score_with_protocol
from ovmer.scoring.reference import plain_mappers, plain_scores, read_plain_resources
from ovmer.settings import ALL_SETTINGS
from ovmer.store import store_path
from ovmer.store.authors_npz import import_released

RUNS = [(b, s) for b in RELEASED_BASELINES for s in ALL_SETTINGS]
PARSERS = ("authors", "ovmer")
LEVEL1_ROWS = (2, 4, 6, 8, 10)  # M3-W1-L1 ... M3-W5-L1 in METRIC_NAMES order
LEVEL2_ROWS = (3, 5, 7, 9, 11)


def _scores(report) -> dict:
    return {name: (prf.precision, prf.recall, prf.f, prf.n_scored) for name, prf in report.metrics.items()} | {
        "M-avg": report.m_avg}


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every released label file as a CSV and imported into a results store."""
    root = tmp_path_factory.mktemp("routes")
    import_released(root=root)
    for baseline, setting in RUNS:
        path = root / "csv" / baseline / f"{setting.value}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["name", "openset"])
            writer.writerows(load_released_labels(baseline, setting).items())
    return {"root": root}


@pytest.mark.parametrize("parser", PARSERS)
def test_every_route_scores_the_30_released_files_identically(routes, parser: str, capsys) -> None:
    root = routes["root"]
    differs_from_ovmer = 0
    for baseline, setting in RUNS:
        npz = asset_path(released_file(baseline, setting))
        expected = _scores(score_file(npz, parser=parser))
        assert _scores(score_released(baseline, setting, parser=parser)) == expected
        assert _scores(score_predictions(load_released_labels(baseline, setting), parser=parser)) == expected
        assert _scores(score_file(root / "csv" / baseline / f"{setting.value}.csv", parser=parser)) == expected
        stored = store_path("extract", baseline, setting, root=root)
        assert _scores(score_file(stored, parser=parser)) == expected, (baseline, setting.short, parser)
        other = "ovmer" if parser == "authors" else "authors"
        differs_from_ovmer += _scores(score_file(npz, parser=other)) != expected
    # the parsers read some released replies differently, so the choice must reach every route
    assert differs_from_ovmer >= 2
    # and the command line on the whole store, in one call
    code = main(["score", str(root / "store"), "--json", "--parser", parser])
    objects = json.loads(capsys.readouterr().out)
    assert code == 0 and len(objects) == len(RUNS)
    for item in objects:
        setting = next(s for s in ALL_SETTINGS if s.value == item["setting"])
        assert item["M-avg"] == score_released(item["baseline"], setting, parser=parser).m_avg


def test_the_issue_s_measured_store_differences_are_gone(routes) -> None:
    root = routes["root"]
    for baseline, setting, m_avg in (("SALMONN", "S1", 33.50), ("VideoChat", "S0", 26.16)):
        stored = score_file(store_path("extract", baseline, setting, root=root))
        assert round(100 * stored.m_avg, 2) == m_avg


# -- protocols against the plain reference ---------------------------------------------------------


def _authors_split(text: str) -> list[str]:
    """The authors' reading of a label list: one leading [ and trailing ] off, split on quotes and commas."""
    text = text[1:] if text.startswith("[") else text
    text = text[:-1] if text.endswith("]") else text
    return [piece.strip().lower() for piece in re.split("['\",]", text) if piece.strip()]


@pytest.fixture(scope="module")
def plain(ovmer_data: Path):
    mappers = plain_mappers(read_plain_resources(ovmer_data / "emotion_wheel"))
    with open(ovmer_data / "ovmerd" / "check-openset.csv", encoding="utf-8") as handle:
        truth = {row["name"]: _authors_split(row["openset"]) for row in csv.DictReader(handle)}
    corpus = load_pickled_npz(ovmer_data / "ovmerd" / "label-6way.npz")["train_corpus"]
    onehot = {name: corpus[name]["emo"] for name in truth}
    return mappers, truth, onehot


def _plain_hit_rate(mappers, onehot: dict[str, str], predicted: dict[str, list[str]]) -> tuple[float, float]:
    """calculate_openset_onehot_hitrate over the five level-1 wheels, averaged, written out plainly."""
    candidates = set(onehot.values())
    hit_rates, m_scores = [], []
    for row in LEVEL1_ROWS:
        mapper = mappers[row]
        mapped_candidates = {mapper(c) for c in candidates} - {""}
        hits, scores = [], []
        for name, label in onehot.items():
            truth = {mapper(label)} - {""}
            if not truth:
                continue
            pred = {mapper(p) for p in predicted[name]} - {""}
            hits.append(len(pred & truth))
            reached = len(pred & mapped_candidates)
            scores.append(len(pred & truth) / reached if reached else 0.0)
        hit_rates.append(np.mean(hits))
        m_scores.append(np.mean(scores))
    return float(np.mean(hit_rates)), float(np.mean(m_scores))


def test_protocols_match_the_plain_reference_on_every_released_file(plain) -> None:
    mappers, truth, onehot = plain
    assert len(onehot) == 332 and set(onehot.values()) == {"happy", "angry", "worried", "sad", "surprise"}
    for baseline, setting in RUNS:
        predicted = {n: _authors_split(v) for n, v in load_released_labels(baseline, setting).items()}
        per_metric, m_avg = plain_scores(truth, predicted, mappers)
        labels = load_released_labels(baseline, setting)
        where = f"{baseline} {setting.short}"
        level = {}
        for number, rows in ((1, LEVEL1_ROWS), (2, LEVEL2_ROWS)):
            level[number] = [float(np.mean([per_metric[r][k] for r in rows])) for k in (2, 0, 1)]  # F, P, R
            ours = score_with_protocol(labels, "affectgpt", level=number)
            assert [ours.score, ours.parts["precision"], ours.parts["recall"]] == pytest.approx(
                level[number], abs=1e-12), where
        mer2025 = score_with_protocol(labels, "mer2025-track2")
        assert mer2025.score == pytest.approx((level[1][0] + level[2][0]) / 2, abs=1e-12), where
        assert score_with_protocol(labels, "mer2026-track2").score == pytest.approx(level[1][0], abs=1e-12), where
        assert score_with_protocol(labels, "ovmer-paper").score == pytest.approx(m_avg, abs=1e-12), where
        hit_rate, m_score = _plain_hit_rate(mappers, onehot, predicted)
        ours = score_with_protocol(labels, "hit-rate")
        assert (ours.score, ours.parts["m_score"]) == pytest.approx((hit_rate, m_score), abs=1e-12), where


def test_protocol_values_of_one_baseline() -> None:
    labels = load_released_labels("Chat-UniVi", "S2")
    got = {name: score_with_protocol(labels, name) for name in ("affectgpt", "mer2025-track2", "mer2026-track2",
                                                                  "hit-rate")}
    assert round(100 * got["affectgpt"].score, 2) == 57.16
    assert round(100 * got["mer2025-track2"].score, 2) == 50.50
    assert round(100 * got["mer2026-track2"].score, 2) == 57.16
    assert round(100 * got["hit-rate"].score, 2) == 63.42 and round(100 * got["hit-rate"].parts["m_score"], 2) == 51.63


def test_score_command_protocols(capsys, tmp_path: Path) -> None:
    npz = asset_path(released_file("Otter", "S2"))
    code = main(["score", str(npz), "--protocol", "affectgpt", "--level", "2", "--json"])
    (item,) = json.loads(capsys.readouterr().out)
    assert code == 0 and list(item) == ["file", "baseline", "setting", "protocol", "level", "score", "precision",
                                        "recall"]
    assert item["score"] == make_protocol("affectgpt", level=2).evaluate(file_task(npz)).score
    code = main(["score", str(npz), "--protocol", "mer2025-track2", "--json"])
    (item,) = json.loads(capsys.readouterr().out)
    assert code == 0 and set(item) == {"file", "baseline", "setting", "protocol", "score", "level1", "level2"}
    # --onehot mer2023 and the same labels in a name, label CSV give one result
    onehot = tmp_path / "mer2023.csv"
    dataset = load_ovmerd()
    onehot.write_text("name,label\n" + "".join(f"{n},{dataset.emotion[n]}\n" for n in dataset.names))
    results = []
    for source in ("mer2023", str(onehot)):
        assert main(["score", str(npz), "--protocol", "hit-rate", "--onehot", source, "--json"]) == 0
        (item,) = json.loads(capsys.readouterr().out)
        results.append((item["score"], item["m_score"]))
        assert item["onehot"] == source
    assert results[0] == results[1]
    code = main(["score", str(npz), "--protocol", "hit-rate"])
    text = capsys.readouterr().out
    assert code == 0 and text.splitlines()[0].split() == ["baseline", "setting", "score", "m_score", "file"]
    code = main(["score", str(npz), "--protocol", "hit-rate", "--gt", str(onehot)])
    assert code == 1 and "--gt does not apply to hit-rate" in capsys.readouterr().err
    code = main(["score", str(npz), "--level", "2"])
    assert code == 1 and "--level applies to affectgpt only, not to ovmer-paper" in capsys.readouterr().err
