"""merge, extract and group against a hostile server and hostile files.

A local chat-completions server (``llm_helpers.ChatServer``) refuses, rambles, sends
empty or 10 MB replies, malformed JSON, and 500s that each carry a new request id.
The stages must keep finished records, store unusable replies as error records
with their text, cap what they store, and end with one line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from adversarial_helpers import (
    Ovmer,
    assert_nothing_lost,
    finished_records,
    npz_bytes,
    record_line,
    truncated,
    write,
)
from llm_helpers import ChatServer, Reply

from ovmer.llm.client import ChatMessage, LLMBackend
from ovmer.llm.presets import get_preset
from ovmer.store import ResultsStore, store_path
from ovmer.store.jsonl import MAX_REPLY_CHARS

NAMES = ["sample_00000000", "sample_00000007", "sample_00000021", "sample_00000033", "sample_00000039"]
DESCRIPTIONS = {n: f"In clip {n[-2:]} the man frowns and shouts; he seems angry." for n in NAMES}


@pytest.fixture()
def descriptions(tmp_path: Path) -> Path:
    return write(tmp_path / "descriptions.csv", "name,description\n" + "".join(
        f'{n},"{t}"\n' for n, t in DESCRIPTIONS.items()))


def sample_of(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    return next(n for n in NAMES if f"clip {n[-2:]}" in text or n in text)


def serve(replies: dict[str, Reply] | Callable[[str], Reply]) -> ChatServer:
    def respond(index: int, body: dict[str, Any]) -> Reply:
        name = sample_of(body)
        if callable(replies):
            return replies(name)
        return replies.get(name, Reply(content="[angry, annoyed]"))
    return ChatServer(respond)


def extract(ovmer: Ovmer, server: ChatServer, descriptions: Path, *extra: object, model: str = "m1"):
    return ovmer.run("extract", "--backend", "openai", "--base-url", server.base_url, "--model", model,
                     "--retries", 0, "--baseline", "Mine", "--setting", "S1", "--input", descriptions,
                     "--quiet", *extra)


def extract_store(output: Path) -> ResultsStore:
    return ResultsStore(store_path("extract", "Mine", "S1", output))


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("Sorry, I cannot help with that.", "refusal"),
        ("I'm sorry, but I can't determine emotions from text.", "refusal"),
        ("As an AI language model, I do not have feelings.", "refusal"),
        ("The man in the clip feels angry because he is shouting.", "prose"),
        ("He is angry.", "prose"),
        ("...", "holds no label"),
        ("   ", "empty reply"),
        ("", "empty reply"),
    ],
)
def test_unusable_replies_are_error_records_that_keep_the_text(
    ovmer: Ovmer, output: Path, descriptions: Path, reply: str, problem: str
) -> None:
    with serve({NAMES[2]: Reply(content=reply)}) as server:
        outcome = extract(ovmer, server, descriptions)
    assert outcome.code == 1 and f"failed {NAMES[2]}:" in outcome.err and problem in outcome.err
    latest = extract_store(output).latest()
    bad = latest[NAMES[2]]
    assert bad.status == "error" and bad.value is None and problem in bad.error
    assert bad.raw == reply.strip() or (not reply.strip() and bad.raw == reply)
    assert all(latest[n].value == ["angry", "annoyed"] for n in NAMES if n != NAMES[2])


def test_a_label_list_inside_chatter_is_still_a_label_list(ovmer: Ovmer, output: Path, descriptions: Path) -> None:
    with serve({NAMES[0]: Reply(content="Sure! Here you go: [Angry, frustrated]. Hope it helps.")}) as server:
        assert extract(ovmer, server, descriptions).code == 0
    assert extract_store(output).latest()[NAMES[0]].value == ["angry", "frustrated"]


def test_a_runaway_reply_is_capped_before_it_is_stored(ovmer: Ovmer, output: Path, descriptions: Path) -> None:
    huge = "[" + ", ".join(f"label{i}" for i in range(1_200_000)) + "]"  # about 10 MB
    with serve({NAMES[1]: Reply(content=huge)}) as server:
        assert extract(ovmer, server, descriptions).code == 0
    record = extract_store(output).latest()[NAMES[1]]
    assert len(record.raw) == MAX_REPLY_CHARS and record.meta["reply_chars"] == len(huge)
    assert extract_store(output).path.stat().st_size < 3 * MAX_REPLY_CHARS


def test_a_runaway_merge_reply_is_stored_capped_twice_at_most(ovmer: Ovmer, output: Path, descriptions: Path) -> None:
    huge = "He is furious. " * 700_000
    subtitles = write(output.parent / "subs.csv", "name,english\n" + "".join(f"{n},I hate this\n" for n in NAMES))
    with serve(lambda name: Reply(content=huge)) as server:
        ovmer.ok("merge", "--backend", "openai", "--base-url", server.base_url, "--model", "m", "--retries", 0,
                 "--baseline", "Mine", "--input", descriptions, "--subtitles", subtitles, "--quiet", "--limit", 1)
    path = store_path("merge", "Mine", "S2", output)
    record = ResultsStore(path).latest()[NAMES[0]]
    assert len(record.value) <= MAX_REPLY_CHARS and record.meta["reply_chars"] == len(huge.strip())
    assert path.stat().st_size < 2 * MAX_REPLY_CHARS + 4096


def test_500s_with_new_request_ids_stop_the_rerun_and_keep_the_labels(
    ovmer: Ovmer, output: Path, descriptions: Path
) -> None:
    with serve({}) as server:
        assert extract(ovmer, server, descriptions).code == 0
    before = finished_records(output)
    counter = iter(range(10**6))

    def broken(name: str) -> Reply:
        request_id = f"req_{next(counter):06x}{hash(name) & 0xFFFF:04x}"
        return Reply(status=500, raw_body=json.dumps({"error": f"internal error, request id {request_id}"}).encode())

    with serve(broken) as server:
        line = ovmer.fails("extract", "--backend", "openai", "--base-url", server.base_url, "--model", "m2",
                           "--retries", 0, "--baseline", "Mine", "--setting", "S1", "--input", descriptions,
                           "--quiet", "--batch-size", 1, names=["all failed with the same error", "HTTP 500"])
    assert "no error records written" in line
    assert finished_records(output) == before
    assert all(r.ok for r in extract_store(output).latest().values())


def test_a_rerun_whose_every_sample_fails_differently_still_hides_no_label(
    ovmer: Ovmer, output: Path, descriptions: Path
) -> None:
    with serve({}) as server:
        extract(ovmer, server, descriptions)
    before = finished_records(output)
    scored_before = json.loads(ovmer.ok("score", extract_store(output).path, "--json", "--missing-as-empty").out)
    with serve(lambda name: Reply(content=f"Sorry, I cannot describe {name}.")) as server:
        assert extract(ovmer, server, descriptions, model="m2").code == 1
    assert_nothing_lost(before, finished_records(output))
    store = extract_store(output)
    assert all(r.ok and r.value == ["angry", "annoyed"] for r in store.latest().values())
    assert sorted(store.failed_after_ok()) == sorted(NAMES)
    scored = ovmer.ok("score", store.path, "--json", "--missing-as-empty")
    assert any("latest run of 5 sample(s) failed" in line for line in scored.warnings)
    assert json.loads(scored.out) == scored_before


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        (Reply(raw_body=b"<html>Bad gateway</html>"), "malformed JSON"),
        (Reply(raw_body=b'{"choices": []}'), "lacks choices[0].message.content"),
        (Reply(raw_body=b'{"choices": [{"message": {"content": 42}}]}'), "not text"),
        (Reply(status=401, raw_body=b'{"error": "invalid api key"}'), "HTTP 401"),
        (Reply(status=400, raw_body=b'{"error": "maximum context length exceeded"}'), "HTTP 400"),
    ],
    ids=["html", "no-choices", "number-content", "401", "400"],
)
def test_broken_server_replies_stop_with_one_line(ovmer: Ovmer, output: Path, descriptions: Path, reply, fragment) -> None:
    with serve(lambda name: reply) as server:
        ovmer.fails("extract", "--backend", "openai", "--base-url", server.base_url, "--model", "m", "--retries", 0,
                    "--baseline", "Mine", "--setting", "S1", "--input", descriptions, "--quiet",
                    names=["stopped after the first 3 samples", fragment])
    assert not extract_store(output).path.exists()


def test_one_sample_the_server_rejects_is_an_error_record_the_others_finish(
    ovmer: Ovmer, output: Path, descriptions: Path
) -> None:
    too_long = Reply(status=400, raw_body=b'{"error": "maximum context length exceeded"}')
    with serve({NAMES[0]: too_long}) as server:
        outcome = extract(ovmer, server, descriptions)
    assert outcome.code == 1 and "HTTP 400" in outcome.err
    latest = extract_store(output).latest()
    assert not latest[NAMES[0]].ok and all(latest[n].ok for n in NAMES[1:])


def test_nobody_listening(ovmer: Ovmer, output: Path, descriptions: Path) -> None:
    from asset_helpers import closed_port_url

    url = closed_port_url("v1").rsplit("/", 1)[0] + "/v1"
    ovmer.fails("extract", "--backend", "openai", "--base-url", url, "--model", "m", "--retries", 0,
                "--baseline", "Mine", "--setting", "S1", "--input", descriptions, "--quiet",
                names=["cannot connect"])


# --------------------------------------------------------------------------- batches


class OneBadPromptBackend(LLMBackend):
    """A local backend whose whole batch fails when one prompt in it is bad (an over-long one, say)."""

    name = "test-batch"

    def __init__(self) -> None:
        self.calls: list[int] = []

    @property
    def model_id(self) -> str:
        return "batchy"

    def generate(self, batch: Sequence[Sequence[ChatMessage]], settings) -> list[str]:
        self.calls.append(len(batch))
        if any("clip 21" in conversation[-1].content for conversation in batch):
            raise RuntimeError("CUDA out of memory (the long prompt)")
        return ["[calm]"] * len(batch)


def test_one_failing_member_of_a_batch_spares_the_rest(output: Path) -> None:
    from ovmer.extract import run_extract

    backend = OneBadPromptBackend()
    summary = run_extract("Mine", "S1", backend=backend, descriptions=DESCRIPTIONS, batch_size=8, progress=False,
                          store_root=output)
    assert (summary.done, summary.failed) == (4, 1) and "CUDA out of memory" in summary.failures[NAMES[2]]
    assert backend.calls == [5, 1, 1, 1, 1, 1]  # the batch, then each member on its own


def test_a_first_batch_with_one_bad_member_does_not_stop_the_run(output: Path) -> None:
    outcomes = OneBadPromptBackend().generate_outcomes(
        [[ChatMessage("user", DESCRIPTIONS[n])] for n in NAMES], get_preset("deterministic"))
    assert [isinstance(o, BaseException) for o in outcomes] == [False, False, True, False, False]


# --------------------------------------------------------------------------- input files


BAD_INPUTS = [
    ("shifted.csv", f"name,description\n{NAMES[0]},He smiles, then cries\n", ("line 2 has 3 fields",)),
    ("latin1.csv", f"name,description\n{NAMES[0]},caf\xe9\n".encode("latin-1"), ("not UTF-8",)),
    ("empty.csv", b"", ("is empty",)),
    ("nocolumn.csv", f"name,words\n{NAMES[0]},x\n", ("missing column(s)",)),
    ("twice.csv", f"name,description\n{NAMES[0]},a\n{NAMES[0]},b\n", ("listed twice",)),
    ("truncated.npz", truncated(npz_bytes(name2reason=np.array({"a": "b"}, dtype=object))),
     ("refusing to unpickle",)),
    ("labels.npz", npz_bytes(filenames=np.array(["a"]), fileitems=np.array(["b"])),
     ("refusing to unpickle",)),
    ("lists.jsonl", record_line(value=["happy"]), ("not text",)),
    ("garbage.jsonl", b"\xff\xfe\x00garbage\n", ("not a results-store file",)),
    ("notes.txt", "hello", ("unsupported input file",)),
]


@pytest.mark.parametrize(("name", "content", "fragments"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
@pytest.mark.parametrize("command", ["extract", "merge"])
def test_a_bad_input_file_is_one_line_naming_it(
    ovmer: Ovmer, output: Path, tmp_path: Path, command: str, name: str, content, fragments
) -> None:
    path = write(tmp_path / name, content)
    extra = ("--setting", "S1") if command == "extract" else ()
    ovmer.fails(command, "--backend", "replay", "--baseline", "Mine", *extra, "--input", path, "--quiet",
                names=[path, *fragments])
    assert not (output / "store").exists()


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (f"name,english\n{NAMES[0]},hi,there\n", ("line 2 has 3 fields",)),
        (f"name,english\n{NAMES[0]},hi\n", ("no subtitle row for 4 sample(s)",)),
        ("name,chinese\nx,y\n", ("missing column(s)",)),
    ],
    ids=["shifted", "rows-missing", "no-english"],
)
def test_merge_with_a_bad_subtitle_file(ovmer: Ovmer, tmp_path: Path, descriptions: Path, content, fragments) -> None:
    subtitles = write(tmp_path / "subs.csv", content)
    ovmer.fails("merge", "--backend", "replay", "--baseline", "Mine", "--input", descriptions, "--subtitles",
                subtitles, "--quiet", names=fragments)


BAD_REPLAY_SOURCES = [
    ("garbage.jsonl", b"\x00\x01 not json\n", ("not a results-store file",)),
    ("number-name.jsonl", record_line(name=3), ("'name'",)),
    ("truncated.npz", truncated(npz_bytes(filenames=np.array(["a"]), fileitems=np.array(["b"]))),
     ("cannot read as npz",)),
    ("description.npz", npz_bytes(name2reason=np.array({"a": "b"}, dtype=object)), ("refusing to unpickle",)),
]


@pytest.mark.parametrize(("name", "content", "fragments"), BAD_REPLAY_SOURCES, ids=[c[0] for c in BAD_REPLAY_SOURCES])
def test_a_bad_replay_source(ovmer: Ovmer, tmp_path: Path, descriptions: Path, name: str, content, fragments) -> None:
    source = write(tmp_path / name, content)
    ovmer.fails("extract", "--backend", "replay", "--model", source, "--baseline", "Mine", "--setting", "S1",
                "--input", descriptions, "--quiet", names=[source, *fragments])


def test_replay_of_a_file_without_the_samples(ovmer: Ovmer, output: Path, tmp_path: Path, descriptions: Path) -> None:
    source = write(tmp_path / "replies.jsonl", record_line(name="someone_else", raw="[happy]", value=["happy"]))
    outcome = ovmer.run("extract", "--backend", "replay", "--model", source, "--baseline", "Mine", "--setting", "S1",
                        "--input", descriptions, "--quiet")
    assert outcome.code == 1 and "no stored reply for sample" in outcome.err
    assert not any(r.ok for r in extract_store(output).latest().values())


@pytest.mark.parametrize(
    "argv",
    [
        ("extract", "--backend", "replay", "--baseline", "Oter", "--setting", "S1", "--source", "released"),
        ("merge", "--backend", "replay", "--baseline", "Oter", "--source", "released"),
        ("group", "--backend", "replay", "--baseline", "Oter"),
        ("extract", "--backend", "cpu", "--baseline", "Chat-Univi", "--setting", "S1", "--source", "store"),
    ],
    ids=["extract", "merge", "group", "extract-store"],
)
def test_a_misspelt_baseline_gets_a_did_you_mean(ovmer: Ovmer, argv: tuple[str, ...]) -> None:
    line = ovmer.fails(*argv, "--quiet")
    assert "Did you mean 'Otter'?" in line or "Did you mean 'Chat-UniVi'" in line


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (("--names", "sample_99"), ("no input for sample(s) ['sample_99']",)),
        (("--limit", "0"), ("limit must be a positive number",)),
        (("--prompt", "extract-labels-v9"), ("extract-labels-v9",)),
        (("--setting", "S9"), ("S9",)),
    ],
)
def test_extract_argument_errors(ovmer: Ovmer, descriptions: Path, argv: tuple[str, ...], fragments) -> None:
    base = {"--setting": "S1"}
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    ovmer.fails("extract", "--backend", "cpu", "--baseline", "Mine", "--input", descriptions, "--quiet",
                *[x for pair in base.items() for x in pair], names=fragments)


def test_group_predictions_for_samples_without_ground_truth(ovmer: Ovmer, tmp_path: Path) -> None:
    predictions = write(tmp_path / "p.csv", "name,openset\nnot_a_sample,[happy]\n")
    ovmer.fails("group", "--backend", "replay", "--baseline", "Mine", "--predictions", predictions, "--quiet",
                names=["no ground truth for 1 predicted sample(s)", "not_a_sample"])


def test_group_replies_that_are_no_grouping_are_error_records_with_text(ovmer: Ovmer, output: Path, tmp_path) -> None:
    predictions = write(tmp_path / "p.csv", "name,openset\n" + "".join(f'{n},"[angry, mad]"\n' for n in NAMES))
    with ChatServer(lambda index, body: Reply(content="These labels are all about anger.")) as server:
        outcome = ovmer.run("group", "--backend", "openai", "--base-url", server.base_url, "--model", "g",
                            "--retries", 0, "--baseline", "Mine", "--predictions", predictions, "--quiet",
                            "--cache", tmp_path / "cache.jsonl")
    assert outcome.code == 1 and "no label groups found" in outcome.err
    latest = ResultsStore(store_path("group", "Mine", "S2", output)).latest()
    assert sorted(latest) == sorted(NAMES)
    assert all(not r.ok and r.raw == "These labels are all about anger." for r in latest.values())
    assert not ResultsStore(tmp_path / "cache.jsonl").latest()  # nothing unusable reaches the metric's cache
