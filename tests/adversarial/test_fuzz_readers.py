"""Hypothesis fuzzing of every file reader: a clear OvmerError naming the file, or a well-formed value.

Inputs are random bytes and random mutations (overwritten, inserted and deleted
bytes, truncations) of real files: the released npz files, the OV-MERD CSVs, a
results-store file, the wheel spreadsheets, the CPU extractor and scoring caches,
and synthetic media. Example counts are kept small (see ``FUZZ``) so the whole
layer stays within a few minutes on two cores.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovmer.data.csvfile import read_csv_columns
from ovmer.data.name_values import (
    PREDICTION_FILES,
    REPLY_FILES,
    TEXT_FILES,
    read_description_npz,
    read_name_values,
    read_openset_npz,
)
from ovmer.data.wheels import read_synonym_runs, read_wheel_rows, read_word_forms
from ovmer.describe.adapter import FramePolicy
from ovmer.describe.external import _parse_result
from ovmer.errors import OvmerError
from ovmer.extract.cpu.extractor import CpuExtractor
from ovmer.labels import label_reply_problem, parse_labels
from ovmer.store.jsonl import Record, ResultsStore

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
SCRATCH = Path(tempfile.mkdtemp(prefix="ovmer-fuzz-"))
atexit.register(shutil.rmtree, SCRATCH, True)


@st.composite
def mutations(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few bytes overwritten, inserted or deleted, or cut short."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
        if kind == "set":
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)


def file_with(data: bytes, suffix: str, folder: str = "") -> Path:
    directory = SCRATCH / folder if folder else SCRATCH
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"fuzz{suffix}"
    path.write_bytes(data)
    return path


def clear_or_value(read: Callable[[Path], Any], path: Path, check: Callable[[Any], None]) -> None:
    """The one property: ``read(path)`` gives a value passing ``check`` or an OvmerError naming ``path``."""
    try:
        value = read(path)
    except OvmerError as exc:
        message = str(exc)
        assert str(path) in message, message
        assert "\n" not in message.strip(), message
        assert "Traceback" not in message
    else:
        check(value)


def name_value_map(values: Any, text: bool = True) -> None:
    assert isinstance(values, dict)
    for name, value in values.items():
        assert isinstance(name, str) and name
        if text:
            assert isinstance(value, str)


@pytest.fixture(scope="module")
def real(ovmer_data: Path) -> dict[str, bytes]:
    rel = {
        "openset": "results-ovmerd/Otter/output-reason-7b-subtitle-eng-openset.npz",
        "description": "results-ovmerd/Otter/output-reason-7b-subtitle-eng.npz",
        "csv": "ovmerd/check-openset.csv",
        "wheel": "emotion_wheel/wheel2.xlsx",
        "synonyms": "emotion_wheel/synonym.xlsx",
        "forms": "emotion_wheel/format.csv",
    }
    files = {key: (ovmer_data / path).read_bytes() for key, path in rel.items()}
    with np.load(ovmer_data / rel["openset"]) as archive:
        names, items = archive["filenames"][:40].tolist(), archive["fileitems"][:40].tolist()
    files["store"] = "".join(
        Record(n, "ok", f"k{i}", raw=t, value=parse_labels(t), meta={"time": 1.0}).to_json() + "\n"
        for i, (n, t) in enumerate(zip(names, items, strict=True))).encode()
    from ovmer.extract.cpu import load_or_fit

    files["extractor"] = json.dumps(load_or_fit(ovmer_data).to_dict()).encode()[:200_000]
    return files


# --------------------------------------------------------------------------- random bytes, every suffix


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".npz", ".csv", ".tsv", ".jsonl"]))
def test_random_bytes_under_every_suffix(data: bytes, suffix: str) -> None:
    for spec, text in ((PREDICTION_FILES, False), (TEXT_FILES, True), (REPLY_FILES, True)):
        if suffix in spec.suffixes:
            path = file_with(data, suffix, folder=f"random{suffix}")
            clear_or_value(lambda p, s=spec: read_name_values(p, s), path, lambda v, t=text: name_value_map(v, t))


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list('ab,"\n\r\t ;[]\'x\x00é')), max_size=200))
def test_csv_shaped_text(text: str) -> None:
    path = file_with(("name,openset\n" + text).encode("utf-8"), ".csv", folder="csvtext")
    clear_or_value(lambda p: read_csv_columns(p, ("name", "openset")), path,
                   lambda frame: list(frame.columns)[:2] == ["name", "openset"])
    clear_or_value(lambda p: read_name_values(p, PREDICTION_FILES), path, name_value_map)


@FUZZ
@given(lines=st.lists(st.one_of(
    st.text(max_size=40),
    st.builds(json.dumps, st.dictionaries(st.sampled_from(["name", "status", "key", "raw", "value", "error", "meta",
                                                           "x"]),
                                          st.one_of(st.none(), st.text(max_size=8), st.integers(), st.lists(st.text()),
                                                    st.sampled_from(["ok", "error"]))))), max_size=8))
def test_store_files_of_odd_lines(lines: list[str]) -> None:
    path = file_with("\n".join(lines).encode("utf-8", "surrogatepass"), ".jsonl", folder="lines")

    def check(latest: Any) -> None:
        assert all(isinstance(r, Record) and isinstance(r.name, str) and r.status in ("ok", "error")
                   for r in latest.values())

    clear_or_value(lambda p: ResultsStore(p).latest(), path, check)


@FUZZ
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                          lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5),
                                                                                              children, max_size=3)))
def test_record_from_any_json_value(value: Any) -> None:
    try:
        record = Record.from_dict(value, "somewhere.jsonl:1")
    except OvmerError as exc:
        assert str(exc).startswith("somewhere.jsonl:1")
    else:
        assert isinstance(record.name, str) and isinstance(record.key, str) and isinstance(record.meta, dict)


# --------------------------------------------------------------------------- mutations of real files


@FUZZ
@given(st.data())
def test_mutated_openset_npz(real: dict[str, bytes], data: st.DataObject) -> None:
    path = file_with(data.draw(mutations(real["openset"])), ".npz", folder="openset")
    clear_or_value(read_openset_npz, path, name_value_map)


@FEW
@given(st.data())
def test_mutated_description_npz_trusted(real: dict[str, bytes], data: st.DataObject) -> None:
    path = file_with(data.draw(mutations(real["description"])), ".npz", folder="description")
    clear_or_value(lambda p: read_description_npz(p, trust=True), path, name_value_map)
    clear_or_value(lambda p: read_name_values(p, TEXT_FILES), path, name_value_map)  # untrusted: refused, named


@FUZZ
@given(st.data())
def test_mutated_csv(real: dict[str, bytes], data: st.DataObject) -> None:
    path = file_with(data.draw(mutations(real["csv"])), ".csv", folder="csv")
    clear_or_value(lambda p: read_name_values(p, PREDICTION_FILES), path, name_value_map)


@FUZZ
@given(st.data())
def test_mutated_store_file(real: dict[str, bytes], data: st.DataObject) -> None:
    path = file_with(data.draw(mutations(real["store"])), ".jsonl", folder="store")
    clear_or_value(lambda p: read_name_values(p, PREDICTION_FILES), path, lambda v: name_value_map(v, text=False))


@FEW
@given(st.data())
def test_mutated_wheel_spreadsheets(real: dict[str, bytes], data: st.DataObject) -> None:
    for key, reader in (("wheel", read_wheel_rows), ("synonyms", read_synonym_runs)):
        path = file_with(data.draw(mutations(real[key])), ".xlsx", folder=key)
        clear_or_value(reader, path, lambda rows: isinstance(rows, list))


@FUZZ
@given(st.data())
def test_mutated_word_forms(real: dict[str, bytes], data: st.DataObject) -> None:
    path = file_with(data.draw(mutations(real["forms"])), ".csv", folder="forms")
    clear_or_value(read_word_forms, path, lambda rows: all(isinstance(name, str) for name, _ in rows))


@FEW
@given(st.data())
def test_mutated_cpu_extractor_cache(real: dict[str, bytes], data: st.DataObject) -> None:
    path = file_with(data.draw(mutations(real["extractor"])), ".json", folder="extractor")
    clear_or_value(CpuExtractor.load, path, lambda extractor: isinstance(extractor, CpuExtractor))


@FEW
@given(st.data())
def test_mutated_scoring_cache_is_a_value_or_a_rebuild(ovmer_data: Path, data: st.DataObject) -> None:
    import warnings

    from ovmer.scoring.resources import WheelResources, _read_cache, cache_file, resources_key

    original = cache_file(ovmer_data).read_bytes()
    path = file_with(data.draw(mutations(original)), ".npz", folder="resources")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = _read_cache(path, resources_key())
    assert value is None or isinstance(value, WheelResources)


# --------------------------------------------------------------------------- media


@pytest.fixture(scope="module")
def clip() -> bytes:
    from media_helpers import make_video

    return make_video(SCRATCH / "clip" / "clip.mp4", seconds=0.4, fps=8).read_bytes()


@FEW
@given(st.data())
def test_mutated_video_and_audio(clip: bytes, data: st.DataObject) -> None:
    from ovmer.describe.media import load_audio, load_video_frames

    path = file_with(data.draw(mutations(clip)), ".mp4", folder="media")
    clear_or_value(lambda p: load_video_frames(p, FramePolicy(num_frames=3)), path,
                   lambda part: part.frames.ndim == 4 and part.frames.dtype == np.uint8)
    clear_or_value(load_audio, path, lambda part: part.waveform.ndim == 1)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_face_stacks(data: bytes) -> None:
    from ovmer.describe.media import load_faces

    path = file_with(b"\x93NUMPY" + data if data[:1] == b"\x00" else data, ".npy", folder="faces")
    clear_or_value(load_faces, path, lambda part: part.frames.ndim == 4)


# --------------------------------------------------------------------------- text a model or a program returns


@FUZZ
@given(reply=st.text(max_size=300))
def test_label_reply_checks_never_raise_on_text(reply: str) -> None:
    problem = label_reply_problem(reply)
    assert problem is None or problem.startswith("the reply ")
    if problem is None:
        assert parse_labels(reply) or "[" in reply


@FUZZ
@given(line=st.one_of(st.text(max_size=80), st.builds(json.dumps, st.dictionaries(
    st.sampled_from(["name", "status", "text", "error"]), st.one_of(st.none(), st.text(max_size=10), st.integers())))))
def test_external_result_lines_never_raise(line: str) -> None:
    name, status, text, error = _parse_result(line, "results.jsonl:1")
    assert status in ("ok", "error", "invalid")
    assert (status == "ok") == (text is not None)
