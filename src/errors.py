"""Errors a student can act on.

Every exception here carries a one-line message that names the problem and the fix. The exercises print
that line to stderr and exit with status 2, without a traceback (see `src/cli.py`).
"""


class UserError(Exception):
    """A problem with the input or options the user gave, not a bug in the code."""


class AudioError(UserError):
    """An audio file that is missing, unreadable, empty, too short or holds invalid samples."""


class ModelNotFoundError(UserError):
    """A model name that is neither a preset, a local directory nor a reachable hub repository."""


class WeightsUnavailableError(UserError):
    """Pretrained weights were required (``weights="pretrained"``) but cannot be found."""
