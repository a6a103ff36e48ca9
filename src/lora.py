"""LoRA: freeze a pretrained model and learn a small low-rank update next to chosen weight matrices.

For a frozen matrix W (out x in), LoRA adds ``(alpha / r) * B @ A`` with A (r x in) and B (out x r): only
``r * (in + out)`` new parameters per matrix. B starts at zero, so the adapted model first computes exactly
what the base model computes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn


@dataclass
class LoraSettings:
    rank: int = 8  # r; 0 means "no adapters": the model stays fully frozen
    alpha: float = 8.0
    targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj"])
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.rank < 0:
            raise ValueError(f"LoRA rank must be 0 or more, not {self.rank}")
        if self.rank > 0 and not self.targets:
            raise ValueError("LoRA needs at least one target module name (e.g. q_proj)")


def add_lora(model: nn.Module, lora: LoraSettings, task_type: str | None = None) -> nn.Module:
    """Freeze ``model`` and, for rank > 0, wrap it with peft LoRA adapters on ``lora.targets``."""
    model.requires_grad_(False)
    if lora.rank == 0:
        return model
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=lora.rank,
        lora_alpha=lora.alpha,
        target_modules=list(lora.targets),
        lora_dropout=lora.dropout,
        bias="none",
        task_type=task_type,
    )
    return get_peft_model(model, config)


def base_model(model: nn.Module) -> nn.Module:
    """The pretrained model inside a peft wrapper (or the model itself when it has no adapters)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model
