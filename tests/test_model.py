"""The model package on tiny configurations: frames, LoRA, gradients, loss masking, overfitting, generate,
save/load and the weights policy. All offline and fast."""

import copy

import pytest
import torch
import torch.nn.functional as F
from transformers import HubertModel

from src.asr_config import ASRConfig
from src.asr_modeling import IGNORE_INDEX, ASRModel, AudioProjector, build_asr_model
from src.audio import HUBERT_RECEPTIVE_FIELD, HUBERT_STRIDE, conv_output_frames, predicted_frames
from src.encoder import AudioEncoder, RunningStats, encode_in_windows, load_encoder, window_samples
from src.errors import AudioError, ModelNotFoundError, WeightsUnavailableError
from src.lora import LoraSettings
from src.loading import ModelSource, load_model, random_model, resolve_encoder

TEXT = "hello tiny audio"


@pytest.fixture(scope="module")
def tiny_hubert_config():
    return resolve_encoder("tiny").config


@pytest.fixture
def tiny_model():
    model, _ = build_asr_model(ASRConfig.tiny())
    return model


def test_frame_formula_matches_the_convolutions(tiny_hubert_config):
    """The closed form, the layer-by-layer count and transformers' own count agree; 320 and 400 are derived
    from the published config's kernels and strides."""
    assert (HUBERT_STRIDE, HUBERT_RECEPTIVE_FIELD) == (320, 400)
    lengths = torch.arange(0, 5000, 7)
    hf_counts = HubertModel._get_feat_extract_output_lengths(HubertModel(tiny_hubert_config), lengths)
    for n, hf in zip(lengths.tolist(), hf_counts.tolist()):
        assert predicted_frames(n) == conv_output_frames(n) == max(hf, 0)
    assert (predicted_frames(48_000), predicted_frames(16_000), predicted_frames(400)) == (149, 49, 1)
    assert predicted_frames(399) == 0


@pytest.mark.parametrize("num_samples", [400, 401, 719, 720, 1_000, 16_000, 48_000, 48_321])
def test_encoder_output_frames(num_samples):
    encoder, _ = load_encoder("tiny", weights="random")
    with torch.no_grad():
        hidden, mask = encoder(torch.randn(1, num_samples))
    expected = (num_samples - 400) // 320 + 1
    assert hidden.shape == (1, expected, 32)
    assert mask.all()


def test_too_short_audio_fails_clearly():
    encoder, _ = load_encoder("tiny", weights="random")
    with pytest.raises(AudioError, match="at least 400 samples"):
        encoder(torch.randn(1, 399))


def test_fresh_lora_encoder_equals_base_model(tiny_hubert_config):
    base = random_model(HubertModel, tiny_hubert_config, seed=3)
    adapted = AudioEncoder(copy.deepcopy(base), LoraSettings(rank=8, alpha=8, targets=["q_proj", "k_proj"]))
    assert sum("lora_" in n for n, _ in adapted.named_parameters()) == 2 * 2 * 2  # A and B, q and k, 2 layers
    x = torch.randn(2, 8_000)
    with torch.no_grad():
        torch.testing.assert_close(adapted(x)[0], base(x).last_hidden_state)


def test_random_weights_are_seeded_and_finite(tiny_hubert_config):
    a, b = random_model(HubertModel, tiny_hubert_config, 0), random_model(HubertModel, tiny_hubert_config, 0)
    c = random_model(HubertModel, tiny_hubert_config, 1)
    for (name, pa), pb, pc in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.isfinite(pa).all(), name
        assert torch.equal(pa, pb), name
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))
    pos_weight = a.encoder.pos_conv_embed.conv.weight
    assert torch.isfinite(pos_weight).all() and pos_weight.abs().sum() > 0


def test_projector_stacks_five_frames_and_ignores_padding():
    projector = AudioProjector(encoder_dim=8, decoder_dim=6, stack=5, hidden_size=16)
    for frames in [1, 4, 5, 6, 149, 150]:
        out, step_mask = projector(torch.randn(2, frames, 8), torch.ones(2, frames, dtype=torch.bool))
        assert out.shape == (2, -(-frames // 5), 6) and step_mask.all()
    frames, mask = torch.randn(1, 12, 8), torch.ones(1, 12, dtype=torch.bool)
    mask[0, 7:] = False  # frames 7..11 are padding
    out, step_mask = projector(frames, mask)
    noisy = frames.clone()
    noisy[0, 7:] = 1e3  # whatever padding holds must not matter
    out_noisy, _ = projector(noisy, mask)
    assert step_mask.tolist() == [[True, True, False]]
    torch.testing.assert_close(out[:, :2], out_noisy[:, :2])


def test_only_adapters_and_projector_receive_gradients(tiny_model):
    tiny_model.train()
    labels = tiny_model.tokenize_transcripts([TEXT])
    tiny_model(torch.randn(1, 16_000), labels=labels).loss.backward()
    for name, param in tiny_model.named_parameters():
        trainable = "lora_" in name or name.startswith("projector.")
        assert param.requires_grad == trainable, name
        assert (param.grad is not None) == trainable, name


def test_loss_counts_only_transcript_tokens(tiny_model):
    audio = torch.randn(1, 16_000)
    labels = tiny_model.tokenize_transcripts([TEXT])
    steps, step_mask = tiny_model.encode_audio(audio)
    embeds, mask, full_labels = tiny_model._splice(steps, step_mask, labels)
    before, after = tiny_model._prompt_ids()
    masked = len(before) + steps.shape[1] + len(after)
    assert (full_labels[0, :masked] == IGNORE_INDEX).all()
    assert full_labels[0, masked:].tolist() == labels[0].tolist()
    assert labels[0, -1] == tiny_model.tokenizer.eos_token_id

    out = tiny_model(audio, labels=labels)
    manual = F.cross_entropy(out.logits[0, :-1], full_labels[0, 1:], ignore_index=IGNORE_INDEX)
    assert torch.isfinite(out.loss)
    torch.testing.assert_close(out.loss, manual)


def test_overfitting_one_pair_then_generate_returns_it(tiny_model):
    torch.manual_seed(0)
    audio = torch.randn(1, 16_000)
    labels = tiny_model.tokenize_transcripts([TEXT])
    trainable = [p for p in tiny_model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(trainable, lr=3e-3)
    tiny_model.train()
    first = None
    for _ in range(200):
        loss = tiny_model(audio, labels=labels).loss
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    tiny_model.eval()
    final = tiny_model(audio, labels=labels).loss.item()
    assert first > 3.0 and final < 0.05
    assert tiny_model.generate(audio, max_new_tokens=40) == [TEXT]


def test_batched_generate_matches_one_by_one(tiny_model):
    short, long = torch.randn(1, 9_000), torch.randn(1, 16_000)
    batch = torch.zeros(2, 16_000)
    batch[0, :9_000], batch[1] = short[0], long[0]
    mask = torch.zeros(2, 16_000, dtype=torch.long)
    mask[0, :9_000], mask[1] = 1, 1
    together = tiny_model.generate(batch, attention_mask=mask, max_new_tokens=12)
    alone = tiny_model.generate(short, max_new_tokens=12) + tiny_model.generate(long, max_new_tokens=12)
    assert together == alone


def test_save_and_reload_reproduces_outputs(tiny_model, tmp_path):
    tiny_model.eval()
    tiny_model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file() and not list(tmp_path.glob("*.bin"))
    reloaded = ASRModel.from_pretrained(tmp_path).eval()
    audio = torch.randn(1, 12_000)
    labels = tiny_model.tokenize_transcripts([TEXT])
    with torch.no_grad():
        torch.testing.assert_close(reloaded(audio, labels=labels).logits, tiny_model(audio, labels=labels).logits)
    assert reloaded.generate(audio, max_new_tokens=10) == tiny_model.generate(audio, max_new_tokens=10)


def test_config_round_trips_offline(tmp_path):
    config = ASRConfig(decoder="smollm3-3b", decoder_lora_rank=64, prompt="Say: <audio>")
    config.save_pretrained(tmp_path)
    from transformers import AutoConfig

    reloaded = AutoConfig.from_pretrained(tmp_path)
    assert isinstance(reloaded, ASRConfig)
    without_path = lambda c: {k: v for k, v in c.to_dict().items() if k != "_name_or_path"}  # noqa: E731
    assert without_path(reloaded) == without_path(config)
    assert reloaded.decoder_config.hidden_size == 2048 and reloaded.decoder_lora_rank == 64


def test_default_config_is_the_course_model():
    c = ASRConfig()
    assert (c.encoder_config.hidden_size, c.encoder_config.num_hidden_layers) == (1280, 48)
    assert (c.decoder_config.hidden_size, c.decoder_config.num_hidden_layers) == (4096, 36)
    assert (c.projector_stack, c.projector_hidden_size, c.sampling_rate) == (5, 8192, 16_000)
    assert (c.encoder_lora_rank, c.encoder_lora_alpha, c.encoder_lora_targets) == (8, 8, ["q_proj", "k_proj"])
    assert (c.decoder_lora_rank, c.decoder_lora_alpha, c.decoder_lora_targets) == (8, 32, ["q_proj", "v_proj"])


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="rank"):
        ASRConfig.tiny(encoder_lora_rank=-1)
    with pytest.raises(ValueError, match="<audio>"):
        ASRConfig.tiny(prompt="no placeholder")
    with pytest.raises(ModelNotFoundError, match="unknown encoder 'hubert-huge'"):
        ASRConfig(encoder="hubert-huge")


# ----- weights policy ----------------------------------------------------------------------------------
@pytest.fixture
def uncached_source(tiny_hubert_config):
    """A hub id that is not in the cache, with the tiny architecture so the fallback is cheap to build."""
    return ModelSource("hubert-test", tiny_hubert_config, "facebook/hubert-base-ls960")


def test_pretrained_policy_fails_clearly_offline(uncached_source):
    with pytest.raises(WeightsUnavailableError, match="unavailable .*offline.*internet access"):
        load_model(uncached_source, HubertModel, weights="pretrained")


def test_auto_policy_falls_back_to_random_with_a_warning(uncached_source):
    warnings = []
    model, info = load_model(uncached_source, HubertModel, weights="auto", on_warning=warnings.append)
    assert info.is_random and "RANDOM" in info.description
    assert len(warnings) == 1 and "RANDOM weights" in warnings[0] and "internet access" in warnings[0]
    assert "\n" not in warnings[0]


def test_random_policy_never_warns(uncached_source):
    warnings = []
    _, info = load_model(uncached_source, HubertModel, weights="random", on_warning=warnings.append)
    assert info.is_random and warnings == []


def test_local_safetensors_directory_loads_as_pretrained(tiny_hubert_config, tmp_path):
    saved = random_model(HubertModel, tiny_hubert_config, seed=7)
    saved.save_pretrained(tmp_path)
    encoder, info = load_encoder(str(tmp_path), weights="pretrained")
    assert info.kind == "pretrained" and str(tmp_path) in info.description
    x = torch.randn(1, 4_000)
    with torch.no_grad():
        torch.testing.assert_close(encoder(x)[0], saved(x).last_hidden_state)


def test_published_ctc_checkpoint_loads_into_the_encoder(tiny_hubert_config, tmp_path, capsys):
    """facebook/hubert-*-ft are HubertForCTC checkpoints: the encoder takes their `hubert.*` weights."""
    from transformers import HubertForCTC

    checkpoint = random_model(HubertForCTC, tiny_hubert_config, seed=5)
    checkpoint.save_pretrained(tmp_path)
    encoder, info = load_encoder(str(tmp_path), weights="pretrained")
    assert info.kind == "pretrained"
    assert "UNEXPECTED" not in capsys.readouterr().err  # the dropped CTC head is not reported as a problem
    x = torch.randn(1, 4_000)
    with torch.no_grad():
        torch.testing.assert_close(encoder(x)[0], checkpoint.hubert(x).last_hidden_state)


def test_pickled_checkpoints_are_not_loaded(tiny_hubert_config, tmp_path):
    saved = random_model(HubertModel, tiny_hubert_config, seed=7)
    saved.config.save_pretrained(tmp_path)
    torch.save(saved.state_dict(), tmp_path / "pytorch_model.bin")
    with pytest.raises(WeightsUnavailableError):
        load_encoder(str(tmp_path), weights="pretrained")


def test_windowed_encoding_gives_the_frames_of_one_pass_and_running_stats_are_exact():
    """Windows every W samples reading 80 more give floor((N - 400) / 320) + 1 frames in all, and the streamed
    statistics equal those of the concatenated frames."""
    encoder, _ = load_encoder("tiny", weights="random")
    for n in [400, 719, 720, 16_000, 16_400, 33_000]:
        audio = torch.randn(1, n)
        windows = list(encode_in_windows(encoder, audio, window_samples(0.5)))  # 8,000-sample windows
        frames = torch.cat(windows, dim=1)
        assert frames.shape[1] == predicted_frames(n), n
        stats = RunningStats()
        for window in windows:
            stats.add(window)
        assert (stats.count, stats.min, stats.max) == (frames.numel(), frames.min().item(), frames.max().item())
        assert stats.mean == pytest.approx(frames.double().mean().item(), abs=1e-9)
        assert stats.std == pytest.approx(frames.double().std(correction=0).item(), rel=1e-6)
    with pytest.raises(ValueError, match="multiple of 320"):
        next(encode_in_windows(encoder, torch.randn(1, 16_000), 1_000))


def test_half_precision_encoder_stays_close_to_float32():
    """--dtype bfloat16 halves the memory; its embeddings stay within a few percent of float32's."""
    full, _ = load_encoder("tiny", weights="random")
    half, _ = load_encoder("tiny", weights="random", dtype=torch.bfloat16)
    assert {p.dtype for p in half.parameters()} == {torch.bfloat16}
    for (name, a), b in zip(full.named_parameters(), half.parameters()):  # the same draws, rounded
        if a.dim() == 2 and "lora" not in name:
            assert torch.equal(a.to(torch.bfloat16), b), name
    x = torch.randn(1, 16_000)
    with torch.no_grad():
        a, b = full(x)[0], half(x)[0].float()
    assert (a - b).abs().max() < 0.1 * a.abs().max()
    assert torch.nn.functional.cosine_similarity(a, b, dim=-1).min() > 0.99
