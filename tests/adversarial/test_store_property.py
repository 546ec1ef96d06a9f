"""A property test: no sequence of commands loses a finished record.

Hypothesis drives random sequences over one small output folder: LLM extraction
through the replay backend (replies that change, refusals, missing replies), the
CPU extractor, ``import-released`` into the same store file, ``export``, sharded
describe runs with failures and different ``--limit``s, ``describe-merge``, runs a
broken setup stops, and writers killed mid-line. After every step, for every store
file:

- every ok record ever written is still in the file (same sample, key and value);
- every sample that ever finished reads as finished, and readers see its newest
  finished record: an error record written after it never hides it.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

from adversarial_helpers import ok_lines
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ovmer.cli import main
from ovmer.describe.merging import merge_shards
from ovmer.errors import OvmerError
from ovmer.store import ResultsStore, run_stage, store_path
from ovmer.store.runner import WorkItem

NAMES = ["sample_00000000", "sample_00000007", "sample_00000021", "sample_00000033", "sample_00000039",
         "sample_00000055"]
REPLIES = ["[happy, relaxed]", "[angry]", "Output: [worried, sad]", "Sorry, I cannot help with that.", "[]"]


class StoreCommands(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="ovmer-property-"))
        self.output = self.root / "output"
        self.inputs = self.root / "descriptions.csv"
        self.inputs.write_text("name,description\n" + "".join(
            f'{n},"In clip {i} she smiles, then frowns."\n' for i, n in enumerate(NAMES)), encoding="utf-8")
        self.seen: dict[Path, list[tuple[str, str, str]]] = {}
        self.replies = 0

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # ----------------------------------------------------------------- helpers

    def ovmer(self, *argv: object) -> int:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            code = main([str(a) for a in argv] + ["--output", str(self.output)])
        assert "Traceback" not in err.getvalue(), err.getvalue()
        return code

    def store_files(self) -> list[Path]:
        return sorted((self.output / "store").rglob("*.jsonl")) if (self.output / "store").exists() else []

    # ----------------------------------------------------------------- commands

    @rule(replies=st.lists(st.sampled_from([*REPLIES, None]), min_size=len(NAMES), max_size=len(NAMES)),
          limit=st.one_of(st.none(), st.integers(1, len(NAMES))))
    def extract_with_replay(self, replies: list[str | None], limit: int | None) -> None:
        self.replies += 1
        source = self.root / f"replies-{self.replies}.jsonl"
        source.write_text("".join(
            json.dumps({"name": n, "status": "ok", "key": "r", "raw": r, "value": r}) + "\n"
            for n, r in zip(NAMES, replies, strict=True) if r is not None), encoding="utf-8")
        if not source.read_text():
            source.write_text(json.dumps({"name": "nobody", "status": "ok", "key": "r", "raw": "[x]"}) + "\n")
        self.ovmer("extract", "--backend", "replay", "--model", source, "--baseline", "Otter", "--setting", "S1",
                   "--input", self.inputs, "--quiet", *(("--limit", limit) if limit else ()))

    @rule(limit=st.integers(1, len(NAMES)))
    def extract_with_cpu(self, limit: int) -> None:
        self.ovmer("extract", "--backend", "cpu", "--baseline", "Otter", "--setting", "S1", "--input", self.inputs,
                   "--quiet", "--limit", limit)

    @rule()
    def import_released(self) -> None:
        assert self.ovmer("import-released", "--baseline", "Otter", "--setting", "S1", "--quiet") == 0

    @precondition(lambda self: store_path("extract", "Otter", "S1", self.output).is_file())
    @rule()
    def export(self) -> None:
        path = store_path("extract", "Otter", "S1", self.output)
        before = path.read_bytes()
        self.ovmer("export", "extract/Otter/S1", self.root / "labels-openset.npz", "--skip-errors")
        assert path.read_bytes() == before

    @rule(shards=st.integers(1, 3), limit=st.integers(1, len(NAMES)), failing=st.sets(st.sampled_from(NAMES)),
          run=st.sampled_from(["a", "b"]))
    def describe_in_shards(self, shards: int, limit: int, failing: set[str], run: str) -> None:
        names = NAMES[:limit]
        for index in range(shards):
            store = ResultsStore(store_path("describe", "Mine", "S0", self.output, (index, shards)))

            def describe(item: WorkItem) -> tuple[str, str]:
                if item.name in failing:
                    raise OvmerError(f"CUDA out of memory at {id(item)}")
                return f"{item.name} ({run})", f"{item.name} ({run})"

            with contextlib.suppress(OvmerError):  # a shard whose first samples all fail stops
                run_stage(store, [WorkItem(n, f"{run}-{n}") for n in names[index::shards]], describe, progress=False)

    @rule(shards=st.integers(1, 3), limit=st.integers(1, len(NAMES)), allow_errors=st.booleans())
    def merge_shards(self, shards: int, limit: int, allow_errors: bool) -> None:
        target = store_path("describe", "Mine", "S0", self.output)
        before = target.read_bytes() if target.exists() else None
        try:
            merge_shards("Mine", "S0", shards, names=NAMES[:limit], store_root=self.output, allow_errors=allow_errors)
        except OvmerError:  # gaps, duplicates, missing shard files: refused, nothing written
            assert (target.read_bytes() if target.exists() else None) == before

    @precondition(lambda self: bool(self.store_files()))
    @rule(data=st.data())
    def broken_setup(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self.store_files()))
        before = path.read_bytes()
        store = ResultsStore(path)
        request = iter(range(100))

        def server_down(item: WorkItem) -> tuple[str, str]:
            raise OvmerError(f"HTTP 503 Service Unavailable (request req-{next(request):04x})")

        try:
            run_stage(store, [WorkItem(n, f"new-{n}") for n in NAMES], server_down, progress=False)
        except OvmerError:
            assert path.read_bytes() == before

    @precondition(lambda self: bool(self.store_files()))
    @rule(data=st.data(), fragment=st.sampled_from(['{"name": "sample_0000', '{"na', "\xff"]))
    def writer_killed_mid_line(self, data: st.DataObject, fragment: str) -> None:
        path = data.draw(st.sampled_from(self.store_files()))
        with open(path, "ab") as handle:
            handle.write(fragment.encode("utf-8", "surrogateescape") if fragment != "\xff" else b"\xff")

    # ----------------------------------------------------------------- the property

    @invariant()
    def no_finished_record_is_lost(self) -> None:
        for path in self.store_files():
            now = ok_lines(path)
            earlier = self.seen.get(path, [])
            missing = [line for line in earlier if line not in now]
            assert not missing, f"{path}: finished records lost: {missing[:3]}"
            self.seen[path] = now
            latest = ResultsStore(path).latest()
            newest = {name: (key, value) for name, key, value in now}
            for name, (key, value) in newest.items():
                record = latest[name]
                assert record.ok, f"{path}: {name} finished but reads as {record.status}"
                assert (record.key, json.dumps(record.value, sort_keys=True)) == (key, value)


StoreCommands.TestCase.settings = settings(
    max_examples=8, stateful_step_count=10, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestStoreCommands = StoreCommands.TestCase
