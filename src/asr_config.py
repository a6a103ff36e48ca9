"""`ASRConfig`: everything needed to build the Tiny Audio speech recogniser, with the course's defaults.

``ASRConfig()`` is the default model: HuBERT-XLarge encoder (LoRA r=8, alpha 8 on q_proj and k_proj), a
SwiGLU projector that stacks 5 frames (hidden size 8192) and a Qwen3-8B decoder (LoRA r=8, alpha 32 on q_proj
and v_proj). The encoder and decoder configurations are resolved from their names when the config is built
and stored inside it, so a saved ASRConfig reloads with no network.
"""

from __future__ import annotations

from dataclasses import field

from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from src.audio import SAMPLE_RATE
from src.loading import resolve_decoder, resolve_encoder
from src.lora import LoraSettings

AUDIO_PLACEHOLDER = "<audio>"


class ASRConfig(PreTrainedConfig):
    model_type = "tiny_audio"
    sub_configs_defaults = {
        "encoder_config": SubConfigSpec(config_class=AutoConfig, model_type="hubert"),
        "decoder_config": SubConfigSpec(config_class=AutoConfig, model_type="qwen3"),
    }

    # Which models: a preset name, a hub id or a local directory (see src/presets.py).
    encoder: str = "hubert-xlarge-ls960-ft"
    decoder: str = "qwen3-8b"
    encoder_config: dict | PreTrainedConfig | None = None  # filled from `encoder` when not given
    decoder_config: dict | PreTrainedConfig | None = None  # filled from `decoder` when not given

    # Projector: stack 5 frames (5 x 20 ms = 100 ms per step), SwiGLU with this hidden size.
    projector_stack: int = 5
    projector_hidden_size: int = 8192
    projector_norm_eps: float = 1e-6

    # LoRA adapters (rank 0 = no adapters, base fully frozen).
    encoder_lora_rank: int = 8
    encoder_lora_alpha: int | float = 8
    encoder_lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj"])
    encoder_lora_dropout: float = 0.0
    decoder_lora_rank: int = 8
    decoder_lora_alpha: int | float = 32
    decoder_lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    decoder_lora_dropout: float = 0.0

    # Audio and prompt: the projected audio replaces the placeholder inside the prompt.
    sampling_rate: int = SAMPLE_RATE
    prompt: str = f"Transcribe: {AUDIO_PLACEHOLDER}"
    seed: int = 0  # for random weights, so the same run prints the same figures

    def __post_init__(self, **kwargs):
        if self.encoder_config is None:
            self.encoder_config = resolve_encoder(self.encoder).config
        if self.decoder_config is None:
            self.decoder_config = resolve_decoder(self.decoder).config
        if self.projector_stack < 1 or self.projector_hidden_size < 1:
            raise ValueError("projector_stack and projector_hidden_size must be positive")
        if self.prompt.count(AUDIO_PLACEHOLDER) != 1:
            raise ValueError(f"the prompt must contain {AUDIO_PLACEHOLDER} exactly once: {self.prompt!r}")
        self.encoder_lora, self.decoder_lora  # validates ranks and targets
        super().__post_init__(**kwargs)

    @property
    def encoder_lora(self) -> LoraSettings:
        return LoraSettings(self.encoder_lora_rank, self.encoder_lora_alpha, list(self.encoder_lora_targets),
                            self.encoder_lora_dropout)

    @property
    def decoder_lora(self) -> LoraSettings:
        return LoraSettings(self.decoder_lora_rank, self.decoder_lora_alpha, list(self.decoder_lora_targets),
                            self.decoder_lora_dropout)

    @classmethod
    def tiny(cls, **overrides) -> ASRConfig:
        """A toy model of the same classes (2-layer HuBERT, 2-layer Qwen3) for tests and quick demos."""
        return cls(**{"encoder": "tiny", "decoder": "tiny", "projector_hidden_size": 64, **overrides})


AutoConfig.register(ASRConfig.model_type, ASRConfig)
