"""Full-size parameter counts, taken on the meta device (no weights, no network), against closed-form
formulas written out here and against the figures in the class-2 specification."""

import pytest
import torch

from src.asr_config import ASRConfig
from src.asr_modeling import ASRModel
from src.lora import count_parameters, parameter_summary
from src.presets import DECODER_PRESETS, ENCODER_PRESETS


def hubert_formula(c: dict) -> int:
    """HubertModel: CNN feature encoder, feature projection, masked-frame embedding, pos-conv, transformer."""
    h, ff, layers = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    conv, in_ch = 0, 1
    for i, (out_ch, k) in enumerate(zip(c["conv_dim"], c["conv_kernel"])):
        conv += out_ch * in_ch * k + (out_ch if c["conv_bias"] else 0)
        if c["feat_extract_norm"] == "layer" or i == 0:  # layer norm on every conv, or group norm on the first
            conv += 2 * out_ch
        in_ch = out_ch
    projection = 2 * in_ch + in_ch * h + h  # LayerNorm(512) + Linear(512 -> h)
    masked_spec_embed = h
    groups, kernel = c["num_conv_pos_embedding_groups"], c["num_conv_pos_embeddings"]
    pos_conv = h * (h // groups) * kernel + kernel + h  # weight v, weight-norm g (dim=2), bias
    per_layer = 4 * (h * h + h) + 2 * 2 * h + (h * ff + ff) + (ff * h + h)
    return conv + projection + masked_spec_embed + pos_conv + 2 * h + layers * per_layer


def decoder_formula(c: dict) -> int:
    """Qwen3 / SmolLM3 causal LM: embeddings, attention with GQA (+ q/k norms in Qwen3), SwiGLU MLP, norms."""
    h, ff, layers, vocab = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"], c["vocab_size"]
    head_dim = c.get("head_dim") or h // c["num_attention_heads"]
    q, kv = c["num_attention_heads"] * head_dim, c["num_key_value_heads"] * head_dim
    qk_norm = 2 * head_dim if c["model_type"] == "qwen3" else 0
    per_layer = h * q + 2 * h * kv + q * h + qk_norm + 3 * h * ff + 2 * h
    head = 0 if c["tie_word_embeddings"] else vocab * h
    return vocab * h + layers * per_layer + h + head


def projector_formula(enc: int, dec: int, stack: int = 5, hidden: int = 8192) -> int:
    return 2 * (enc * stack) * hidden + hidden * dec + enc * stack + dec


def lora_formula(rank: int, shapes: list[tuple[int, int]], layers: int) -> int:
    """A (r x in) + B (out x r) per adapted matrix, per layer."""
    return layers * sum(rank * (fan_in + fan_out) for fan_in, fan_out in shapes)


def meta_model(**config) -> ASRModel:
    with torch.device("meta"):
        return ASRModel(ASRConfig(**config))


@pytest.mark.parametrize("name, expected", [
    ("hubert-xlarge-ls960-ft", 962_497_408),
    ("hubert-large-ls960-ft", 315_438_720),
    ("hubert-base-ls960", 94_371_712),
])
def test_hubert_sizes(name, expected):
    from transformers import HubertConfig, HubertModel

    config = dict(ENCODER_PRESETS[name].config)
    config.pop("model_type")
    with torch.device("meta"):
        model = HubertModel(HubertConfig(**config))
    assert count_parameters(model).total == hubert_formula(ENCODER_PRESETS[name].config) == expected


@pytest.mark.parametrize("name, expected", [
    ("qwen3-8b", 8_190_735_360),
    ("qwen3-1.7b", 1_720_574_976),
    ("qwen3-0.6b", 596_049_920),
    ("smollm3-3b", 3_075_098_624),
])
def test_decoder_sizes(name, expected):
    from transformers import AutoConfig, AutoModelForCausalLM

    config = dict(DECODER_PRESETS[name].config)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(AutoConfig.for_model(config.pop("model_type"), **config))
    assert count_parameters(model).total == decoder_formula(DECODER_PRESETS[name].config) == expected


def test_default_model_budget_matches_spec():
    model = meta_model()
    s = parameter_summary(model)
    xl, q8 = ENCODER_PRESETS["hubert-xlarge-ls960-ft"].config, DECODER_PRESETS["qwen3-8b"].config

    encoder_lora = lora_formula(8, [(1280, 1280), (1280, 1280)], 48)
    decoder_lora = lora_formula(8, [(4096, 4096), (4096, 1024)], 36)
    assert encoder_lora == 1_966_080
    assert decoder_lora == 3_833_856
    assert projector_formula(1280, 4096) == 138_422_528

    assert (s["encoder"].total, s["encoder"].trainable) == (hubert_formula(xl) + encoder_lora, encoder_lora)
    assert (s["encoder"].total, s["encoder"].frozen) == (964_463_488, 962_497_408)
    assert (s["projector"].total, s["projector"].trainable) == (138_422_528, 138_422_528)
    assert (s["decoder"].total, s["decoder"].trainable) == (decoder_formula(q8) + decoder_lora, decoder_lora)
    assert (s["decoder"].total, s["decoder"].frozen) == (8_194_569_216, 8_190_735_360)
    assert (s["overall"].total, s["overall"].trainable) == (9_297_455_232, 144_222_464)
    assert round(s["overall"].trainable_percent, 2) == 1.55
    assert round(s["encoder"].trainable_percent, 2) == 0.20


def test_summary_agrees_with_peft():
    model = meta_model()
    s = parameter_summary(model)
    assert model.encoder.model.get_nb_trainable_parameters() == (s["encoder"].trainable, s["encoder"].total)
    assert model.decoder.model.get_nb_trainable_parameters() == (s["decoder"].trainable, s["decoder"].total)


def test_smollm3_with_rank_64_reproduces_published_trainable_figures():
    model = meta_model(decoder="smollm3-3b", decoder_lora_rank=64)
    s = parameter_summary(model)
    assert s["projector"].trainable == projector_formula(1280, 2048) == 121_643_264
    assert s["decoder"].trainable == lora_formula(64, [(2048, 2048), (2048, 512)], 36) == 15_335_424
    assert s["encoder"].trainable == 1_966_080
    assert s["overall"].trainable == 138_944_768


def test_projector_width_follows_the_decoder():
    assert parameter_summary(meta_model(decoder="qwen3-1.7b"))["projector"].total == 121_643_264


def test_rank_zero_means_no_adapters():
    s = parameter_summary(meta_model(encoder_lora_rank=0, decoder_lora_rank=0))
    assert s["encoder"].trainable == s["decoder"].trainable == 0
    assert s["overall"].trainable == 138_422_528
