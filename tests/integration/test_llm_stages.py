"""The merge, extract and group stages: store keys, resume, edge rules, error records, replay, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from llm_helpers import ChatServer, Reply

from ovmer.errors import OvmerError
from ovmer.labels import parse_labels
from ovmer.llm import get_preset
from ovmer.llm.openai_backend import OpenAIBackend
from ovmer.llm.replay import ReplayBackend
from ovmer.store import ResultsStore, store_path

DESCRIPTIONS = {"a": "She smiles warmly.", "b": "He looks away.", "c": "", "d": "Her voice trembles."}
SUBTITLES = {"a": "I missed you!", "b": "", "c": "  ", "d": "Please don't go."}


def client(server: ChatServer, **options) -> OpenAIBackend:
    defaults = {"max_retries": 0, "backoff": 0.01, "timeout": 5.0, "concurrency": 2}
    return OpenAIBackend("served-model", base_url=server.base_url, **(defaults | options))


def last_user_text(body: dict) -> str:
    return body["messages"][-1]["content"]


def merged(index: int, body: dict) -> Reply:
    text = last_user_text(body)
    clue = text.split("Clues: ", 1)[1].split("\n", 1)[0]
    return Reply(content=f"  merged <{clue}>  ")


# --- merge --------------------------------------------------------------------------------------


def test_merge_rules_keys_and_resume(tmp_path: Path) -> None:
    from ovmer.merge import UNABLE_TO_JUDGE, run_merge

    with ChatServer(merged) as server:
        llm = client(server)
        summary = run_merge(
            "toy",
            backend=llm,
            descriptions=DESCRIPTIONS,
            subtitles=SUBTITLES,
            store_root=tmp_path,
            progress=False,
        )
        assert (summary.done, summary.skipped, summary.failed) == (4, 0, 0)
        assert len(server.requests) == 2  # only a and d have a subtitle to merge
        records = ResultsStore(store_path("merge", "toy", "S2", tmp_path)).latest()
        assert records["a"].value == records["a"].raw == "merged <She smiles warmly.>"
        assert records["b"].value == "He looks away." and records["b"].meta["rule"] == "no-subtitle"
        assert records["c"].value == UNABLE_TO_JUDGE and records["c"].raw is None
        meta = records["d"].meta
        assert meta["prompt_id"] == "merge-clues-v1" and meta["model"] == "served-model"
        assert meta["settings"] == get_preset().as_dict() and meta["base_url"] == server.base_url
        assert sorted(last_user_text(b).split("Subtitle: ")[1].split("\n")[0] for b in server.requests) == [
            "I missed you!",
            "Please don't go.",
        ]

        again = run_merge(
            "toy",
            backend=llm,
            descriptions=DESCRIPTIONS,
            subtitles=SUBTITLES,
            store_root=tmp_path,
            progress=False,
        )
        assert (again.done, again.skipped) == (0, 4) and len(server.requests) == 2

        # Other generation settings are another key: the two LLM samples are asked again.
        paper = run_merge(
            "toy",
            backend=llm,
            settings="paper",
            descriptions=DESCRIPTIONS,
            subtitles=SUBTITLES,
            store_root=tmp_path,
            progress=False,
        )
        assert (paper.done, paper.skipped) == (2, 2) and len(server.requests) == 4
        assert server.requests[-1]["temperature"] == 0.7


def test_empty_and_failed_replies_are_errors_never_cached(tmp_path: Path) -> None:
    from ovmer.merge import run_merge

    def flaky(index: int, body: dict) -> Reply:
        text = last_user_text(body)
        if "smiles" in text:
            return Reply(content="   ")
        if "trembles" in text:
            return Reply(status=500, raw_body=b"boom")
        return merged(index, body)

    with ChatServer(flaky) as server:
        summary = run_merge(
            "toy",
            backend=client(server),
            descriptions=DESCRIPTIONS,
            subtitles=SUBTITLES,
            store_root=tmp_path,
            progress=False,
        )
    assert (summary.done, summary.failed) == (2, 2)
    assert "empty reply" in summary.failures["a"] and "HTTP 500" in summary.failures["d"]
    store = ResultsStore(store_path("merge", "toy", "S2", tmp_path))
    assert not store.latest()["a"].ok and store.latest()["a"].value is None

    with ChatServer(merged) as server:
        retry = run_merge(
            "toy",
            backend=client(server),
            descriptions=DESCRIPTIONS,
            subtitles=SUBTITLES,
            store_root=tmp_path,
            progress=False,
        )
        assert (retry.done, retry.skipped, retry.failed) == (2, 2, 0)
        assert sorted(last_user_text(b).split("Clues: ")[1][:3] for b in server.requests) == ["Her", "She"]
    assert store.latest()["a"].ok


def test_merge_needs_a_subtitle_row_for_every_sample(tmp_path: Path) -> None:
    from ovmer.merge import run_merge

    with pytest.raises(OvmerError, match=r"no subtitle row for 1 sample.*'d'"):
        run_merge(
            "toy",
            backend="replay",
            descriptions=DESCRIPTIONS,
            subtitles={k: v for k, v in SUBTITLES.items() if k != "d"},
            store_root=tmp_path,
        )


def test_merge_replays_the_released_s2_descriptions(tmp_path: Path) -> None:
    from ovmer.data import load_ovmerd, load_released_descriptions
    from ovmer.merge import run_merge

    summary = run_merge("Chat-UniVi", backend="replay", limit=6, store_root=tmp_path, progress=False)
    assert (summary.done, summary.failed) == (6, 0)
    records = ResultsStore(store_path("merge", "Chat-UniVi", "S2", tmp_path)).latest()
    released = load_released_descriptions("Chat-UniVi", "S2")
    source = load_released_descriptions("Chat-UniVi", "S0")
    subtitles = load_ovmerd().subtitle_en
    for name, record in records.items():
        expected = released[name] if subtitles[name].strip() else source[name].strip()
        assert record.value == expected.strip()
    assert next(iter(records.values())).meta["input"].endswith("output-reason-7b-nosubtitle-eng.npz")


# --- extract ------------------------------------------------------------------------------------


def test_extract_through_a_server_keeps_raw_and_parsed_apart(tmp_path: Path) -> None:
    from ovmer.extract import run_extract

    def labels(index: int, body: dict) -> Reply:
        text = last_user_text(body).rsplit("Text: ", 1)[1]
        return Reply(content="Output: [Happy, relieved]" if "smiles" in text else "[]")

    with ChatServer(labels) as server:
        summary = run_extract(
            "toy",
            "S1",
            backend=client(server),
            descriptions=DESCRIPTIONS,
            store_root=tmp_path,
            progress=False,
        )
        assert (summary.done, summary.failed) == (4, 0) and len(server.requests) == 3
        assert any(last_user_text(b).endswith("Text: She smiles warmly.\nOutput:\n") for b in server.requests)
    records = ResultsStore(store_path("extract", "toy", "S1", tmp_path)).latest()
    assert records["a"].raw == "Output: [Happy, relieved]" and records["a"].value == ["happy", "relieved"]
    assert records["b"].raw == "[]" and records["b"].value == []
    assert records["c"].meta["rule"] == "empty-description" and records["c"].value == []

    # The store file is a replay source: the same raw replies, no server.
    replay = ReplayBackend(store_path("extract", "toy", "S1", tmp_path))
    again = run_extract(
        "toy", "S1", backend=replay, descriptions=DESCRIPTIONS, store_root=tmp_path / "r", progress=False
    )
    assert again.done == 4
    assert ResultsStore(store_path("extract", "toy", "S1", tmp_path / "r")).values() == {
        n: r.value for n, r in records.items()
    }


def test_extract_replays_released_labels_and_misses_name_the_sample(tmp_path: Path) -> None:
    from ovmer.data import load_released_labels
    from ovmer.extract import run_extract

    summary = run_extract("Otter", "S2", backend="replay", limit=8, store_root=tmp_path, progress=False)
    assert (summary.done, summary.failed) == (8, 0)
    released = load_released_labels("Otter", "S2")
    values = ResultsStore(store_path("extract", "Otter", "S2", tmp_path)).values()
    assert values == {name: parse_labels(released[name]) for name in values}

    partial = ReplayBackend({"a": "[happy]", "b": "[sad]"})
    summary = run_extract(
        "toy", "S0", backend=partial, descriptions=DESCRIPTIONS, store_root=tmp_path, progress=False
    )
    assert (summary.done, summary.failed) == (3, 1)
    assert "no stored reply for sample 'd'" in summary.failures["d"]


def test_extract_input_files_and_bad_inputs(tmp_path: Path) -> None:
    from ovmer.extract import run_extract

    csv = tmp_path / "descriptions.csv"
    csv.write_text("name,description\nx,She smiles.\ny,\n", encoding="utf-8")
    replay = ReplayBackend({"x": "[happy]"})
    summary = run_extract("mine", "S0", backend=replay, descriptions=csv, store_root=tmp_path, progress=False)
    assert (summary.done, summary.failed) == (2, 0)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\nx,hi\n", encoding="utf-8")
    with pytest.raises(OvmerError, match=r"bad.csv: missing column\(s\) \['name'\]; a CSV input file needs name and one of"):
        run_extract("mine", "S0", backend=replay, descriptions=bad, store_root=tmp_path)
    with pytest.raises(OvmerError, match=r"no input for sample\(s\) \['zz'\]"):
        run_extract("mine", "S0", backend=replay, descriptions=csv, names=["zz"], store_root=tmp_path)
    with pytest.raises(OvmerError, match="no released outputs"):
        run_extract("NoSuchModel", "S0", backend=replay, store_root=tmp_path)


@pytest.mark.slow
def test_extract_with_the_cpu_backend(tmp_path: Path) -> None:
    cpu = pytest.importorskip("ovmer.extract.cpu")
    from ovmer.extract import run_extract

    summary = run_extract(
        "toy", "S0", backend="cpu", descriptions=DESCRIPTIONS, store_root=tmp_path, progress=False
    )
    assert (summary.done, summary.failed) == (4, 0)
    records = ResultsStore(store_path("extract", "toy", "S0", tmp_path)).latest()
    extractor = cpu.load_or_fit()
    expected = extractor.extract([DESCRIPTIONS["a"], DESCRIPTIONS["d"]])
    assert [records["a"].value, records["d"].value] == [parse_labels(x) for x in expected]
    assert records["a"].raw is None and records["a"].meta["backend"] == "cpu"
    again = run_extract(
        "toy", "S0", backend="cpu", descriptions=DESCRIPTIONS, store_root=tmp_path, progress=False
    )
    assert again.skipped == 4


# --- group --------------------------------------------------------------------------------------


def test_group_writes_the_grouping_cache_and_resumes(tmp_path: Path) -> None:
    grouping = pytest.importorskip("ovmer.scoring.grouping")
    from ovmer.group import group_labels, run_group

    truth = {"s1": ["happy", "Joyful"], "s2": ["sad"], "s3": ["angry"]}
    predicted = {"s1": ["joyful", "relieved"], "s2": ["sad", "tearful"], "s3": ["calm"]}

    def groups(index: int, body: dict) -> Reply:
        text = last_user_text(body).rsplit("Labels: ", 1)[1]
        if "happy" in text:
            return Reply(content="Here: [['happy', 'joyful'], ['relieved']]")
        if "calm" in text:
            return Reply(content="I cannot group these.")
        return Reply(content="[['sad', 'tearful']]")

    cache_path = tmp_path / "groupings.jsonl"
    with ChatServer(groups) as server:
        summary = run_group(
            "toy",
            "S2",
            backend=client(server),
            predictions=predicted,
            ground_truth=truth,
            cache=cache_path,
            store_root=tmp_path,
            progress=False,
        )
        assert (summary.done, summary.failed) == (2, 1) and "no label groups" in summary.failures["s3"]
        assert any(
            last_user_text(b).endswith("Labels: [happy, joyful, relieved]\nOutput:\n")
            for b in server.requests
        )
        cache = grouping.GroupingCache(cache_path)
        assert cache.get("s1", group_labels(truth["s1"], predicted["s1"])) == [
            ["happy", "joyful"],
            ["relieved"],
        ]
        assert cache.get("s2", ["sad", "tearful"]) == [["sad", "tearful"]]
        assert cache.get("s3", ["angry", "calm"]) is None

        again = run_group(
            "toy",
            "S2",
            backend=client(server),
            predictions=predicted,
            ground_truth=truth,
            cache=cache_path,
            store_root=tmp_path,
            progress=False,
        )
        assert (again.skipped, again.failed) == (2, 1) and len(server.requests) == 4  # only s3 again


def test_group_replays_the_released_groupings(tmp_path: Path) -> None:
    grouping = pytest.importorskip("ovmer.scoring.grouping")
    from ovmer.assets import asset_path
    from ovmer.group import run_group
    from ovmer.group.stage import read_predictions

    predictions = asset_path(grouping.RELEASED_PREDICTIONS)
    summary = run_group(
        "predict-openset",
        backend="replay",
        predictions=predictions,
        limit=5,
        cache=tmp_path / "g.jsonl",
        store_root=tmp_path,
        progress=False,
    )
    assert (summary.done, summary.failed) == (5, 0)
    first_five = list(read_predictions(predictions))[:5]
    released = grouping.released_groupings()
    cached = grouping.GroupingCache(tmp_path / "g.jsonl").groupings()
    assert cached == {name: released[name] for name in first_five}
    assert any(len(groups) > 1 for groups in cached.values())


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_extract_and_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ovmer.cli import main

    csv = tmp_path / "d.csv"
    csv.write_text("name,description\nx,She smiles.\ny,He sighs.\n", encoding="utf-8")

    def reply(index: int, body: dict) -> Reply:
        smiling = "smiles" in last_user_text(body).rsplit("Text: ", 1)[1]
        return Reply(content="[happy]") if smiling else Reply(status=400, raw_body=b"x")

    with ChatServer(reply) as server:
        code = main(
            [
                "extract",
                "--baseline",
                "mine",
                "--setting",
                "S0",
                "--input",
                str(csv),
                "--backend",
                "openai",
                "--model",
                "m",
                "--base-url",
                server.base_url,
                "--retries",
                "0",
                "--output",
                str(tmp_path),
                "--quiet",
            ]
        )
    out, err = capsys.readouterr()
    assert code == 1  # one sample failed
    assert "extract mine/nosubtitle: 1 done, 0 skipped (up to date), 1 failed" in out
    assert "failed y: LLMError" in err and "HTTP 400" in err

    code = main(
        [
            "merge",
            "--baseline",
            "VideoChat",
            "--backend",
            "replay",
            "--limit",
            "3",
            "--output",
            str(tmp_path),
            "--quiet",
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0 and "merge VideoChat/nosubtitle-addsub: 3 done" in out
    assert main(["extract", "--baseline", "a", "b", "--input", str(csv), "--backend", "replay"]) == 1
    assert "name exactly one --baseline" in capsys.readouterr().err


def test_a_limit_below_one_is_refused(tmp_path: Path) -> None:
    from ovmer.extract import run_extract

    replay = ReplayBackend({"x": "[happy]"})
    for limit in (0, -2):
        with pytest.raises(OvmerError, match=f"limit must be a positive number of samples, got {limit}"):
            run_extract("mine", "S0", backend=replay, descriptions={"x": "hi"}, limit=limit, store_root=tmp_path)


def test_auto_source_warns_when_the_store_holds_fewer_descriptions_than_released(tmp_path) -> None:
    from ovmer.llm.inputs import stage_descriptions
    from ovmer.store import Record, ResultsStore, store_path

    store = ResultsStore(store_path("merge", "Otter", "S2", tmp_path))
    store.append(Record("sample_00000000", "ok", "k", raw="She smiles.", value="She smiles."))
    with pytest.warns(UserWarning, match=r"store's 1 finished nosubtitle-addsub descriptions of Otter, not the 332"):
        texts, origin = stage_descriptions("Otter", "S2", "auto", tmp_path)
    assert texts == {"sample_00000000": "She smiles."} and origin == str(store.path)
    texts, _ = stage_descriptions("Otter", "S2", "released", tmp_path)
    assert len(texts) == 332
