"""Pick where to run: CUDA, then Apple MPS, then CPU."""

from __future__ import annotations

from typing import TYPE_CHECKING

from src.errors import UserError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` takes the best available device; naming an unavailable one raises a clear error."""
    import torch  # here, not at the top: `--help` should not wait for torch to import

    cuda, mps = torch.cuda.is_available(), torch.backends.mps.is_available()
    if requested == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if requested == "cuda" and not cuda:
        raise UserError("--device cuda: no CUDA GPU is visible to PyTorch; use --device auto or cpu")
    if requested == "mps" and not mps:
        raise UserError("--device mps: Apple MPS is not available here; use --device auto or cpu")
    if requested not in DEVICE_CHOICES:
        raise UserError(f"--device {requested}: choose one of {', '.join(DEVICE_CHOICES)}")
    return torch.device(requested)
