"""Run a baseline in its own code and environment through a two-file JSONL protocol.

Many of the paper's systems (Otter, VideoChat, SALMONN, ...) only run inside their
authors' repositories and conda environments. ``ovmer describe --external-cmd CMD``
hands the samples to such a program and still gets resume, shards and the results
store. The package:

1. writes a **requests** file, one JSON object per line and per sample still to do::

       {"name": "sample_00000001", "key": "<opaque>", "baseline": "Otter",
        "checkpoint": "...", "setting": "subtitle", "modalities": ["video"],
        "video": "/abs/video/sample_00000001.mp4", "audio": null, "face": null,
        "frames": {"num_frames": 16, "fps": null, "max_frames": null},
        "system": null, "prompt": "<the full instruction>", "subtitle": "<text or null>"}

   ``prompt`` is the complete user instruction (the subtitle is already in it for
   the ``subtitle`` setting; ``subtitle`` repeats it for programs that place it
   themselves). Media paths are absolute; ``audio`` falls back to the clip itself.

2. runs ``CMD`` through the shell in the current directory, with the environment
   variables ``OVMER_REQUESTS`` and ``OVMER_RESULTS`` set to the two files' paths;
   ``{requests}`` and ``{results}`` in ``CMD`` are replaced by the same (quoted)
   paths. ``CMD`` may be any command line, e.g.
   ``conda run -n otter python my_otter_runner.py {requests} {results}``.
   Its stdout and stderr go to ``command.log`` beside the two files.

3. reads the **results** file while the program runs; the program appends one
   JSON object per line per sample, in any order, flushing after each::

       {"name": "sample_00000001", "status": "ok", "text": "The man frowns ..."}
       {"name": "sample_00000002", "status": "error", "error": "CUDA out of memory"}

   Each result becomes a store record as it arrives, so a crash or kill of either
   side loses at most the samples in flight. Samples the program never answered
   become error records (retried on the next run). Results of an earlier, killed
   run that still match a sample's key are taken up before anything is re-run; a
   run folder is deleted only once every finished result in it is in the store
   (results for samples outside the current selection wait for a later run).

Samples whose media files are missing or empty (or, for the subtitle setting, that
have no row in the subtitle CSV) are not sent: they get error records, as in a
native run.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ovmer.describe.adapter import BaselineSpec
from ovmer.describe.inputs import input_problems, media_kinds, media_paths
from ovmer.errors import OvmerError
from ovmer.store.jsonl import ResultsStore
from ovmer.store.runner import Result, SampleFailure, StageSummary, WorkItem, run_stage

PROTOCOL_VERSION = 1
POLL_SECONDS = 0.1
LOG_TAIL_CHARS = 800


def work_dir(store: ResultsStore) -> Path:
    """``<store file>.external/``: the request/result files of this store's external runs."""
    return store.path.with_name(store.path.name + ".external")


def request_record(item: WorkItem, spec: BaselineSpec, visual: str = "frames") -> dict[str, Any]:
    """The request line for one sample (see the module docstring)."""
    payload = item.payload
    sample = payload.sample
    paths = media_paths(sample, media_kinds(spec, visual))
    frames = spec.frame_policy

    def absolute(kind: str) -> str | None:
        path = paths.get(kind)
        return str(Path(path).resolve()) if path is not None else None

    return {
        "protocol": PROTOCOL_VERSION,
        "name": item.name,
        "key": item.key,
        "baseline": spec.name,
        "checkpoint": spec.checkpoint,
        "modalities": sorted(spec.modalities),
        "video": absolute("video"),
        "audio": absolute("audio"),
        "face": absolute("face"),
        "frames": {"num_frames": frames.num_frames, "fps": frames.fps, "max_frames": frames.max_frames},
        "system": payload.prompt.system,
        "prompt": payload.prompt.text,
        "subtitle": payload.subtitle,
    }


class _ResultReader:
    """Reads complete lines appended to a results file since the last call."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.buffer = b""
        self.line_number = 0

    def read(self, final: bool = False) -> list[tuple[int, str]]:
        if self.path.exists():
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
            self.offset += len(chunk)
            self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        if final and self.buffer.strip():
            complete.append(self.buffer)
            self.buffer = b""
        lines = []
        for raw in complete:
            self.line_number += 1
            if raw.strip():
                lines.append((self.line_number, raw.decode("utf-8", errors="replace")))
        return lines


def _parse_result(line: str, where: str) -> tuple[str | None, str, str | None, str | None]:
    """(name, status, text, error) from one results line; malformed lines give status 'invalid'."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, "invalid", None, f"{where}: not JSON ({exc.msg})"
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None, "invalid", None, f"{where}: a result must be an object with a string 'name'"
    name, status = data["name"], data.get("status")
    if status == "ok":
        text = data.get("text")
        if not isinstance(text, str):
            return name, "error", None, f"{where}: status ok but 'text' is {type(text).__name__}, not a string"
        return name, "ok", text, None
    if status == "error":
        return name, "error", None, str(data.get("error") or "the external program reported an error")
    return name, "error", None, f"{where}: status must be 'ok' or 'error', got {status!r}"


def _log_tail(log: Path) -> str:
    if not log.exists():
        return ""
    text = log.read_text(encoding="utf-8", errors="replace").strip()
    return text[-LOG_TAIL_CHARS:]


def _answer(item: WorkItem, status: str, text: str | None, error: str | None) -> tuple[WorkItem, Result]:
    if status == "ok":
        assert text is not None
        return item, (text, text.strip())
    return item, SampleFailure(error or "error")


def _requested_keys(requests: Path) -> dict[str, str]:
    keys: dict[str, str] = {}
    if requests.exists():
        for line in requests.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                data = json.loads(line)
                keys[data["name"]] = data["key"]
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return keys


def _finished_results(run: Path) -> Iterator[tuple[str, str, str]]:
    """(name, key, text) of every ok result of a run folder whose sample it requested."""
    keys = _requested_keys(run / "requests.jsonl")
    results = run / "results.jsonl"
    for number, line in _ResultReader(results).read(final=True):
        name, status, text, _ = _parse_result(line, f"{results}:{number}")
        if name is not None and status == "ok" and name in keys and text is not None:
            yield name, keys[name], text


def _remove_if_stored(run: Path, store: ResultsStore) -> bool:
    """Delete a run folder once every finished result in it is in the store (same sample and key).

    A result for a sample outside the current selection is kept for a later run to take
    up: the folder stays until nothing in it would be lost.
    """
    stored = {(record.name, record.key) for record in store.iter_records() if record.ok}
    if all((name, key) in stored for name, key, _ in _finished_results(run)):
        shutil.rmtree(run, ignore_errors=True)
        return True
    return False


def _take_up_earlier_runs(
    root: Path, pending: dict[str, WorkItem], store: ResultsStore
) -> Iterator[tuple[WorkItem, Result]]:
    """Results left by a killed run whose request had the same key; then drop the folders fully stored."""
    for run in sorted(p for p in root.glob("run-*") if p.is_dir()):
        for name, key, text in _finished_results(run):
            item = pending.get(name)
            if item is None or key != item.key:
                continue  # only finished results for the very same inputs are reused
            del pending[item.name]
            yield item, (text, text.strip(), {"external_run": run.name})
        _remove_if_stored(run, store)


def _exchange(
    store: ResultsStore, todo: Sequence[WorkItem], spec: BaselineSpec, command: str, visual: str,
    cwd: str | os.PathLike[str] | None,
) -> Iterator[tuple[WorkItem, Result]]:
    """The results of the items to do, as they arrive: taken up from a killed run, else from ``command``."""
    pending = {item.name: item for item in todo}
    root = work_dir(store)
    yield from _take_up_earlier_runs(root, pending, store)
    for name, item in list(pending.items()):  # missing media or subtitle row: not sent, as in a native run
        problem = input_problems(item.payload)
        if problem is not None:
            del pending[name]
            yield item, SampleFailure(problem)
    if not pending:
        return

    run = root / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    run.mkdir(parents=True, exist_ok=True)
    requests, results, log = run / "requests.jsonl", run / "results.jsonl", run / "command.log"
    with open(requests, "w", encoding="utf-8") as handle:
        for item in pending.values():
            handle.write(json.dumps(request_record(item, spec, visual), ensure_ascii=False) + "\n")
    results.touch()
    shell_command = command.replace("{requests}", shlex.quote(str(requests))).replace(
        "{results}", shlex.quote(str(results))
    )
    env = {**os.environ, "OVMER_REQUESTS": str(requests), "OVMER_RESULTS": str(results)}
    reader = _ResultReader(results)

    def ingest(final: bool) -> Iterator[tuple[WorkItem, Result]]:
        for number, line in reader.read(final=final):
            name, status, text, error = _parse_result(line, f"{results}:{number}")
            if name is None or name not in pending:
                why = error or f"sample {name!r} was not requested or was already answered"
                warnings.warn(f"{results}:{number}: ignored ({why})", stacklevel=2)
                continue
            yield _answer(pending.pop(name), status, text, error)

    with open(log, "wb") as log_handle:
        process = subprocess.Popen(
            shell_command, shell=True, env=env, cwd=cwd, stdout=log_handle, stderr=subprocess.STDOUT
        )
        try:
            while process.poll() is None:
                yield from ingest(final=False)
                time.sleep(POLL_SECONDS)
            yield from ingest(final=True)
        finally:
            if process.poll() is None:  # interrupted: don't leave the model running
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
    if pending:
        tail = _log_tail(log)
        reason = (
            f"the external command exited with code {process.returncode} without a result for this sample"
            + (f"; end of {log}:\n{tail}" if tail else f" (log: {log})")
        )
        for name in list(pending):
            yield _answer(pending.pop(name), "error", None, reason)
    else:  # every sample answered: the folder is only a copy of what the store now holds
        _remove_if_stored(run, store)


def run_external(
    store: ResultsStore,
    items: Sequence[WorkItem],
    spec: BaselineSpec,
    command: str,
    *,
    visual: str = "frames",
    progress: bool = True,
    meta: dict[str, Any] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> StageSummary:
    """Send the items not yet done to ``command`` and store its results as they arrive.

    The skip-and-record loop is :func:`ovmer.store.runner.run_stage`'s; every
    failure the program reports (or the exit that left a sample unanswered) is
    recorded, never taken for a broken setup, since the records carry the log's tail.
    """
    if not command.strip():
        raise OvmerError("the external command is empty")
    return run_stage(
        store,
        items,
        desc=f"describe {spec.name} (external)",
        progress=progress,
        meta={**(meta or {}), "runner": "external"},
        stream=lambda todo: _exchange(store, todo, spec, command, visual, cwd),
        abort_after=None,
    )
