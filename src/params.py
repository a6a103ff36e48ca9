"""Count parameters: total, trainable (requires_grad) and frozen, per component and overall."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import nn

if TYPE_CHECKING:
    from src.asr_modeling import ASRModel


@dataclass(frozen=True)
class ParamCount:
    total: int
    trainable: int

    @property
    def frozen(self) -> int:
        return self.total - self.trainable

    @property
    def trainable_percent(self) -> float:
        return 100.0 * self.trainable / self.total if self.total else 0.0

    def __add__(self, other: ParamCount) -> ParamCount:
        return ParamCount(self.total + other.total, self.trainable + other.trainable)


def count_parameters(module: nn.Module) -> ParamCount:
    """Each parameter counted once (tied embeddings share one tensor). Works on the meta device."""
    params = list(module.parameters())  # .parameters() already skips shared (tied) tensors
    return ParamCount(
        total=sum(p.numel() for p in params),
        trainable=sum(p.numel() for p in params if p.requires_grad),
    )


def parameter_summary(model: ASRModel) -> dict[str, ParamCount]:
    """``{"encoder", "projector", "decoder", "overall"}`` -> counts, for an `ASRModel`."""
    summary = {name: count_parameters(getattr(model, name)) for name in ("encoder", "projector", "decoder")}
    summary["overall"] = count_parameters(model)
    return summary
