"""The audio encoder: HuBERT turns a 16 kHz waveform into one 1280-dim vector every 20 ms.

A 7-layer CNN reads 400-sample windows (25 ms) every 320 samples (20 ms); a 48-layer transformer then
lets every frame look at the whole utterance. LoRA adapters on the attention projections are the only
trainable part.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import HubertModel

from src.audio import MIN_SAMPLES, SAMPLE_RATE
from src.errors import AudioError
from src.lora import LoraSettings, add_lora, base_model


class AudioEncoder(nn.Module):
    """``HubertModel`` with LoRA adapters (frozen base). Input [B, N] samples -> output [B, T, H] frames."""

    def __init__(self, hubert: HubertModel, lora: LoraSettings | None = None):
        super().__init__()
        self.model = add_lora(hubert, lora or LoraSettings(rank=0))

    @property
    def hubert(self) -> HubertModel:
        return base_model(self.model)

    @property
    def hidden_size(self) -> int:
        return self.hubert.config.hidden_size

    def output_frames(self, num_samples: torch.Tensor) -> torch.Tensor:
        """Frames per input length, computed layer by layer from the CNN's kernels and strides."""
        return self.hubert._get_feat_extract_output_lengths(num_samples)

    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode normalised audio.

        input_values: [B, N] z-normalised samples (padded with 0.0); attention_mask: [B, N], 1 = real sample.
        Returns hidden states [B, T, H] and frame_mask [B, T] (True where the frame comes from real audio).
        """
        num_samples = input_values.shape[-1]
        if num_samples < MIN_SAMPLES:
            raise AudioError(
                f"{num_samples} samples is too short for HuBERT, which needs at least {MIN_SAMPLES} samples "
                f"({MIN_SAMPLES / SAMPLE_RATE * 1000:.0f} ms at {SAMPLE_RATE} Hz); use a longer recording"
            )
        hidden = self.model(input_values=input_values, attention_mask=attention_mask).last_hidden_state
        batch, frames = hidden.shape[:2]
        if attention_mask is None:
            lengths = torch.full((batch,), frames, device=hidden.device)
        else:
            lengths = self.output_frames(attention_mask.sum(-1)).clamp(min=0)
        frame_mask = torch.arange(frames, device=hidden.device)[None, :] < lengths[:, None]  # [B, T]
        return hidden, frame_mask
