"""What the exercise scripts share: options, where to run, printing, saving figures, and errors as one line.

A script's ``main(argv)`` raises `UserError` for anything the user can fix; `run` prints it as
``<script>: error: <message>`` on stderr and exits with 2, with no traceback. Only the exercises import
this module; nothing in the model package depends on it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from src.errors import UserError

if TYPE_CHECKING:
    import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_AUDIO = REPO_ROOT / "assets" / "test.wav"
EXIT_USAGE = 2
DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


# ----- options --------------------------------------------------------------------------------------------------
class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: ...)`` only where there is a default worth showing and the help does not say it."""

    def _get_help_string(self, action):
        if action.default in (None, False, argparse.SUPPRESS) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with ``--help`` showing defaults, and errors on one line (not usage + error)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(**kwargs)

    def error(self, message: str):
        raise UserError(f"{message} (see --help)")


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < math.inf:  # also rejects nan and inf
        raise argparse.ArgumentTypeError(f"must be a finite number more than 0, got {value}")
    return value


def module_names(text: str) -> list[str]:
    """``"q_proj,k_proj"`` -> ``["q_proj", "k_proj"]``."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give module names separated by commas, e.g. q_proj,k_proj")
    return names


def default_audio() -> Path:
    """The repository's 3-second sample, named as the student would type it from where they are."""
    relative = Path("assets") / "test.wav"
    return relative if relative.is_file() and relative.resolve() == SAMPLE_AUDIO else SAMPLE_AUDIO


def pick_device(requested: str = "auto") -> torch.device:
    """``auto`` takes CUDA, then Apple MPS, then the CPU; naming an unavailable one raises a clear error."""
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


# ----- printing -------------------------------------------------------------------------------------------------
def display_path(path: str | Path) -> str:
    """A path as the student would type it: relative to the working directory when it lies inside it."""
    absolute = Path(os.path.abspath(path))
    cwd = Path(os.path.abspath(os.getcwd()))
    return str(absolute.relative_to(cwd)) if absolute.is_relative_to(cwd) else str(path)


def fixed(value: float, digits: int = 4) -> str:
    """Fixed-point text without a misleading "-0.0000" for values that round to zero."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def seconds(value: float) -> str:
    """A duration that never rounds to nothing: 3.00 s, 0.025 s, 600.00 s."""
    return f"{value:.2f} s" if value >= 1 or value == 0 else f"{value:.3g} s"


def plural(count: int, word: str, suffix: str = "s") -> str:
    """``1 frame``, ``149 frames``, ``1,234 frames``; ``2 stretches`` with ``suffix="es"``."""
    return f"{count:,} {word}{'' if count == 1 else suffix}"


def shorten(text: str, width: int) -> str:
    """Keep the end of a long path, marking the cut with an ellipsis."""
    return text if len(text) <= width else "…" + text[-(width - 1):]


def progress(message: str) -> None:
    """A line on stderr, so stdout holds only the results."""
    print(message, file=sys.stderr, flush=True)


# ----- figures --------------------------------------------------------------------------------------------------
def check_writable(path: str | Path) -> Path:
    """Fail before any work is done if ``path`` cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory; give a file name such as {path / 'figure.png'}")
    if path.suffix.lower() not in (".png", ".pdf", ".svg", ".jpg", ".jpeg"):
        raise UserError(f"{path}: unsupported image type; end the file name with .png, .pdf, .svg or .jpg")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"{path}: folder {parent} does not exist; create it or choose another output path")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"{path}: cannot write here (permission denied); choose another output path")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save_figure(figure, path: Path, **kwargs) -> None:
    """Write to a temporary file beside ``path`` and rename it, so no half-written image is ever left."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600): give it a new file's usual mode
        figure.savefig(tmp, **kwargs)
        os.replace(tmp, path)
    except OSError as err:
        raise UserError(f"{path}: could not save the figure ({err.strerror}); choose another output path")
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# ----- the entry point ------------------------------------------------------------------------------------------
def run(main: Callable[[list[str] | None], object]) -> None:
    """Entry point for ``python exercises/<name>.py``: user errors become one line on stderr and exit 2."""
    prog = Path(sys.argv[0]).name
    try:
        main(None)
    except UserError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
