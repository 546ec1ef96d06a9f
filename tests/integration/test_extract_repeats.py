"""Repeated sampled extraction runs: one store file per seed, their spread in ``ovmer score`` and table 6."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from llm_helpers import ChatServer, Reply

from ovmer.cli import main
from ovmer.data import load_ovmerd
from ovmer.data.released import load_released_descriptions
from ovmer.errors import OvmerError
from ovmer.extract import run_extract_repeats
from ovmer.labels import format_labels
from ovmer.reproduce.artefacts import ArtefactInputs, has_extraction_repeats, save_artefact
from ovmer.store import ResultsStore, store_path
from ovmer.store.jsonl import seed_of_path

BASELINE = "Chat-UniVi"


@pytest.fixture(scope="module")
def described() -> dict[str, tuple[str, list[str]]]:
    """Description text -> (sample, ground truth): what the fake sampler answers from."""
    texts = load_released_descriptions(BASELINE, "S2")
    truth = load_ovmerd().ground_truth
    return {" ".join(texts[name].split()): (name, list(truth[name])) for name in truth}


def sampler(described):
    """A chat server whose replies depend on the request's seed: each true label is kept with probability 0.6."""

    def reply(index: int, body: dict) -> Reply:
        text = body["messages"][-1]["content"].rsplit("Text: ", 1)[1].rsplit("\nOutput:", 1)[0]
        name, labels = described[" ".join(text.split())]
        draw = random.Random(f"{body['seed']}/{name}/{body['temperature']}")
        return Reply(content=format_labels([label for label in labels if draw.random() < 0.6]))

    return ChatServer(reply)


def extract(server: ChatServer, root: Path, *extra: str) -> int:
    return main(["extract", "--baseline", BASELINE, "--setting", "S2", "--backend", "openai", "--model", "m",
                 "--base-url", server.base_url, "--preset", "paper", "--output", str(root), "--quiet", *extra])


def test_repeats_write_one_store_file_per_seed_and_score_reports_their_spread(
    described, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sampler(described) as server:
        assert extract(server, tmp_path, "--repeats", "3", "--seed", "5") == 0
        out = capsys.readouterr().out
        folder = store_path("extract", BASELINE, "S2", tmp_path).parent
        assert sorted(p.name for p in folder.iterdir()) == [f"nosubtitle-addsub.seed-{s}.jsonl" for s in (5, 6, 7)]
        assert out.count("addsub: 332 done") == 3 and "total: 996 done" in out
        seeds = {r["seed"] for r in server.requests}
        assert seeds == {5, 6, 7} and len(server.requests) == 3 * 332
        records = {s: ResultsStore(folder / f"nosubtitle-addsub.seed-{s}.jsonl").latest() for s in (5, 6, 7)}
        name = min(records[5])
        assert [records[s][name].meta["settings"]["seed"] for s in (5, 6, 7)] == [5, 6, 7]
        assert len({records[s][name].key for s in (5, 6, 7)}) == 3  # the seed is in the key
        assert len({json.dumps([records[s][n].value for n in sorted(records[5])]) for s in (5, 6, 7)}) == 3

        # A fourth repeat reuses the three finished runs.
        assert extract(server, tmp_path, "--repeats", "4", "--seed", "5") == 0
        out = capsys.readouterr().out
        assert out.count("0 done, 332 skipped") == 3 and out.count("addsub: 332 done") == 1

    assert main(["score", str(folder), "--json"]) == 0
    objects = json.loads(capsys.readouterr().out)
    files, (spread,) = [o for o in objects if "kind" not in o], [o for o in objects if o.get("kind") == "repeats"]
    assert len(files) == 4 and spread["seeds"] == [5, 6, 7, 8] and spread["runs"] == 4
    runs = [f["M-avg"] for f in sorted(files, key=lambda f: seed_of_path(f["file"]))]
    m_avg = spread["metrics"]["M-avg"]
    assert m_avg["mean"] == pytest.approx(sum(runs) / 4) and (m_avg["low"], m_avg["high"]) == (min(runs), max(runs))
    assert 0 < m_avg["std"] < 0.05 and m_avg["ci_low"] < m_avg["mean"] < m_avg["ci_high"]
    assert set(spread["metrics"]) >= {"M1", "M2", "M3-W1-L1", "M3-W5-L2", "M-avg"}

    assert main(["score", str(folder)]) == 0
    text = capsys.readouterr().out
    assert f"{BASELINE}/nosubtitle-addsub: 4 extraction runs (seeds 5, 6, 7, 8)" in text and "bootstrap 95%" in text

    # Table 7 of the reproduction appears when the run's store has repeated runs.
    inputs = ArtefactInputs(tmp_path / "scores" / "scores.json", tmp_path / "tables", tmp_path / "figures",
                            store_root=tmp_path)
    assert has_extraction_repeats(inputs)
    saved = save_artefact("table7_extraction_variance", inputs)
    assert [p.name for p in saved.paths] == [f"table7_extraction_variance.{e}" for e in ("csv", "md", "tex")]
    frame = saved.value.frame
    assert len(frame) == 13 and frame.loc[(BASELINE, "nosubtitle-addsub", "M-avg"), "runs"] == 4
    assert frame.loc[(BASELINE, "nosubtitle-addsub", "M-avg"), "mean"] == pytest.approx(m_avg["mean"] * 100)
    assert not has_extraction_repeats(ArtefactInputs(tmp_path / "x" / "scores" / "s.json", tmp_path, tmp_path))


def test_repeats_need_a_sampling_llm(tmp_path: Path) -> None:
    descriptions = {"a": "She smiles."}
    with pytest.raises(OvmerError, match="use a sampling preset"):
        run_extract_repeats(BASELINE, "S2", repeats=2, seed=0, backend="replay", descriptions=descriptions)
    with pytest.raises(OvmerError, match="cpu extractor is deterministic"):
        run_extract_repeats(BASELINE, "S2", repeats=2, seed=0, backend="cpu", settings="paper",
                            descriptions=descriptions)
    with pytest.raises(OvmerError, match="repeats must be at least 1"):
        run_extract_repeats(BASELINE, "S2", repeats=0, seed=0, backend="openai", model="m", settings="paper")
