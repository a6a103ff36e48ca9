"""The audio encoder: HuBERT turns a 16 kHz waveform into one 1280-dim vector every 20 ms.

A 7-layer CNN reads 400-sample windows (25 ms) every 320 samples (20 ms); a 48-layer transformer then
lets every frame look at the whole utterance. LoRA adapters on the attention projections are the only
trainable part. Long recordings are encoded window by window (`encode_in_windows`), so memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from transformers import HubertModel

from src.audio import HUBERT_RECEPTIVE_FIELD, HUBERT_STRIDE, SAMPLE_RATE, predicted_frames, require_encodable
from src.lora import LoraSettings, LoraWrapped
from src.loading import DEFAULT_SEED, WeightsInfo, load_model, print_warning, resolve_encoder

DEFAULT_ENCODER = "hubert-xlarge-ls960-ft"


class AudioEncoder(LoraWrapped):
    """``HubertModel`` with LoRA adapters (frozen base). Input [B, N] samples -> output [B, T, H] frames."""

    def __init__(self, hubert: HubertModel, lora: LoraSettings | None = None):
        super().__init__(hubert, lora)

    @property
    def hubert(self) -> HubertModel:
        return self.base

    def forward(self, input_values: torch.Tensor, attention_mask: torch.Tensor | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode normalised audio.

        input_values: [B, N] z-normalised samples (padded with 0.0); attention_mask: [B, N], 1 = real sample.
        Returns hidden states [B, T, H] and frame_mask [B, T] (True where the frame comes from real audio).
        """
        require_encodable(input_values.shape[-1])
        input_values = input_values.to(self.hubert.dtype)  # float32 audio into a half-precision model
        hidden = self.model(input_values=input_values, attention_mask=attention_mask).last_hidden_state
        batch, frames = hidden.shape[:2]
        if attention_mask is None:
            lengths = torch.full((batch,), frames, device=hidden.device)
        else:  # the frames each example's real samples give: floor((n - 400) / 320) + 1, layer by layer
            lengths = self.hubert._get_feat_extract_output_lengths(attention_mask.sum(-1)).clamp(min=0)
        frame_mask = torch.arange(frames, device=hidden.device)[None, :] < lengths[:, None]  # [B, T]
        return hidden, frame_mask


def load_encoder(name: str = DEFAULT_ENCODER, weights: str = "auto", lora: LoraSettings | None = None,
                 seed: int = DEFAULT_SEED, on_warning: Callable[[str], None] = print_warning,
                 dtype: torch.dtype = torch.float32, on_progress: Callable[[str], None] | None = None,
                 ) -> tuple[AudioEncoder, WeightsInfo]:
    """HuBERT (preset, hub id or local directory) wrapped as an `AudioEncoder`, and which weights it holds.
    ``dtype=torch.bfloat16`` halves the memory (4 GB -> 2 GB for HuBERT-XLarge)."""
    hubert, info = load_model(resolve_encoder(name), HubertModel, weights, seed, on_warning, dtype, on_progress)
    return AudioEncoder(hubert, lora).eval(), info


def window_samples(seconds: float) -> int:
    """A window length in samples that is a whole number of 320-sample frame steps (at least one)."""
    return max(1, int(seconds * SAMPLE_RATE) // HUBERT_STRIDE) * HUBERT_STRIDE


def window_starts(num_samples: int, window: int) -> range:
    """Where each window of ``window`` samples starts: every W samples, until the last frame is covered."""
    return range(0, predicted_frames(num_samples) * HUBERT_STRIDE, window)


def encode_in_windows(encoder: AudioEncoder, input_values: torch.Tensor, window: int,
                      ) -> Iterator[torch.Tensor]:
    """Encode [1, N] audio ``window`` samples at a time; yield each window's frames [1, t, H] on the CPU.

    Windows start every W samples (W a multiple of the 320-sample stride) and read 80 samples more, so each
    yields exactly W / 320 frames and together they give floor((N - 400) / 320) + 1, as one pass would.
    Each window attends only within itself, so frames near a boundary see less context.
    """
    if window % HUBERT_STRIDE:
        raise ValueError(f"the window must be a multiple of {HUBERT_STRIDE} samples, not {window}")
    device = next(encoder.parameters()).device
    overlap = HUBERT_RECEPTIVE_FIELD - HUBERT_STRIDE  # 80 samples
    for start in window_starts(input_values.shape[-1], window):  # the last starts before the last frame
        chunk = input_values[:, start: start + window + overlap].to(device)  # [1, <= W + 80]
        with torch.inference_mode():
            frames, _ = encoder(chunk)  # [1, t, H]
        yield frames.float().cpu()


@dataclass
class RunningStats:
    """Count, mean, standard deviation, min and max of every value seen, without keeping the values."""

    count: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    min: float = float("inf")
    max: float = float("-inf")

    def add(self, values: torch.Tensor) -> None:
        values = values.double()
        self.count += values.numel()
        self.total += values.sum().item()
        self.total_sq += values.square().sum().item()
        self.min, self.max = min(self.min, values.min().item()), max(self.max, values.max().item())

    @property
    def mean(self) -> float:
        return self.total / self.count

    @property
    def std(self) -> float:
        return max(self.total_sq / self.count - self.mean**2, 0.0) ** 0.5
