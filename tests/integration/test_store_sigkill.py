"""The results store survives a real SIGKILL of the process writing it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from store_helpers import CountingCompute, items, lines_by_name

from ovmer.store import ResultsStore, run_stage

CHILD = textwrap.dedent(
    """
    import sys, time
    from ovmer.store import ResultsStore, run_stage
    from ovmer.store.runner import WorkItem

    def compute(item):
        time.sleep(0.01)
        return f"raw reply {item.payload}", item.payload * 10

    items = [WorkItem(f"sample_{i:03d}", f"k{i}", i) for i in range(int(sys.argv[2]))]
    run_stage(ResultsStore(sys.argv[1]), items, compute, progress=False)
    """
)


def test_resume_after_a_real_sigkill(tmp_path: Path) -> None:
    total = 400  # ~4 s of work in the child; it is killed well before the end
    path = tmp_path / "killed.jsonl"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(total)])
    try:
        deadline = time.monotonic() + 60
        while not (path.exists() and path.read_bytes().count(b"\n") >= 25):
            assert child.poll() is None, "the child ended before it could be killed"
            assert time.monotonic() < deadline, "the child wrote nothing"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL

    store = ResultsStore(path)
    before = {name: rec for name, rec in store.latest().items() if rec.ok}
    finished_lines = lines_by_name(path)
    assert 25 <= len(before) < total

    compute = CountingCompute()
    summary = run_stage(store, items(total), compute, progress=False)
    assert (summary.done, summary.skipped, summary.failed) == (total - len(before), len(before), 0)
    assert set(compute.calls).isdisjoint(before)

    latest = store.latest()
    assert len(latest) == total and all(rec.ok for rec in latest.values())
    assert all(latest[name].value == int(name[-3:]) * 10 for name in latest)
    after = lines_by_name(path)
    for name in before:
        assert after[name] == finished_lines[name]  # nothing finished was lost or rewritten
    ok_counts = Counter(json.loads(line)["name"] for lines in after.values() for line in lines)
    assert set(ok_counts.values()) == {1}  # every sample done exactly once
