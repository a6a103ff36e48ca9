"""From a file on disk to a clean 16 kHz mono waveform, and from a waveform to HuBERT's input.

Every step here exists to make audio *consistent*: one sampling rate, one channel, float32 in [-1, 1],
no NaNs. The feature extractor then z-normalises each utterance. It does not resample: that happens here,
when loading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from src.errors import AudioError

SAMPLE_RATE = 16_000  # Hz: HuBERT was trained on 16 kHz audio; Nyquist limit 8 kHz covers speech
CD_SAMPLE_RATE = 44_100  # Hz, for comparison
TELEPHONE_SAMPLE_RATE = 8_000  # Hz, for comparison
PCM16_LEVELS = 2**16  # 65,536 amplitude levels in 16-bit audio

# HuBERT's convolutional feature encoder (7 layers): kernels 10,3,3,3,3,2,2 and strides 5,2,2,2,2,2,2.
HUBERT_CONV_KERNELS = (10, 3, 3, 3, 3, 2, 2)
HUBERT_CONV_STRIDES = (5, 2, 2, 2, 2, 2, 2)
HUBERT_STRIDE = math.prod(HUBERT_CONV_STRIDES)  # 320 samples = 20 ms between frames
HUBERT_RECEPTIVE_FIELD = 400  # samples = 25 ms seen by one frame; also the shortest input HuBERT accepts
MIN_SAMPLES = HUBERT_RECEPTIVE_FIELD


def predicted_frames(num_samples: int) -> int:
    """Frames HuBERT produces for ``num_samples`` samples: ``floor((N - 400) / 320) + 1`` (0 if N < 400)."""
    if num_samples < HUBERT_RECEPTIVE_FIELD:
        return 0
    return (num_samples - HUBERT_RECEPTIVE_FIELD) // HUBERT_STRIDE + 1


def conv_output_frames(num_samples: int, kernels=HUBERT_CONV_KERNELS, strides=HUBERT_CONV_STRIDES) -> int:
    """The same count, layer by layer, the way the convolutions compute it: ``L -> floor((L - k) / s) + 1``."""
    length = num_samples
    for kernel, stride in zip(kernels, strides):
        if length < kernel:
            return 0
        length = (length - kernel) // stride + 1
    return length


@dataclass
class Audio:
    """A mono waveform at ``sample_rate``, and what the file was before loading changed it."""

    samples: np.ndarray  # [N] float32 in [-1, 1]
    sample_rate: int
    path: Path | None = None
    original_sample_rate: int | None = None
    original_channels: int = 1

    @property
    def num_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.num_samples / self.sample_rate

    @property
    def was_resampled(self) -> bool:
        return self.original_sample_rate is not None and self.original_sample_rate != self.sample_rate

    @property
    def was_downmixed(self) -> bool:
        return self.original_channels > 1

    @property
    def is_silent(self) -> bool:
        return self.num_samples > 0 and not np.any(self.samples)


def _read_file(path: Path) -> tuple[np.ndarray, int]:
    """Decode any format libsndfile knows (WAV, FLAC, OGG, MP3, ...) into [frames, channels] float32."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        empty = path.is_file() and path.stat().st_size == 0
        problem = "the file is empty (0 bytes)" if empty else f"not a readable audio file ({_first_line(err)})"
        raise AudioError(f"{path}: {problem}; give a WAV, FLAC, OGG or MP3 file") from None
    return data, int(rate)


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def load_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> Audio:
    """Load ``path`` as mono float32 at ``sample_rate`` Hz: down-mix channels, resample, validate.

    Raises `AudioError` (one actionable line) for a missing path, a directory, a file that is not audio,
    an empty file, or NaN/infinite samples.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: file not found; check the path (run from the repository root for assets/)")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory; give the path of an audio file inside it")

    data, original_rate = _read_file(path)  # [frames, channels]
    channels = data.shape[1]
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds 0 samples; record or choose a file with sound in it")
    if not np.all(np.isfinite(data)):
        raise AudioError(f"{path}: contains NaN or infinite samples; re-export the audio from its source")

    samples = data.mean(axis=1) if channels > 1 else data[:, 0]  # down-mix: average the channels
    if original_rate != sample_rate:
        import librosa

        samples = librosa.resample(samples, orig_sr=original_rate, target_sr=sample_rate)
    return Audio(
        samples=np.ascontiguousarray(samples, dtype=np.float32),
        sample_rate=sample_rate,
        path=path,
        original_sample_rate=original_rate,
        original_channels=channels,
    )


def require_encodable(audio: Audio) -> None:
    """HuBERT needs at least one receptive field (400 samples = 25 ms) to produce a frame."""
    if audio.num_samples < MIN_SAMPLES:
        raise AudioError(
            f"{audio.path}: {audio.num_samples} samples is too short for HuBERT, which needs at least "
            f"{MIN_SAMPLES} samples ({MIN_SAMPLES / audio.sample_rate * 1000:.0f} ms); use a longer recording"
        )


def make_feature_extractor():
    """HuBERT-XLarge's published preprocessor: z-normalise, pad with 0.0, return an attention mask."""
    from transformers import Wav2Vec2FeatureExtractor

    from src.presets import FEATURE_EXTRACTOR

    return Wav2Vec2FeatureExtractor(**FEATURE_EXTRACTOR)
