"""Published architectures, shipped as configuration values so no download is needed to build them.

A *preset* is a short name for a model: its configuration (exactly as published on the Hugging Face hub)
and the hub repository its pretrained weights come from. `tiny` presets keep the same classes and the same
convolution strides at a toy width, for tests and quick demos. Parameter counts depend only on these values,
which is why counting never needs the weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# How a model's weights are filled (see src/loading.py): the real ones, seeded random ones, or the first
# available of the two.
WEIGHT_POLICIES = ("auto", "pretrained", "random")

# HuBERT-XLarge's preprocessor_config.json (Wav2Vec2FeatureExtractor).
FEATURE_EXTRACTOR = {
    "feature_size": 1,
    "sampling_rate": 16_000,
    "padding_value": 0.0,
    "do_normalize": True,
    "return_attention_mask": True,
}

# HuBERT's CNN feature encoder, as every published HuBERT config.json states it: 7 convolutions with these
# kernels and strides. src/audio.py derives the frame arithmetic from them (stride 320, receptive field 400).
HUBERT_CONV_KERNEL = (10, 3, 3, 3, 3, 2, 2)
HUBERT_CONV_STRIDE = (5, 2, 2, 2, 2, 2, 2)

# What every HuBERT shares: those kernels and strides (so the same frame formula; not the same CNN: Base has
# no conv bias and uses group norm, Large and XLarge have conv bias and layer norm) and the convolutional
# relative position embedding (kernel 128, 16 groups).
_HUBERT_COMMON = {
    "model_type": "hubert",
    "conv_dim": [512] * 7,
    "conv_kernel": list(HUBERT_CONV_KERNEL),
    "conv_stride": list(HUBERT_CONV_STRIDE),
    "num_feat_extract_layers": 7,
    "num_conv_pos_embeddings": 128,
    "num_conv_pos_embedding_groups": 16,
    "feat_extract_activation": "gelu",
    "hidden_act": "gelu",
    "layer_norm_eps": 1e-5,
    "feat_proj_layer_norm": True,
    "mask_time_prob": 0.05,
    "mask_time_length": 10,
    "mask_feature_prob": 0.0,
    "initializer_range": 0.02,
    "vocab_size": 32,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
}
# Large and XLarge: pre-layer-norm transformer ("stable layer norm"), layer-normed CNN with biases.
_HUBERT_LARGE_FAMILY = {
    **_HUBERT_COMMON,
    "conv_bias": True,
    "feat_extract_norm": "layer",
    "do_stable_layer_norm": True,
    "hidden_dropout": 0.1,
    "attention_dropout": 0.1,
    "activation_dropout": 0.1,
    "feat_proj_dropout": 0.1,
    "final_dropout": 0.1,
    "layerdrop": 0.1,
}

# Qwen3's shared tokenizer ids and settings.
_QWEN3_COMMON = {
    "model_type": "qwen3",
    "vocab_size": 151_936,
    "head_dim": 128,
    "hidden_act": "silu",
    "rms_norm_eps": 1e-6,
    "rope_theta": 1_000_000.0,
    "max_position_embeddings": 40_960,
    "attention_bias": False,
    "attention_dropout": 0.0,
    "use_sliding_window": False,
    "bos_token_id": 151_643,
    "eos_token_id": 151_645,
    "initializer_range": 0.02,
}

# A character-level vocabulary for the tiny decoder (its tokenizer is built in code: src/loading.py).
TINY_SPECIAL_TOKENS = ("<pad>", "<eos>", "<unk>")
TINY_CHARACTERS = "".join(chr(c) for c in range(32, 127)) + "\n"


@dataclass(frozen=True)
class Preset:
    """A model's published configuration and where its pretrained weights live."""

    name: str
    hub_id: str | None  # None: no pretrained weights exist (tiny presets)
    config: dict = field(repr=False)
    description: str = ""
    revision: str = "main"  # the branch or ref of hub_id that holds model.safetensors


ENCODER_PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "hubert-xlarge-ls960-ft",
            "facebook/hubert-xlarge-ls960-ft",
            {**_HUBERT_LARGE_FAMILY, "hidden_size": 1280, "num_hidden_layers": 48,
             "num_attention_heads": 16, "intermediate_size": 5120},
            "HuBERT-XLarge, 48 layers x 1280, Libri-Light 60k h + CTC fine-tuning on LibriSpeech 960 h",
        ),
        Preset(
            "hubert-large-ls960-ft",
            "facebook/hubert-large-ls960-ft",
            {**_HUBERT_LARGE_FAMILY, "hidden_size": 1024, "num_hidden_layers": 24,
             "num_attention_heads": 16, "intermediate_size": 4096},
            "HuBERT-Large, 24 layers x 1024",
            # main has only pytorch_model.bin; the hub's safetensors conversion is pull request #1 (refs/pr/1)
            revision="refs/pr/1",
        ),
        Preset(
            "hubert-base-ls960",
            "facebook/hubert-base-ls960",
            {**_HUBERT_COMMON, "conv_bias": False, "feat_extract_norm": "group", "do_stable_layer_norm": False,
             "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
             "hidden_dropout": 0.1, "attention_dropout": 0.1, "activation_dropout": 0.0,
             "feat_proj_dropout": 0.1, "final_dropout": 0.1, "layerdrop": 0.1},
            "HuBERT-Base, 12 layers x 768, pre-trained on LibriSpeech 960 h (no fine-tuning)",
            # main has only pytorch_model.bin; the hub's safetensors conversion is pull request #2 (refs/pr/2)
            revision="refs/pr/2",
        ),
        Preset(
            "tiny",
            None,
            # Same CNN strides and kernels (so the frame formula holds), toy widths, no dropout.
            {**_HUBERT_COMMON, "conv_dim": [32] * 7, "conv_bias": True, "feat_extract_norm": "layer",
             "do_stable_layer_norm": True, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
             "intermediate_size": 64, "num_conv_pos_embeddings": 16, "num_conv_pos_embedding_groups": 4,
             "hidden_dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0,
             "feat_proj_dropout": 0.0, "final_dropout": 0.0, "layerdrop": 0.0, "mask_time_prob": 0.0},
            "a 2-layer, 32-wide HuBERT for tests and demos (random weights only)",
        ),
    ]
}

DECODER_PRESETS: dict[str, Preset] = {
    p.name: p
    for p in [
        Preset(
            "qwen3-8b",
            "Qwen/Qwen3-8B",
            {**_QWEN3_COMMON, "hidden_size": 4096, "intermediate_size": 12_288, "num_hidden_layers": 36,
             "num_attention_heads": 32, "num_key_value_heads": 8, "max_window_layers": 36,
             "tie_word_embeddings": False},
            "Qwen3-8B, 36 layers x 4096, untied output head",
        ),
        Preset(
            "qwen3-1.7b",
            "Qwen/Qwen3-1.7B",
            {**_QWEN3_COMMON, "hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 28,
             "num_attention_heads": 16, "num_key_value_heads": 8, "max_window_layers": 28,
             "tie_word_embeddings": True},
            "Qwen3-1.7B, 28 layers x 2048, tied embeddings",
        ),
        Preset(
            "qwen3-0.6b",
            "Qwen/Qwen3-0.6B",
            {**_QWEN3_COMMON, "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 28,
             "num_attention_heads": 16, "num_key_value_heads": 8, "max_window_layers": 28,
             "tie_word_embeddings": True},
            "Qwen3-0.6B, 28 layers x 1024, tied embeddings",
        ),
        Preset(
            "smollm3-3b",
            "HuggingFaceTB/SmolLM3-3B",
            {"model_type": "smollm3", "vocab_size": 128_256, "hidden_size": 2048, "intermediate_size": 11_008,
             "num_hidden_layers": 36, "num_attention_heads": 16, "num_key_value_heads": 4,
             "hidden_act": "silu", "rms_norm_eps": 1e-6, "rope_theta": 5_000_000.0,
             "max_position_embeddings": 65_536, "no_rope_layer_interval": 4, "attention_bias": False,
             "mlp_bias": False, "tie_word_embeddings": True, "bos_token_id": 128_000,
             "eos_token_id": 128_012, "pad_token_id": 128_004, "initializer_range": 0.02},
            "SmolLM3-3B, 36 layers x 2048, tied embeddings",
        ),
        Preset(
            "tiny",
            None,
            {**_QWEN3_COMMON, "vocab_size": len(TINY_SPECIAL_TOKENS) + len(TINY_CHARACTERS),
             "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "head_dim": 16, "max_window_layers": 2, "tie_word_embeddings": False,
             "max_position_embeddings": 2048, "bos_token_id": None, "pad_token_id": 0, "eos_token_id": 1,
             # A wider init than 0.02: a 64-wide frozen head needs it to be able to reach confident logits.
             "initializer_range": 0.2},
            "a 2-layer, 64-wide Qwen3 with a character tokenizer, for tests and demos (random weights only)",
        ),
    ]
}


def _find(name: str, presets: dict[str, Preset]) -> Preset | None:
    """A preset by short name or by its hub id (case-insensitive)."""
    key = name.strip().lower()
    for preset in presets.values():
        if key == preset.name or (preset.hub_id and key == preset.hub_id.lower()):
            return preset
    return None


def find_encoder_preset(name: str) -> Preset | None:
    return _find(name, ENCODER_PRESETS)


def find_decoder_preset(name: str) -> Preset | None:
    return _find(name, DECODER_PRESETS)
