"""Tiny random-weight checkpoints of the native describe models, built offline.

Each ``build_tiny_*`` writes a folder that the matching adapter loads with
``model_path=folder``: a config with a few layers and hidden size 32, random
weights, a word-level tokenizer holding the model's special tokens, and the
preprocessor files the adapter reads. ``TINY_BUILDERS`` maps registry names to
builders; ``EXPECTED_TOKENS`` says how many placeholder tokens the test media
of :func:`tiny_message` must expand to, so a test can check what the model saw.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ovmer.messages import AudioPart, Chat, TextPart, VideoPart

HIDDEN = 32
WORDS = [
    "the", "a", "of", "and", "to", "in", "is", "you", "are", "as", "an", "expert", "person", "video",
    "audio", "watch", "listen", "look", "their", "facial", "expressions", "body", "movements", "voice",
    "tone", "emotional", "state", "happy", "sad", "angry", "calm", "describe", "clues",
]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def tiny_tokenizer(special: list[str]):
    """A word-level fast tokenizer: base specials, the model's ``special`` tokens, a few words."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    base = ["<unk>", "<s>", "</s>", "<pad>"]
    vocab = {token: index for index, token in enumerate([*base, *special, *WORDS, ":", ".", ","])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        extra_special_tokens=special,
    )


def _llama(vocab_size: int) -> dict:
    return dict(
        model_type="llama", vocab_size=vocab_size, hidden_size=HIDDEN, intermediate_size=64,
        num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
        pad_token_id=3, bos_token_id=1, eos_token_id=2,
    )


def _clip(image_size: int) -> dict:
    return dict(
        model_type="clip_vision_model", hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, image_size=image_size, patch_size=14, projection_dim=HIDDEN,
    )


def _save(folder: Path, model, tokenizer) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_video_llava(folder: Path, seed: int = 0) -> Path:
    """Video-LLaVA: CLIP tower on 28x28 frames (2x2 patches + class token = 5 tokens per frame)."""
    import torch
    from transformers import VideoLlavaConfig, VideoLlavaForConditionalGeneration, VideoLlavaImageProcessor

    tokenizer = tiny_tokenizer(["<image>", "<video>"])
    ids = tokenizer.convert_tokens_to_ids
    config = VideoLlavaConfig(
        vision_config=_clip(28), text_config=_llama(len(tokenizer)),
        image_token_index=ids("<image>"), video_token_index=ids("<video>"), pad_token_id=3,
    )
    torch.manual_seed(seed)
    _save(folder, VideoLlavaForConditionalGeneration(config), tokenizer)
    VideoLlavaImageProcessor(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}).save_pretrained(folder)
    return folder


def build_tiny_llava_next_video(folder: Path, seed: int = 0) -> Path:
    """LLaVA-NeXT-Video: 56x56 frames, 4x4 patches pooled 2x2 -> 4 tokens per frame."""
    import torch
    from transformers import LlavaNextVideoConfig, LlavaNextVideoForConditionalGeneration

    tokenizer = tiny_tokenizer(["<image>", "<video>"])
    ids = tokenizer.convert_tokens_to_ids
    config = LlavaNextVideoConfig(
        vision_config=_clip(56), text_config=_llama(len(tokenizer)),
        image_token_index=ids("<image>"), video_token_index=ids("<video>"), pad_token_id=3,
        image_grid_pinpoints=[[56, 56], [56, 112]], spatial_pool_stride=2,
    )
    torch.manual_seed(seed)
    _save(folder, LlavaNextVideoForConditionalGeneration(config), tokenizer)
    frame_settings = {
        "do_resize": True, "size": {"shortest_edge": 56}, "resample": 3, "do_center_crop": True,
        "crop_size": {"height": 56, "width": 56}, "do_rescale": True, "rescale_factor": 1 / 255,
        "do_normalize": True, "image_mean": CLIP_MEAN, "image_std": CLIP_STD, "do_convert_rgb": True,
    }
    (folder / "video_preprocessor_config.json").write_text(
        json.dumps({**frame_settings, "video_processor_type": "LlavaNextVideoVideoProcessor"}, indent=1)
    )
    # The image config carries anyres settings (padding, pinpoints) that must not apply to frames.
    (folder / "preprocessor_config.json").write_text(json.dumps({
        **frame_settings, "do_pad": True, "image_grid_pinpoints": [[56, 56], [56, 112]],
        "size": {"shortest_edge": 112}, "image_processor_type": "LlavaNextImageProcessor",
    }, indent=1))
    return folder


def _whisper_features(folder: Path, mel_bins: int, seconds: int = 1) -> None:
    from transformers import WhisperFeatureExtractor

    # A window of `seconds`: 100 mel frames each.
    WhisperFeatureExtractor(feature_size=mel_bins, sampling_rate=16000, hop_length=160, chunk_length=seconds,
                            n_fft=400).save_pretrained(folder)


def build_tiny_qwen2_audio(folder: Path, seed: int = 0, hidden: int = HIDDEN, init: float = 0.02,
                           window: int = 1) -> Path:
    """Qwen2-Audio: Whisper-style encoder over a ``window``-second window (100 mel frames a second).

    ``hidden`` sets the width of both towers (2 heads each: vLLM's CPU attention needs
    ``hidden >= 64``); a large ``init`` spreads the language model's logits; vLLM takes
    only Whisper's own 30-second window.
    """
    import torch
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration

    specials = ["<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>"]
    tokenizer = tiny_tokenizer(specials)
    config = Qwen2AudioConfig(
        audio_config=dict(
            model_type="qwen2_audio_encoder", num_mel_bins=16, encoder_layers=2, encoder_attention_heads=2,
            encoder_ffn_dim=2 * hidden, d_model=hidden, max_source_positions=50 * window,
        ),
        text_config=dict(
            model_type="qwen2", vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
            num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
            initializer_range=init,
        ),
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"), pad_token_id=3,
    )
    torch.manual_seed(seed)
    _save(folder, Qwen2AudioForConditionalGeneration(config), tokenizer)
    _whisper_features(folder, 16, window)
    return folder


# A chat template in the OpenAI content format: a server passes the parts in the order they came.
QWEN2_AUDIO_TEMPLATE = (
    "{% for message in messages %}<|im_start|> {{ message['role'] }} : "
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'audio' %}<|audio_bos|> <|AUDIO|> <|audio_eos|> "
    "{% elif part['type'] == 'text' %}{{ part['text'] }} {% endif %}{% endfor %}{% endif %}<|im_end|> "
    "{% endfor %}{% if add_generation_prompt %}<|im_start|> assistant : {% endif %}"
)


def make_servable_qwen2_audio(folder: Path) -> Path:
    """Add what a server needs to a tiny Qwen2-Audio folder: the processor and a chat template."""
    from transformers import AutoTokenizer, Qwen2AudioProcessor, WhisperFeatureExtractor

    tokenizer = AutoTokenizer.from_pretrained(folder)
    processor = Qwen2AudioProcessor(feature_extractor=WhisperFeatureExtractor.from_pretrained(folder),
                                    tokenizer=tokenizer, chat_template=QWEN2_AUDIO_TEMPLATE)
    processor.save_pretrained(folder)
    tokenizer.chat_template = QWEN2_AUDIO_TEMPLATE
    tokenizer.save_pretrained(folder)
    return folder


def build_tiny_qwen2_5_omni(folder: Path, seed: int = 0) -> Path:
    """Qwen2.5-Omni thinker: 14-px patches merged 2x2, temporal patch 2, Whisper-style audio encoder."""
    import torch
    from transformers import Qwen2_5OmniThinkerConfig, Qwen2_5OmniThinkerForConditionalGeneration

    specials = [
        "<|im_start|>", "<|im_end|>", "<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>", "<|IMAGE|>", "<|VIDEO|>",
        "<|vision_bos|>", "<|vision_eos|>",
    ]
    tokenizer = tiny_tokenizer(specials)
    ids = tokenizer.convert_tokens_to_ids
    config = Qwen2_5OmniThinkerConfig(
        audio_config=dict(
            num_mel_bins=16, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=64, d_model=HIDDEN,
            max_source_positions=50, n_window=50, output_dim=HIDDEN,
        ),
        vision_config=dict(
            depth=1, hidden_size=HIDDEN, intermediate_size=64, num_heads=2, patch_size=14, spatial_merge_size=2,
            temporal_patch_size=2, window_size=56, out_hidden_size=HIDDEN, fullatt_block_indexes=[0],
        ),
        text_config=dict(
            vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=1024,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
        ),
        audio_token_index=ids("<|AUDIO|>"), image_token_index=ids("<|IMAGE|>"), video_token_index=ids("<|VIDEO|>"),
        audio_start_token_id=ids("<|audio_bos|>"), audio_end_token_id=ids("<|audio_eos|>"),
        vision_start_token_id=ids("<|vision_bos|>"), vision_end_token_id=ids("<|vision_eos|>"),
    )
    torch.manual_seed(seed)
    _save(folder, Qwen2_5OmniThinkerForConditionalGeneration(config), tokenizer)
    # One preprocessor_config.json for both, as the real checkpoint ships it.
    settings = {
        "image_processor_type": "Qwen2VLImageProcessor", "feature_extractor_type": "WhisperFeatureExtractor",
        "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2, "image_mean": CLIP_MEAN, "image_std": CLIP_STD,
        "min_pixels": 56 * 56, "max_pixels": 56 * 56 * 4, "feature_size": 16, "sampling_rate": 16000,
        "hop_length": 160, "chunk_length": 1, "n_fft": 400, "n_samples": 16000, "nb_max_frames": 100,
        "padding_value": 0.0, "return_attention_mask": True, "dither": 0.0,
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(settings, indent=1))
    return folder


TINY_BUILDERS: dict[str, Callable[[Path], Path]] = {
    "Video-LLaVA": build_tiny_video_llava,
    "LLaVA-NeXT-Video": build_tiny_llava_next_video,
    "Qwen2-Audio-7B-Instruct": build_tiny_qwen2_audio,
    "Qwen2.5-Omni": build_tiny_qwen2_5_omni,
}

# Extra adapter arguments for the tiny checkpoints (Omni: a 56x56 pixel budget per frame).
TINY_ADAPTER_KWARGS: dict[str, dict] = {
    "Qwen2.5-Omni": {"video_min_pixels": 56 * 56, "video_max_pixels": 56 * 56},
}

TEST_FRAMES = 8
TEST_AUDIO_SECONDS = 0.6  # 60 mel frames -> 30 after the conv -> 15 audio tokens

# Placeholder tokens the tiny models must see for tiny_message(): {token: count}.
EXPECTED_TOKENS: dict[str, dict[str, int]] = {
    "Video-LLaVA": {"<video>": TEST_FRAMES * (2 * 2 + 1)},
    "LLaVA-NeXT-Video": {"<video>": TEST_FRAMES * 2 * 2},
    "Qwen2-Audio-7B-Instruct": {"<|AUDIO|>": 15},
    # 8 frames -> 4 temporal groups of 4x4 patches, merged 2x2 -> 4 tokens each
    "Qwen2.5-Omni": {"<|VIDEO|>": 4 * 4, "<|AUDIO|>": 15},
}


def tiny_message(
    name: str = "sample_0001", frames: int = TEST_FRAMES, audio_seconds: float = TEST_AUDIO_SECONDS,
    seed: int = 0, text: str = "watch the person and describe their emotional state",
) -> Chat:
    """A message with random RGB frames (48x64, not square on purpose) and a 16 kHz tone."""
    rng = np.random.default_rng(seed)
    video = rng.integers(0, 256, size=(frames, 48, 64, 3), dtype=np.uint8)
    t = np.arange(int(audio_seconds * 16000)) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return Chat.user(
        (
            TextPart(text),
            VideoPart(frames=video, timestamps=tuple(i * 0.5 for i in range(frames)), source=f"{name}.mp4"),
            AudioPart(waveform=audio, source=f"{name}.wav"),
        ),
        system="you are an expert",
        name=name,
    )
