"""`ovmer download mer2025` and `ovmer download-model` offline, from Hub caches built in the Hub's layout.

The layout is huggingface_hub's documented cache: ``<cache>/<datasets|models>--<org>--<name>/`` with
``refs/main`` (the commit hash), ``blobs/<sha256>`` and ``snapshots/<commit>/<path>`` symlinks to the
blobs. With ``HF_HUB_OFFLINE=1``, ``snapshot_download`` resolves the snapshot from it without the network.
"""

from __future__ import annotations

import hashlib
import os
import types
from pathlib import Path

import pytest

from ovmer.cli import main
from ovmer.describe.registry import get_baseline

hub = pytest.importorskip("huggingface_hub")
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SAMPLES = ("sample_00000001", "sample_00000002")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def hub_cache(cache: Path, repo_type: str, repo_id: str, files: dict[str, bytes]) -> Path:
    """A repo in the Hub cache layout; returns its snapshot folder."""
    repo = cache / f"{repo_type}s--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    snapshot = repo / "snapshots" / COMMIT
    for rel, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, link.parent), link)
    return snapshot


def mer2025_files(empty_video: str | None = None) -> dict[str, bytes]:
    top = "mer2025-dataset"  # the Hub repo nests the dataset folder
    files = {f"{top}/subtitle_chieng.csv": ("name,chinese,english\n" + "".join(
        f"{n},字幕 {n},subtitle of {n}\n" for n in SAMPLES)).encode()}
    files[f"{top}/track2_train_ovmerd.csv"] = ("name,openset\n" + "".join(
        f"{n},\"['happy']\"\n" for n in SAMPLES)).encode()
    files[f"{top}/track3_train_ovmerd.csv"] = ("name,reason\n" + "".join(f"{n},why {n}\n" for n in SAMPLES)).encode()
    for n in SAMPLES:
        files[f"{top}/video/{n}.mp4"] = b"" if n == empty_video else f"video {n}".encode()
        files[f"{top}/audio/{n}.wav"] = f"audio {n}".encode()
        files[f"{top}/openface_face/{n}/{n}.npy"] = f"face {n}".encode()
    files["README.md"] = b"MER2025: accept the EULA to access.\n"
    return files


def test_download_mer2025_links_the_chosen_parts_and_checks_the_layout(tmp_path, capsys) -> None:
    cache = tmp_path / "hub"
    hub_cache(cache, "dataset", "MERChallenge/MER2025", mer2025_files())
    dest = tmp_path / "mer2025"
    code = main(["download", "mer2025", "--dest", str(dest), "--parts", "audio,subtitles,labels",
                 "--cache-dir", str(cache)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert sorted(p.name for p in (dest / "audio").iterdir()) == [f"{n}.wav" for n in SAMPLES]
    assert not (dest / "video").exists() and not (dest / "openface_face").exists()
    assert (dest / "audio" / f"{SAMPLES[0]}.wav").read_bytes() == f"audio {SAMPLES[0]}".encode()
    assert (dest / "subtitle_chieng.csv").is_symlink()  # stored once, in the cache
    assert "2 samples (names from track2_train_ovmerd.csv)" in out and "every required file is present" in out

    from ovmer.data.mer2025 import load_mer2025

    layout = load_mer2025(dest, require=["audio"])
    assert layout.names == list(SAMPLES) and layout[SAMPLES[1]].subtitle_en == f"subtitle of {SAMPLES[1]}"
    # a second run over a complete folder keeps the links and succeeds again
    assert main(["download", "mer2025", "--dest", str(dest), "--parts", "audio,subtitles,labels",
                 "--cache-dir", str(cache)]) == 0


def test_download_mer2025_names_empty_files(tmp_path, capsys) -> None:
    cache = tmp_path / "hub"
    hub_cache(cache, "dataset", "MERChallenge/MER2025", mer2025_files(empty_video=SAMPLES[1]))
    dest = tmp_path / "mer2025"
    assert main(["download", "mer2025", "--dest", str(dest), "--cache-dir", str(cache)]) == 1
    out = capsys.readouterr().out
    assert f"video/{SAMPLES[1]}.mp4: video file is empty (0 bytes)" in out
    assert (dest / "openface_face" / SAMPLES[0] / f"{SAMPLES[0]}.npy").is_file()


def test_download_mer2025_errors_are_one_line(tmp_path, capsys) -> None:
    assert main(["download", "mer2025", "--dest", str(tmp_path / "d"), "--parts", "vidoe",
                 "--cache-dir", str(tmp_path)]) == 1
    assert "unknown part 'vidoe'. Did you mean 'video'?" in capsys.readouterr().err
    assert main(["download", "mer2025", "--dest", str(tmp_path / "d"), "--cache-dir", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err
    assert "not in the Hub cache" in err and "HF_HUB_OFFLINE" in err and "Traceback" not in err


def _gated_error():
    from huggingface_hub.errors import GatedRepoError

    url = "https://huggingface.co/api/datasets/MERChallenge/MER2025/revision/main"
    try:
        import httpx2 as http
    except ImportError:  # huggingface_hub < 1.0 speaks requests / httpx
        import httpx as http
    response = http.Response(403, request=http.Request("GET", url))
    return GatedRepoError("Access to dataset MERChallenge/MER2025 is restricted.", response=response)


def test_gated_dataset_explains_the_licence_and_the_token(tmp_path, capsys, monkeypatch) -> None:
    calls = []

    def refuse(repo_id, **kwargs):
        calls.append((repo_id, kwargs.get("repo_type"), kwargs.get("allow_patterns")))
        raise _gated_error()

    monkeypatch.setattr(hub, "snapshot_download", refuse)
    assert main(["download", "mer2025", "--dest", str(tmp_path / "d"), "--parts", "labels"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "MERChallenge/MER2025 is a gated dataset" in err
    assert "licence agreement" in err and "HF_TOKEN" in err and "huggingface.co/datasets/MERChallenge/MER2025" in err
    [(repo, kind, patterns)] = calls
    assert (repo, kind) == ("MERChallenge/MER2025", "dataset")
    assert "track2_train_ovmerd.csv" in patterns and "*/track2_train_ovmerd.csv" in patterns
    assert not any("video" in p for p in patterns)


def test_download_model_records_the_snapshot_and_describe_needs_no_model_path(tmp_path, capsys, monkeypatch) -> None:
    from ovmer.describe import runner
    from ovmer.hub.models import local_checkpoint

    cache = tmp_path / "models"
    snapshot = hub_cache(cache, "model", "LanguageBind/Video-LLaVA-7B-hf",
                         {"config.json": b"{}", "model.safetensors": b"weights", "README.md": b"card"})
    assert local_checkpoint("Video-LLaVA") is None
    assert main(["download-model", "videollava", "--dest", str(cache)]) == 0
    assert str(snapshot) in capsys.readouterr().out
    assert local_checkpoint("Video-LLaVA") == snapshot

    made = {}
    stand_in = types.SimpleNamespace(spec=get_baseline("Video-LLaVA"))
    monkeypatch.setattr(runner, "create_adapter", lambda name, **options: made.update(name=name, **options) or stand_in)
    runner.resolve_run("Video-LLaVA", None, None, "cpu", "auto", None)
    assert made["model_path"] == str(snapshot)
    runner.resolve_run("Video-LLaVA", None, str(tmp_path / "mine"), "cpu", "auto", None)
    assert made["model_path"] == str(tmp_path / "mine")  # an explicit --model-path still wins


def test_checkpoint_in_the_default_hub_cache_is_found_without_a_record(tmp_path, monkeypatch) -> None:
    from huggingface_hub import constants

    from ovmer.hub.models import local_checkpoint

    snapshot = hub_cache(tmp_path, "model", "Qwen/Qwen2-Audio-7B-Instruct", {"config.json": b"{}"})
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert local_checkpoint("Qwen2-Audio-7B-Instruct") == snapshot
    assert local_checkpoint("Otter") is None  # external baselines have no Hub checkpoint to resolve


def test_download_model_refuses_external_baselines(capsys) -> None:
    assert main(["download-model", "Otter"]) == 1
    err = capsys.readouterr().err
    assert "Otter is not a native baseline" in err and "ovmer baselines" in err
