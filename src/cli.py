"""What the exercise scripts share: argument parsing and errors as one actionable line, exit status 2.

A script's ``main(argv)`` raises `UserError` for anything the user can fix; `run` prints it as
``<script>: error: <message>`` on stderr and exits with 2, with no traceback.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from src.errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AUDIO = REPO_ROOT / "assets" / "test.wav"
EXIT_USAGE = 2


class ArgumentParser(argparse.ArgumentParser):
    """argparse with ``--help`` showing defaults, and errors on one line (not usage + error)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(**kwargs)

    def error(self, message: str):
        raise UserError(f"{message} (see --help)")


def display_path(path: str | Path) -> str:
    """A path as a student would type it: relative to the working directory, else to the repository root."""
    resolved = Path(path).resolve()
    for base in (Path.cwd().resolve(), REPO_ROOT):
        if resolved.is_relative_to(base):
            return str(resolved.relative_to(base))
    return str(path)


def fixed(value: float, digits: int = 4) -> str:
    """Fixed-point text without a misleading "-0.0000" for values that round to zero."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


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
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give module names separated by commas, e.g. q_proj,k_proj")
    return names


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
    finally:
        # With torch and transformers loaded, the garbage collection Python runs at exit takes about a second
        # and frees nothing the OS would not reclaim anyway; freezing the heap skips it.
        gc.freeze()
