"""``notebooks/evaluate_your_model.ipynb`` headless: a served model, and an adapter from the user's own file.

The server on 127.0.0.1 answers describe requests (frames and audio) and clue-merging
requests (text) like a small multimodal model would; labels come from the CPU
extractor; the dataset's ground truth is happy and relaxed for every sample.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from llm_helpers import ChatServer, Reply
from media_helpers import make_mer2025_layout

from ovmer.reproduce.notebooks import execute_notebook
from ovmer.store import ResultsStore

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "evaluate_your_model.ipynb"
USER_CODE = Path(__file__).resolve().parents[1] / "user_code"
NAMES = tuple(f"sample_{i:08d}" for i in range(1, 4))


def answer(index: int, body: dict) -> Reply:
    content = body["messages"][-1]["content"]
    if isinstance(content, list):  # a describe request: media and text items
        frames = sum(item["type"] == "image_url" for item in content)
        return Reply(content=f"Looking at {frames} frames: she smiles and laughs, her voice is light. "
                             "She seems happy and relaxed.")
    return Reply(content="Her smile and the cheerful subtitle show that she is happy and relaxed.")


def outputs(executed: Path) -> dict[str, str]:
    """cell id -> its text/plain output."""
    cells = json.loads(executed.read_text())["cells"]
    return {c["id"]: "".join(o.get("data", {}).get("text/plain", "")) for c in cells if c["cell_type"] == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "execute_result"}


def rank_rows(text: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in text.splitlines()[2:]}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_mer2025_layout(tmp_path_factory.mktemp("evaluate") / "data", NAMES, seconds=1.0, fps=8)


@pytest.mark.slow
def test_a_served_model_from_describe_to_its_table_1_rank(dataset, tmp_path):
    with ChatServer(answer) as server:
        executed = execute_notebook(NOTEBOOK, tmp_path / "executed.ipynb", {
            "data": str(dataset), "base_url": server.base_url, "model": "org/Tiny-Omni", "num_frames": 2,
            "output": str(tmp_path / "out")})
    describe_requests = [b for b in server.requests if isinstance(b["messages"][-1]["content"], list)]
    assert len(describe_requests) == 6 and len(server.requests) == 9  # S0 + S1 per sample, one merge each
    assert all(b["model"] == "org/Tiny-Omni" for b in server.requests)
    store = tmp_path / "out" / "smoke" / "store"
    labels = ResultsStore(store / "extract" / "Tiny-Omni" / "nosubtitle-addsub.jsonl").values()
    assert labels == {name: ["happy", "relaxed"] for name in NAMES}
    shown = outputs(executed)
    assert "evaluate Tiny-Omni (org/Tiny-Omni; audio+video, 2 frames)" in shown["evaluate-plan"]
    scores = shown["evaluate-score"]
    for setting in ("S0", "S1", "S2"):  # the labels match exactly: every protocol's score is 100
        for protocol in ("ovmer-paper", "affectgpt", "mer2025-track2", "mer2026-track2"):
            assert re.search(rf"\n{setting}\s+{protocol}\s+3\s+100\.0\s", scores) or re.search(
                rf"\n\s+{protocol}\s+3\s+100\.0\s", scores), (setting, protocol, scores)
    # hit-rate keeps its rows, saying why it cannot score 3 samples against its own truth (all of OV-MERD)
    assert "not scored: predictions: no prediction for 332" in scores
    ranks = rank_rows(shown["evaluate-rank"])
    assert ranks["Tiny-Omni"][:2] == ["1", "100.00"]  # above every system of Table 1
    assert len(ranks) == 1 + 12 and ranks["Chat-UniVi"][:3] == ["2", "46.75", "paper"]


@pytest.mark.slow
def test_an_adapter_from_the_users_own_file(dataset, tmp_path):
    user_file = Path(shutil.copy(USER_CODE / "my_adapter.py", tmp_path / "my_adapter.py"))
    with ChatServer(answer) as server:
        executed = execute_notebook(NOTEBOOK, tmp_path / "executed.ipynb", {
            "data": str(dataset), "baseline": "my-model", "include": str(user_file),
            "merge_base_url": server.base_url, "merge_model": "text-llm", "output": str(tmp_path / "out")})
    assert [b["model"] for b in server.requests] == ["text-llm"] * 3  # only clue merging went to the server
    store = tmp_path / "out" / "smoke" / "store"
    described = ResultsStore(store / "describe" / "my-model" / "subtitle.jsonl").values()
    assert described["sample_00000001"].startswith("3 frames, 16000 audio samples, subtitle 'subtitle of")
    shown = outputs(executed)
    assert shown["evaluate-include"].strip() == "['my_adapter']"
    assert rank_rows(shown["evaluate-rank"])["my-model"][0] == "1"
