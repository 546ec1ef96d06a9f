"""Media decoding: frame sampling, 16 kHz mono audio, face stacks, and errors that name the file."""

from __future__ import annotations

import numpy as np
import pytest
from media_helpers import make_face_npy, make_video, make_wav, square_frame

from ovmer.describe.adapter import FramePolicy
from ovmer.describe.media import (
    MediaError,
    file_identity,
    fps_indices,
    load_audio,
    load_faces,
    load_video_frames,
    uniform_indices,
)


def dominant_frequency(wave: np.ndarray, rate: int = 16_000) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.fft.rfftfreq(len(wave), 1 / rate)[spectrum.argmax()])


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_video(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=2, fps=8, freq=440)


def test_uniform_indices_take_segment_starts_and_pad_short_clips():
    assert uniform_indices(16, 4) == [0, 4, 8, 12]
    assert uniform_indices(10, 3) == [0, 3, 6]
    assert uniform_indices(3, 5) == [0, 1, 2, 2, 2]
    assert uniform_indices(0, 4) == []


def test_fps_indices_one_per_tick_and_capped():
    times = [i / 8 for i in range(16)]  # 2 s at 8 fps
    assert fps_indices(times, 1.0) == [0, 8]
    assert fps_indices(times, 2.0) == [0, 4, 8, 12]
    assert fps_indices(times, 8.0, max_frames=4) == [0, 4, 8, 12]
    assert fps_indices(times, 100.0) == list(range(16))  # never more frames than the clip has


def test_uniform_frames_are_the_right_frames(clip):
    video = load_video_frames(clip, FramePolicy(num_frames=4))
    assert video.frames.shape == (4, 48, 64, 3) and video.frames.dtype == np.uint8
    assert video.timestamps == (0.0, 0.5, 1.0, 1.5)
    for got, index in zip(video.frames, [0, 4, 8, 12], strict=True):
        # h264 at crf 18 is near-lossless on flat colours: each frame matches the one drawn
        assert np.abs(got.astype(int) - square_frame(index)).mean() < 4
        assert np.abs(got.astype(int) - square_frame(index + 2)).mean() > 4
    assert video.source == str(clip)


def test_fps_policy_with_cap_and_resize(clip):
    video = load_video_frames(clip, FramePolicy(fps=2.0))
    assert video.timestamps == (0.0, 0.5, 1.0, 1.5)
    capped = load_video_frames(clip, FramePolicy(fps=8.0, max_frames=3), max_side=32)
    assert capped.frames.shape == (3, 24, 32, 3)
    padded = load_video_frames(clip, FramePolicy(num_frames=20))
    assert padded.frames.shape[0] == 20 and padded.timestamps[-1] == padded.timestamps[-5] == 1.875


def test_audio_from_mp4_track_is_16k_mono(clip):
    audio = load_audio(clip)
    assert audio.sample_rate == 16_000 and audio.waveform.dtype == np.float32
    assert abs(audio.waveform.size - 32_000) <= 1_100  # AAC adds at most one frame of padding
    assert dominant_frequency(audio.waveform) == pytest.approx(440, abs=3)


def test_audio_from_stereo_wav_is_resampled_and_averaged(tmp_path):
    wav = make_wav(tmp_path / "stereo.wav", seconds=1.0, sample_rate=22_050, freq=523.0, channels=2)
    audio = load_audio(wav)
    assert audio.waveform.size == 16_000
    assert np.abs(audio.waveform).max() == pytest.approx(0.3, abs=0.01)  # averaged, not summed
    assert dominant_frequency(audio.waveform) == pytest.approx(523, abs=3)
    assert load_audio(wav, max_seconds=0.25).waveform.size == 4_000


def test_faces_sampled_from_npy(tmp_path):
    path = make_face_npy(tmp_path / "s" / "s.npy", n_frames=8, side=16)
    stack = np.load(path)
    faces = load_faces(path, FramePolicy(num_frames=4))
    assert faces.frames.shape == (4, 16, 16, 3)
    np.testing.assert_array_equal(faces.frames, stack[[0, 2, 4, 6]])
    flipped = load_faces(path, FramePolicy(num_frames=4), bgr_to_rgb=True)
    np.testing.assert_array_equal(flipped.frames, stack[[0, 2, 4, 6]][..., ::-1])


@pytest.mark.parametrize(
    ("content", "loader", "message"),
    [
        (None, load_video_frames, "is missing"),
        (b"", load_video_frames, "is empty"),
        (b"this is not a video at all" * 10, load_video_frames, "cannot be opened"),
        (None, load_audio, "is missing"),
        (b"", load_audio, "is empty"),
        (b"RIFF\x00\x00garbage" * 5, load_audio, "cannot be opened"),
    ],
)
def test_bad_files_raise_media_error_naming_the_file(tmp_path, content, loader, message):
    path = tmp_path / "bad.mp4"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MediaError, match=message) as info:
        loader(path)
    assert str(path) in str(info.value)


def test_truncated_video_and_wrong_stream_kinds(tmp_path, clip):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[:300])
    with pytest.raises(MediaError, match="truncated.mp4"):
        load_video_frames(truncated, FramePolicy(num_frames=4))
    silent = make_video(tmp_path / "silent.mp4", seconds=1, with_audio=False)
    with pytest.raises(MediaError, match="has no audio stream"):
        load_audio(silent)
    wav = make_wav(tmp_path / "tone.wav")
    with pytest.raises(MediaError, match="has no video stream"):
        load_video_frames(wav)


def test_bad_face_stacks(tmp_path):
    flat = tmp_path / "flat.npy"
    np.save(flat, np.zeros((4, 16, 16), np.uint8))
    with pytest.raises(MediaError, match=r"flat.npy: expected a \(T, H, W, 3\)"):
        load_faces(flat)
    empty = tmp_path / "empty.npy"
    np.save(empty, np.zeros((0, 16, 16, 3), np.uint8))
    with pytest.raises(MediaError, match="empty.npy: face stack has no frames"):
        load_faces(empty)
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not numpy")
    with pytest.raises(MediaError, match="junk.npy: not a readable"):
        load_faces(junk)


def test_file_identity_tracks_content(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"same")
    b.write_bytes(b"same")
    assert file_identity(a) == file_identity(b) == {"size": 4, "sha256": file_identity(a)["sha256"]}
    b.write_bytes(b"diff")
    assert file_identity(a) != file_identity(b)
    assert file_identity(tmp_path / "nope") == {"missing": str(tmp_path / "nope")}
