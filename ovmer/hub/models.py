"""``ovmer download-model BASELINE``: a native baseline's checkpoint, and where the registry finds it.

A download goes into the Hub cache layout (``--dest`` chooses the cache folder, e.g. a larger
disk) and is recorded in ``<data>/models.json``; :func:`local_checkpoint` reads that record, then
the default Hub cache, so ``ovmer describe`` needs no ``--model-path`` afterwards.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ovmer.describe.adapter import BaselineSpec
from ovmer.describe.registry import get_baseline
from ovmer.errors import OvmerError
from ovmer.hub.snapshots import fetch_snapshot
from ovmer.keys import hub_snapshot
from ovmer.paths import data_dir

RECORD_FILE = "models.json"
# What a transformers checkpoint needs; model cards, images and other formats are skipped.
MODEL_PATTERNS = ("*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken")


def record_path() -> Path:
    return data_dir() / RECORD_FILE


def _records() -> dict[str, str]:
    path = record_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:  # ValueError: bad JSON or not UTF-8
        raise OvmerError(f"{path}: unreadable record of downloaded models ({exc}); delete it and download again") from None
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def record_checkpoint(baseline: str, folder: Path) -> Path:
    records = {**_records(), baseline: str(folder)}
    path = record_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.partial")
    tmp.write_text(json.dumps(records, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def native_spec(baseline: str) -> BaselineSpec:
    spec = get_baseline(baseline)  # an unknown name: an error with a did-you-mean
    if spec.run != "native" or spec.adapter is None:
        how = f"its authors' code ({spec.upstream})" if spec.upstream else "its authors' code"
        raise OvmerError(f"{spec.name} is not a native baseline (it runs in {how}, mode {spec.run}); "
                         "download-model fetches the checkpoints of native baselines (`ovmer baselines` lists them)")
    return spec


def _cached_snapshot(repo_id: str) -> Path | None:
    """The checkpoint's folder in the default Hub cache, without any network call (None: not there)."""
    return hub_snapshot(repo_id)


def local_checkpoint(baseline: str) -> Path | None:
    """The downloaded checkpoint of ``baseline``: the recorded download, else the default Hub cache."""
    recorded = _records().get(baseline)
    if recorded and (Path(recorded) / "config.json").is_file():
        return Path(recorded)
    spec = get_baseline(baseline)
    return _cached_snapshot(spec.checkpoint) if spec.run == "native" else None


def download_model(baseline: str, dest: str | os.PathLike[str] | None = None, *, token: str | None = None) -> Path:
    """Fetch the baseline's checkpoint into the Hub cache (``dest``: another cache folder) and record it."""
    spec = native_spec(baseline)
    folder = fetch_snapshot(spec.checkpoint, repo_type="model", allow_patterns=MODEL_PATTERNS,
                            cache_dir=Path(dest).expanduser() if dest else None, token=token)
    if not (folder / "config.json").is_file():
        raise OvmerError(f"{folder}: the snapshot of {spec.checkpoint} has no config.json; is it a transformers "
                         "checkpoint?")
    record_checkpoint(spec.name, folder)
    return folder
