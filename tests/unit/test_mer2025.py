"""The MER2025 layout loader on tiny synthetic dataset folders."""

from __future__ import annotations

import pandas as pd
import pytest
from media_helpers import make_mer2025_layout, make_video

from ovmer.data.mer2025 import load_mer2025
from ovmer.errors import OvmerError

NAMES = ("sample_00000003", "sample_00000001", "sample_00000002")  # csv order, not sorted


@pytest.fixture()
def layout_dir(tmp_path):
    return make_mer2025_layout(tmp_path / "mer2025-dataset", NAMES, seconds=0.5)


def test_resolves_paths_texts_and_labels(layout_dir):
    layout = load_mer2025(layout_dir, require=("video", "audio", "face"))
    assert layout.names == list(NAMES)  # the OV-MERD csv's order
    assert layout.names_from == "track2_train_ovmerd.csv"
    assert layout.problems == {} and layout.report() == ""
    sample = layout["sample_00000001"]
    assert sample.video == layout_dir / "video" / "sample_00000001.mp4"
    assert sample.audio == layout_dir / "audio" / "sample_00000001.wav"
    assert sample.face == layout_dir / "openface_face" / "sample_00000001" / "sample_00000001.npy"
    assert sample.subtitle("english") == "subtitle of sample_00000001"
    assert sample.subtitle("chinese") == "sample_00000001 的字幕"
    assert sample.openset == ["happy", "relaxed"]
    assert sample.reason == "reason for sample_00000001"
    with pytest.raises(OvmerError, match="no sample named 'nope'"):
        layout["nope"]


def test_missing_and_empty_files_reported_by_name_up_front(layout_dir):
    (layout_dir / "video" / "sample_00000002.mp4").unlink()
    (layout_dir / "audio" / "sample_00000001.wav").write_bytes(b"")
    (layout_dir / "openface_face" / "sample_00000003" / "sample_00000003.npy").unlink()

    layout = load_mer2025(layout_dir, require=("video", "audio", "face"))
    assert set(layout.problems) == set(NAMES)
    assert layout.problems["sample_00000002"][0] == f"{layout_dir / 'video' / 'sample_00000002.mp4'}: video file is missing"
    assert layout.problems["sample_00000001"] == [f"{layout_dir / 'audio' / 'sample_00000001.wav'}: audio file is empty (0 bytes)"]
    assert "sample_00000003.npy: face file is missing" in layout.problems["sample_00000003"][0]
    report = layout.report()
    assert report.startswith(f"{layout_dir}: 3 of 3 samples") and "sample_00000002.mp4" in report

    only_video = load_mer2025(layout_dir, require=("video",))
    assert list(only_video.problems) == ["sample_00000002"]
    with pytest.raises(OvmerError, match="sample_00000002.mp4: video file is missing"):
        load_mer2025(layout_dir, require=("video",), strict=True)


def test_clip_audio_stands_in_for_a_missing_wav(layout_dir):
    (layout_dir / "audio" / "sample_00000001.wav").unlink()
    layout = load_mer2025(layout_dir, require=("audio",))
    assert layout.problems == {}
    assert layout["sample_00000001"].audio is None and layout["sample_00000001"].video is not None


def test_names_fall_back_to_subtitles_then_videos(layout_dir):
    (layout_dir / "track2_train_ovmerd.csv").unlink()
    assert load_mer2025(layout_dir).names_from == "subtitle_chieng.csv"
    (layout_dir / "subtitle_chieng.csv").unlink()
    layout = load_mer2025(layout_dir)
    assert layout.names == sorted(NAMES) and layout.names_from == "video/ and audio/"
    assert layout["sample_00000001"].subtitle_en is None
    assert load_mer2025(layout_dir, names=["sample_00000002", "sample_00000002"]).names == ["sample_00000002"]


def test_flat_folder_of_clips(tmp_path):
    for name in ("b", "a"):
        make_video(tmp_path / f"{name}.mp4", seconds=0.5)
    layout = load_mer2025(tmp_path, require=("video", "audio"))
    assert layout.names == ["a", "b"] and layout.problems == {}
    assert layout["a"].video == tmp_path / "a.mp4"


def test_bad_folders_and_csvs(tmp_path, layout_dir):
    with pytest.raises(OvmerError, match="dataset folder does not exist"):
        load_mer2025(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OvmerError, match="no samples found"):
        load_mer2025(tmp_path / "empty")
    pd.DataFrame({"name": ["x"], "text": ["y"]}).to_csv(layout_dir / "subtitle_chieng.csv", index=False)
    with pytest.raises(OvmerError, match=r"subtitle_chieng.csv: missing column\(s\) \['chinese', 'english'\]"):
        load_mer2025(layout_dir)
    with pytest.raises(OvmerError, match="unknown media kind 'faces'"):
        load_mer2025(layout_dir, require=("faces",))  # type: ignore[arg-type]
