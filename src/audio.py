"""From a file on disk to a clean 16 kHz mono waveform, and from a waveform to HuBERT's input.

Every step here exists to make audio *consistent*: one sampling rate, one channel, float32, no NaNs.
Integer PCM lands in [-1, 1); float files may hold values beyond +-1 and resampling can overshoot near full
scale, so [-1, 1] is a convention, not a guarantee. The feature extractor then z-normalises each utterance.
It does not resample: that happens here, when loading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from src.errors import AudioError
from src.presets import FEATURE_EXTRACTOR, HUBERT_CONV_KERNEL, HUBERT_CONV_STRIDE

SAMPLE_RATE = 16_000  # Hz: HuBERT was trained on 16 kHz audio; it keeps frequencies below 8 kHz (Nyquist)
CD_SAMPLE_RATE = 44_100  # Hz, for comparison
TELEPHONE_SAMPLE_RATE = 8_000  # Hz: keeps only what lies below 4 kHz
PCM16_LEVELS = 2**16  # 65,536 amplitude levels in 16-bit audio
NORMALISE_EPSILON = 1e-7  # Wav2Vec2FeatureExtractor's: (x - mean) / sqrt(var + 1e-7), so silence stays 0


# ----- HuBERT's frame arithmetic, derived from the CNN's kernels and strides (src/presets.py) -----------------
def receptive_field(kernels=HUBERT_CONV_KERNEL, strides=HUBERT_CONV_STRIDE) -> int:
    """Input samples one output frame sees: each layer widens it by (kernel - 1) x the stride below it."""
    field, jump = 1, 1
    for kernel, stride in zip(kernels, strides):
        field += (kernel - 1) * jump
        jump *= stride
    return field


HUBERT_STRIDE = math.prod(HUBERT_CONV_STRIDE)  # 5*2*2*2*2*2*2 = 320 samples = 20 ms between frames
HUBERT_RECEPTIVE_FIELD = receptive_field()  # 400 samples = 25 ms seen by one frame
MIN_SAMPLES = HUBERT_RECEPTIVE_FIELD  # the shortest input that gives one frame


def predicted_frames(num_samples: int) -> int:
    """Frames HuBERT produces for ``num_samples`` samples: ``floor((N - 400) / 320) + 1`` (0 if N < 400)."""
    if num_samples < HUBERT_RECEPTIVE_FIELD:
        return 0
    return (num_samples - HUBERT_RECEPTIVE_FIELD) // HUBERT_STRIDE + 1


def conv_output_frames(num_samples: int, kernels=HUBERT_CONV_KERNEL, strides=HUBERT_CONV_STRIDE) -> int:
    """The same count, layer by layer, the way the convolutions compute it: ``L -> floor((L - k) / s) + 1``."""
    length = num_samples
    for kernel, stride in zip(kernels, strides):
        if length < kernel:
            return 0
        length = (length - kernel) // stride + 1
    return length


def require_encodable(num_samples: int, source: str | Path | None = None) -> None:
    """HuBERT needs at least one receptive field (400 samples = 25 ms) to produce a frame."""
    if num_samples < MIN_SAMPLES:
        where = f"{source}: " if source is not None else ""
        raise AudioError(
            f"{where}{num_samples} samples is too short for HuBERT, which needs at least {MIN_SAMPLES} samples "
            f"({1000 * MIN_SAMPLES / SAMPLE_RATE:.0f} ms at {SAMPLE_RATE} Hz); use a longer recording"
        )


# ----- loading ------------------------------------------------------------------------------------------------
@dataclass
class Audio:
    """A mono waveform at ``sample_rate``, and what the file was before loading changed it."""

    samples: np.ndarray  # [N] float32
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
    def peak(self) -> float:
        """The largest absolute sample; above 1.0 the audio would clip if written back as integer PCM."""
        return float(np.abs(self.samples).max()) if self.num_samples else 0.0

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

    samples = data.mean(axis=1)  # [frames, channels] -> [frames]: down-mix by averaging the channels
    if original_rate != sample_rate:
        samples = resample(samples, original_rate, sample_rate)
    return Audio(
        samples=np.ascontiguousarray(samples, dtype=np.float32),
        sample_rate=sample_rate,
        path=path,
        original_sample_rate=original_rate,
        original_channels=channels,
    )


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """librosa's band-limited resampler: it low-passes below the new Nyquist limit first, so nothing aliases."""
    import librosa

    return librosa.resample(samples, orig_sr=from_rate, target_sr=to_rate)


def through_rate(samples: np.ndarray, sample_rate: int, low_rate: int) -> np.ndarray:
    """The clip as if it had been recorded at ``low_rate`` (e.g. 8 kHz telephone), brought back to
    ``sample_rate``: same length, everything above ``low_rate / 2`` gone."""
    back = resample(resample(samples, sample_rate, low_rate), low_rate, sample_rate)
    return np.pad(back, (0, max(0, len(samples) - len(back))))[: len(samples)].astype(np.float32)


def energy_share_above(samples: np.ndarray, sample_rate: int, cutoff_hz: float) -> float:
    """Share (0 to 1) of the clip's energy at frequencies above ``cutoff_hz``, from its power spectrum."""
    power = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2  # [N // 2 + 1]
    frequencies = np.fft.rfftfreq(len(samples), d=1 / sample_rate)
    total = power.sum()
    return float(power[frequencies > cutoff_hz].sum() / total) if total > 0 else 0.0


# ----- HuBERT's input -------------------------------------------------------------------------------------------
def z_normalise(samples: np.ndarray) -> np.ndarray:
    """One utterance to mean 0, standard deviation 1: ``(x - mean) / sqrt(var + 1e-7)``; silence stays 0."""
    return (samples - samples.mean()) / np.sqrt(samples.var() + NORMALISE_EPSILON)


def make_feature_extractor():
    """HuBERT-XLarge's published preprocessor: z-normalise; pad with 0.0 and return an attention mask when
    several clips are padded together."""
    from transformers import Wav2Vec2FeatureExtractor

    return Wav2Vec2FeatureExtractor(**FEATURE_EXTRACTOR)
