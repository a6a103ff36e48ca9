"""Tiny Audio, class 2: audio loading, the HuBERT encoder, the projector, the Qwen3 decoder and `ASRModel`.

Import the pieces from their modules (``from src.asr_modeling import ASRModel``); this file stays light so
that ``python exercises/<name>.py --help`` answers before torch is imported.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tiny-audio-class2")
except PackageNotFoundError:  # a checkout used without `poetry install`
    __version__ = "0+unknown"
