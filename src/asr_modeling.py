"""`ASRModel`: HuBERT encoder -> SwiGLU projector -> Qwen3 decoder, trained through LoRA and the projector.

    waveform [B, N] --encoder--> frames [B, T, 1280] --projector--> audio embeddings [B, ceil(T/5), 4096]
    prompt embeddings + audio embeddings + transcript embeddings --decoder--> next-token logits

The audio embeddings are spliced into the prompt's input embeddings in place of ``<audio>``, so the
decoder's vocabulary is never resized and it keeps its published parameter count. The encoder lives in
`src/encoder.py`; the projector, the decoder and the composed model live here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoModel, AutoModelForCausalLM, HubertModel, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from src.asr_config import AUDIO_PLACEHOLDER, ASRConfig
from src.encoder import AudioEncoder
from src.lora import LoraSettings, LoraWrapped
from src.loading import WeightsInfo, load_model, load_tokenizer, print_warning, resolve_decoder, resolve_encoder

IGNORE_INDEX = -100  # label value the loss skips (prompt, audio and padding positions)


class AudioProjector(nn.Module):
    """Bridge 1280-dim audio frames to the decoder's embedding space (4096 for Qwen3-8B).

    Stack 5 consecutive frames (20 ms each -> one 100 ms step, 1280 -> 6400 features), RMSNorm, a SwiGLU
    MLP (6400 -> 8192 -> decoder width) and a final RMSNorm so the audio matches the text embeddings' scale.
    """

    def __init__(self, encoder_dim: int, decoder_dim: int, stack: int = 5, hidden_size: int = 8192,
                 eps: float = 1e-6):
        super().__init__()
        self.stack = stack
        stacked_dim = encoder_dim * stack
        self.norm_in = nn.RMSNorm(stacked_dim, eps=eps)
        self.gate_proj = nn.Linear(stacked_dim, hidden_size, bias=False)
        self.up_proj = nn.Linear(stacked_dim, hidden_size, bias=False)
        self.down_proj = nn.Linear(hidden_size, decoder_dim, bias=False)
        self.norm_out = nn.RMSNorm(decoder_dim, eps=eps)

    def forward(self, frames: torch.Tensor, frame_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """frames [B, T, E], frame_mask [B, T] (True = real audio) -> steps [B, S, D], step_mask [B, S]."""
        frames = frames * frame_mask.unsqueeze(-1).to(frames.dtype)  # padded frames carry zeros, not noise
        pad = -frames.shape[1] % self.stack  # pad T up to a multiple of 5
        frames = F.pad(frames, (0, 0, 0, pad))
        frame_mask = F.pad(frame_mask, (0, pad), value=False)
        batch, length, dim = frames.shape
        steps = frames.reshape(batch, length // self.stack, dim * self.stack)  # [B, S, 5E]
        step_mask = frame_mask.reshape(batch, -1, self.stack).any(-1)  # a step is real if any frame is
        x = self.norm_in(steps)
        x = self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))  # SwiGLU
        return self.norm_out(x), step_mask


class TextDecoder(LoraWrapped):
    """A causal LM (Qwen3) with LoRA adapters (frozen base). It reads input *embeddings*, so audio can be
    spliced in between the prompt's tokens."""

    def __init__(self, lm: PreTrainedModel, lora: LoraSettings | None = None):
        super().__init__(lm, lora, task_type="CAUSAL_LM")

    @property
    def lm(self) -> PreTrainedModel:
        return self.base

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Token ids [..., L] -> embeddings [..., L, D] from the decoder's own (frozen) embedding table."""
        return self.lm.get_input_embeddings()(input_ids)

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor | None = None) -> CausalLMOutputWithPast:
        return self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask, labels=labels)

    def generate(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor, **kwargs) -> torch.Tensor:
        """Greedy/sampled continuation of left-padded embeddings; returns only the new token ids [B, L]."""
        return self.model.generate(inputs_embeds=inputs_embeds, attention_mask=attention_mask, **kwargs)


def _mark_lora_initialized(module: nn.Module) -> None:
    """peft already initialised the adapters (A random, B zero); stop transformers from re-drawing them."""
    for name, sub in module.named_modules():
        if "lora_" in name:
            sub._is_hf_initialized = True


class ASRModel(PreTrainedModel):
    """Speech recogniser: ``.encoder`` (HuBERT + LoRA), ``.projector`` (SwiGLU), ``.decoder`` (LM + LoRA).

    ``ASRModel(config)`` builds the architecture (inside ``with torch.device("meta"):`` it holds no weights,
    which is how parameters are counted); `build_asr_model` fills it with pretrained or random weights;
    ``ASRModel.from_pretrained(directory)`` reloads a saved model.
    """

    config_class = ASRConfig
    config: ASRConfig
    base_model_prefix = "asr"
    main_input_name = "input_values"
    _supports_sdpa = True

    def __init__(self, config: ASRConfig, base_encoder: HubertModel | None = None,
                 base_decoder: PreTrainedModel | None = None):
        super().__init__(config)
        hubert = base_encoder if base_encoder is not None else HubertModel(config.encoder_config)
        lm = base_decoder if base_decoder is not None else AutoModelForCausalLM.from_config(config.decoder_config)
        self.encoder = AudioEncoder(hubert, config.encoder_lora)
        self.projector = AudioProjector(
            encoder_dim=hubert.config.hidden_size,
            decoder_dim=lm.config.hidden_size,
            stack=config.projector_stack,
            hidden_size=config.projector_hidden_size,
            eps=config.projector_norm_eps,
        )
        self.decoder = TextDecoder(lm, config.decoder_lora)
        _mark_lora_initialized(self)
        self._tokenizer = None
        self.post_init()

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        """Initialise the projector (the only part ASRModel owns): small normal weights, unit norms."""
        from transformers import initialization as init

        if isinstance(module, nn.Linear):
            init.normal_(module.weight, mean=0.0, std=0.02)
        elif isinstance(module, nn.RMSNorm):
            init.ones_(module.weight)

    # ----- text side -------------------------------------------------------------------------------------
    @property
    def tokenizer(self):
        """The decoder's tokenizer (built in code for the tiny preset, loaded for real decoders)."""
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.config.decoder)
        return self._tokenizer

    @tokenizer.setter
    def tokenizer(self, tokenizer) -> None:
        self._tokenizer = tokenizer

    def _prompt_ids(self) -> tuple[list[int], list[int]]:
        """Token ids of the prompt before and after the ``<audio>`` placeholder."""
        before, after = self.config.prompt.split(AUDIO_PLACEHOLDER)
        encode = lambda text: self.tokenizer(text, add_special_tokens=False).input_ids  # noqa: E731
        return encode(before), encode(after)

    def tokenize_transcripts(self, texts: list[str]) -> torch.Tensor:
        """Transcripts -> label ids [B, L]: the text's tokens then end-of-sequence, padded with -100."""
        tok = self.tokenizer
        rows = [tok(text, add_special_tokens=False).input_ids + [tok.eos_token_id] for text in texts]
        labels = torch.full((len(rows), max(map(len, rows))), IGNORE_INDEX, dtype=torch.long)
        for i, row in enumerate(rows):
            labels[i, : len(row)] = torch.tensor(row)
        return labels

    # ----- audio side ------------------------------------------------------------------------------------
    def encode_audio(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised audio [B, N] -> audio embeddings [B, S, D] in the decoder's space, and step_mask [B, S]."""
        frames, frame_mask = self.encoder(input_values, attention_mask)  # [B, T, 1280], [B, T]
        return self.projector(frames, frame_mask)  # [B, ceil(T/5), D]

    def _splice(self, audio: torch.Tensor, audio_mask: torch.Tensor, labels: torch.Tensor | None = None,
                pad_left: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per example: [prompt before] [its real audio steps] [prompt after] [transcript]; then pad.

        Returns inputs_embeds [B, L, D], attention_mask [B, L] and labels [B, L] (-100 except transcript).
        """
        before, after = self._prompt_ids()
        device = audio.device
        embed = self.decoder.embed
        before_emb = embed(torch.tensor(before, dtype=torch.long, device=device))
        after_emb = embed(torch.tensor(after, dtype=torch.long, device=device))
        audio = audio.to(before_emb.dtype)

        rows, row_labels = [], []
        for i in range(audio.shape[0]):
            real_audio = audio[i][audio_mask[i]]  # padding steps never reach the decoder
            parts = [before_emb, real_audio, after_emb]
            masked = len(before) + real_audio.shape[0] + len(after)
            row_label = torch.full((masked,), IGNORE_INDEX, dtype=torch.long, device=device)
            if labels is not None:
                target = labels[i][labels[i] != IGNORE_INDEX].to(device)
                parts.append(embed(target))
                row_label = torch.cat([row_label, target])
            rows.append(torch.cat(parts))
            row_labels.append(row_label)

        length = max(row.shape[0] for row in rows)
        batch, dim = len(rows), audio.shape[-1]
        inputs_embeds = audio.new_zeros(batch, length, dim)
        attention_mask = torch.zeros(batch, length, dtype=torch.long, device=device)
        out_labels = torch.full((batch, length), IGNORE_INDEX, dtype=torch.long, device=device)
        for i, (row, row_label) in enumerate(zip(rows, row_labels)):
            span = slice(length - row.shape[0], length) if pad_left else slice(0, row.shape[0])
            inputs_embeds[i, span] = row
            attention_mask[i, span] = 1
            out_labels[i, span] = row_label
        return inputs_embeds, attention_mask, out_labels

    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None, **kwargs) -> CausalLMOutputWithPast:
        """Teacher-forced pass. ``labels`` [B, L] are transcript ids padded with -100 (`tokenize_transcripts`);
        the loss covers transcript tokens only: prompt, audio and padding positions are masked out."""
        audio, audio_mask = self.encode_audio(input_values, attention_mask)
        inputs_embeds, text_mask, full_labels = self._splice(audio, audio_mask, labels)
        return self.decoder(inputs_embeds, text_mask, full_labels if labels is not None else None)

    @torch.no_grad()
    def generate(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                 max_new_tokens: int = 64, **generate_kwargs) -> list[str]:
        """Transcribe a batch of normalised audio [B, N]; greedy by default. Returns one string per example."""
        audio, audio_mask = self.encode_audio(input_values, attention_mask)
        inputs_embeds, text_mask, _ = self._splice(audio, audio_mask, pad_left=True)
        tok = self.tokenizer
        generate_kwargs.setdefault("do_sample", False)
        new_tokens = self.decoder.generate(
            inputs_embeds, text_mask, max_new_tokens=max_new_tokens,
            eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id if tok.pad_token_id is not None
            else tok.eos_token_id, **generate_kwargs,
        )
        return [text.strip() for text in tok.batch_decode(new_tokens, skip_special_tokens=True)]


AutoModel.register(ASRConfig, ASRModel)


def build_asr_model(config: ASRConfig | None = None, encoder_weights: str = "auto", decoder_weights: str = "auto",
                    on_warning: Callable[[str], None] = print_warning) -> tuple[ASRModel, dict[str, WeightsInfo]]:
    """The whole model: encoder and decoder per their weights policy, projector initialised from ``config.seed``."""
    config = copy.deepcopy(config) if config is not None else ASRConfig()
    hubert, encoder_info = load_model(resolve_encoder(config.encoder), HubertModel, encoder_weights, config.seed,
                                      on_warning)
    lm, decoder_info = load_model(resolve_decoder(config.decoder), AutoModelForCausalLM, decoder_weights,
                                  config.seed, on_warning)
    # The result's sub-configs come from the models actually loaded (a checkpoint may differ from a preset).
    config.encoder_config, config.decoder_config = hubert.config, lm.config
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = ASRModel(config, base_encoder=hubert, base_decoder=lm)
    return model, {"encoder": encoder_info, "decoder": decoder_info}
