"""Speech media: an espeak-ng wav survives the round trip through the audio loader."""

from __future__ import annotations

import numpy as np
import pytest
from media_helpers import espeak_available, make_wav, speech_waveform

from ovmer.describe.media import (
    load_audio,
)


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng not installed (apt-get install -y espeak-ng)")
def test_speech_wav_round_trip(tmp_path):
    speech = speech_waveform("good morning everyone")
    wav = make_wav(tmp_path / "speech.wav", speech="good morning everyone")
    audio = load_audio(wav)
    assert audio.waveform.size == speech.size
    assert np.sqrt(np.mean(audio.waveform**2)) > 0.02  # not silence
