"""LoRA: freeze a pretrained model and learn a small low-rank update next to chosen weight matrices.

For a frozen matrix W (out x in), LoRA adds ``(alpha / r) * B @ A`` with A (r x in) and B (out x r): only
``r * (in + out)`` new parameters per matrix. B starts at zero, so the adapted model first computes exactly
what the base model computes. The encoder and the decoder both use `LoraWrapped`; `count_parameters` and
`parameter_summary` say how few parameters that leaves trainable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from src.errors import UserError


@dataclass
class LoraSettings:
    rank: int = 8  # r; 0 means "no adapters": the model stays fully frozen
    alpha: float = 8.0  # the update is scaled by alpha / r
    targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj"])  # names of the adapted Linear layers
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.rank < 0:
            raise ValueError(f"LoRA rank must be 0 or more, not {self.rank}")
        if self.rank > 0 and not self.targets:
            raise ValueError("LoRA needs at least one target module name (e.g. q_proj)")


def add_lora(model: nn.Module, lora: LoraSettings, task_type: str | None = None) -> nn.Module:
    """Freeze ``model`` and, for rank > 0, wrap it with peft LoRA adapters on ``lora.targets``.

    Raises `UserError` naming the valid targets when a target matches no layer, and when the rank is larger
    than an adapted matrix can hold (a rank-r update of an out x in matrix needs r <= min(out, in)).
    """
    model.requires_grad_(False)
    if lora.rank == 0:
        return model
    linears = {name.rsplit(".", 1)[-1]: module for name, module in model.named_modules()
               if isinstance(module, nn.Linear)}
    unknown = sorted(set(lora.targets) - set(linears))
    if unknown:
        raise UserError(f"LoRA target {', '.join(unknown)} matches no layer of {type(model).__name__}; "
                        f"its linear layers are {', '.join(sorted(linears))}")
    for target in lora.targets:
        limit = min(linears[target].in_features, linears[target].out_features)
        if lora.rank > limit:
            raise UserError(f"LoRA rank {lora.rank} is larger than {target} can hold ({linears[target].out_features}"
                            f" x {linears[target].in_features}: rank at most {limit}); choose a rank of {limit} "
                            "or less (the course uses 8 to 64)")
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=lora.rank, lora_alpha=lora.alpha, target_modules=list(lora.targets),
                        lora_dropout=lora.dropout, bias="none", task_type=task_type)
    return get_peft_model(model, config)


class LoraWrapped(nn.Module):
    """A frozen pretrained model with LoRA adapters: ``.model`` (peft wrapper, or the model at rank 0) and
    ``.base`` (the pretrained model inside). The encoder and the decoder are both built this way."""

    def __init__(self, model: nn.Module, lora: LoraSettings | None = None, task_type: str | None = None):
        super().__init__()
        self.model = add_lora(model, lora or LoraSettings(rank=0), task_type)

    @property
    def base(self) -> nn.Module:
        return self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model

    @property
    def hidden_size(self) -> int:
        return self.base.config.hidden_size


# ----- what LoRA leaves trainable ------------------------------------------------------------------------------
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


def parameter_summary(model: nn.Module) -> dict[str, ParamCount]:
    """``{"encoder", "projector", "decoder", "overall"}`` -> counts, for an `ASRModel` (src/asr_modeling.py)."""
    summary = {name: count_parameters(getattr(model, name)) for name in ("encoder", "projector", "decoder")}
    summary["overall"] = count_parameters(model)
    return summary
