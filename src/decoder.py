"""The text decoder: a pretrained causal language model (Qwen3) with LoRA adapters on q and v."""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel

from src.lora import LoraSettings, add_lora, base_model


class TextDecoder(nn.Module):
    """A causal LM with LoRA adapters (frozen base). It reads input *embeddings*, so audio can be spliced in."""

    def __init__(self, lm: PreTrainedModel, lora: LoraSettings | None = None):
        super().__init__()
        self.model = add_lora(lm, lora or LoraSettings(rank=0), task_type="CAUSAL_LM")

    @property
    def lm(self) -> PreTrainedModel:
        return base_model(self.model)

    @property
    def hidden_size(self) -> int:
        return self.lm.config.hidden_size

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Token ids [..., L] -> embeddings [..., L, D] from the decoder's own (frozen) embedding table."""
        return self.lm.get_input_embeddings()(input_ids)

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor,
                labels: torch.Tensor | None = None):
        return self.model(inputs_embeds=inputs_embeds, attention_mask=attention_mask, labels=labels)

    def generate(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor, **kwargs) -> torch.Tensor:
        """Greedy/sampled continuation of left-padded embeddings; returns only the new token ids [B, L]."""
        return self.model.generate(inputs_embeds=inputs_embeds, attention_mask=attention_mask, **kwargs)
