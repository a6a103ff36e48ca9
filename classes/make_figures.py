"""Draw every figure of the class 2 lecture into classes/figures/, from the code in src/ and the clips in assets/.

    poetry run python classes/make_figures.py                    # all figures
    poetry run python classes/make_figures.py --only aliasing    # one of them

Each figure is two functions: ``compute_<name>()`` returns ``(numbers, data)`` and ``draw_<name>(numbers, data)``
returns a matplotlib figure. The numbers are what the figure states (in titles and labels); they are written
to ``<name>.json`` beside ``<name>.png``, and tests/test_figures.py recomputes them and fails when they drift.
Everything is seeded, sizes are fixed and the PNGs carry no version or date, so regenerating on the locked
environment leaves ``git status`` clean.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
FIGURES = ROOT / "classes" / "figures"

DPI = 120  # pixels per inch; every figure is FIGSIZE * DPI pixels (no "tight" bounding box, so sizes are fixed)
FIGSIZE = (10.0, 5.6)  # inches -> 1200 x 672 pixels
FLOAT_DIGITS = 4  # decimals kept in the JSON files, so they do not change with the BLAS library or the CPU
SEED = 0

# Okabe & Ito's palette: distinguishable with every common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", \
    "#56B4E9", "#999999"
SPECTROGRAM_CMAP = "magma"  # perceptually uniform, readable in grey and by colour-blind viewers
STYLE = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: the same glyphs on every machine
    "font.size": 11,
    "axes.titlesize": 11.5,
    "axes.labelsize": 11,
    "figure.titlesize": 13,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


# ----- small signal helpers (they could move into src/audio.py) -------------------------------------------------

def quantise(samples: np.ndarray, bits: int) -> np.ndarray:
    """Round ``samples`` (full scale [-1, 1)) to signed ``bits``-bit PCM: 2**bits levels, step 2 / 2**bits.

    The levels are k / 2**(bits-1) for k = -2**(bits-1) .. 2**(bits-1) - 1, the way integer PCM maps to floats;
    16 bits leaves a 16-bit file unchanged, 4 bits keeps 16 levels, step 0.125.
    """
    scale = 2 ** (bits - 1)
    levels = np.clip(np.round(np.asarray(samples, dtype=np.float64) * scale), -scale, scale - 1)
    return levels / scale


def aliased_frequency(frequency: float, rate: float) -> float:
    """Where a tone of ``frequency`` Hz appears after sampling at ``rate`` Hz: folded into [0, rate / 2]."""
    return abs(frequency - rate * round(frequency / rate))


def spectrogram_db(samples: np.ndarray, rate: int, window: int = 400, hop: int = 160, n_fft: int = 512):
    """Power spectrogram in dB (0 dB = the loudest cell, floor -80 dB): 25 ms Hann windows every 10 ms at 16 kHz.

    Returns ``(db [freqs, frames], frequencies_hz [freqs], times_s [frames])``; times are window centres.
    """
    samples = np.asarray(samples, dtype=np.float64)
    starts = np.arange(0, len(samples) - window + 1, hop)
    frames = np.stack([samples[s:s + window] for s in starts]) * np.hanning(window)  # (frames, window)
    power = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)).T ** 2  # (n_fft/2 + 1, frames)
    db = 10 * np.log10(np.maximum(power, 1e-20) / power.max())
    return np.maximum(db, -80.0), np.fft.rfftfreq(n_fft, d=1 / rate), (starts + window / 2) / rate


# ----- inputs -----------------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def clip(name: str) -> np.ndarray:
    """An asset loaded the course's way (src.audio.load_audio: mono, 16 kHz, float32). Read-only."""
    from src.audio import load_audio

    samples = load_audio(ASSETS / name).samples
    samples.setflags(write=False)
    return samples


def load_exercise(name: str):
    """Import exercises/<name>.py as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"exercise_{name}", ROOT / "exercises" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rounded(value, digits: int = FLOAT_DIGITS):
    """Numbers as JSON keeps them: floats to ``digits`` decimals (no "-0.0"), numpy scalars as Python ones."""
    if isinstance(value, dict):
        return {str(k): rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [rounded(v, digits) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return round(float(value), digits) + 0.0
    return value


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# ----- 1. sampling and bit depth ----------------------------------------------------------------------------------

def compute_sampling():
    """20 ms of test.wav (the loudest 20 ms step) as samples, and the same samples at 4 bits."""
    from src.audio import HUBERT_STRIDE, SAMPLE_RATE

    samples = clip("test.wav")
    length = SAMPLE_RATE * 20 // 1000  # 320 samples = 20 ms
    steps = samples[: len(samples) // length * length].reshape(-1, length)  # (150, 320)
    start = int(np.argmax((steps.astype(np.float64) ** 2).mean(axis=1))) * HUBERT_STRIDE
    window = samples[start:start + length].astype(np.float64)
    four_bit = quantise(window, 4)
    error = window - four_bit
    numbers = {
        "sample_rate_hz": SAMPLE_RATE,
        "start_sample": start,
        "samples_shown": length,
        "duration_ms": 1000 * length / SAMPLE_RATE,
        "levels_16_bit": 2**16,
        "bits": 4,
        "levels": 2**4,
        "step": 2 / 2**4,
        "levels_used": len(np.unique(four_bit)),
        "max_abs_error": np.abs(error).max(),
        "snr_db": 10 * np.log10((window**2).sum() / (error**2).sum()),
    }
    return rounded(numbers), {"window": window, "four_bit": four_bit}


def draw_sampling(numbers, data):
    plt = _plt()
    rate, start = numbers["sample_rate_hz"], numbers["start_sample"]
    t_ms = 1000 * (start + np.arange(numbers["samples_shown"])) / rate
    fig, (top, bottom) = plt.subplots(2, 1, figsize=FIGSIZE, sharex=True, sharey=True, constrained_layout=True)
    top.plot(t_ms, data["window"], color=GREY, linewidth=0.8, zorder=1)
    top.scatter(t_ms, data["window"], s=9, color=BLUE, zorder=2)
    top.set_title(f"{numbers['duration_ms']:g} ms of test.wav = {numbers['samples_shown']} samples at "
                  f"{rate:,} Hz, each one of {numbers['levels_16_bit']:,} levels (16-bit)")
    step = numbers["step"]
    for level in np.arange(-1, 1, step):
        bottom.axhline(level, color=GREY, linewidth=0.5, zorder=0)
    bottom.plot(t_ms, data["window"], color=GREY, linewidth=0.8, zorder=1, label="original (16-bit)")
    bottom.scatter(t_ms, data["four_bit"], s=9, color=VERMILLION, zorder=2, label="quantised to 4 bits")
    bottom.set_title(f"The same samples at {numbers['bits']} bits: {numbers['levels']} levels {step:g} apart "
                     f"({numbers['levels_used']} used here); error up to {numbers['max_abs_error']:.3f}, "
                     f"SNR {numbers['snr_db']:.1f} dB")
    bottom.legend(loc="lower right", framealpha=0.95)
    bottom.set_xlabel("time in test.wav (ms)")
    for ax in (top, bottom):
        ax.set_ylabel("amplitude (full scale ±1)")
    bottom.set_xlim(t_ms[0] - 0.2, t_ms[-1] + 0.2)
    return fig


# ----- 2. aliasing ------------------------------------------------------------------------------------------------

def compute_aliasing():
    """A 6 kHz and a 10 kHz cosine sampled at 16 kHz give the same samples: 10 kHz folds onto 16 - 10 = 6 kHz."""
    from src.audio import SAMPLE_RATE

    tones = (6_000, 10_000)
    n = np.arange(SAMPLE_RATE // 10)  # 0.1 s of samples
    sampled = [np.cos(2 * np.pi * f * n / SAMPLE_RATE) for f in tones]
    frequencies = np.fft.rfftfreq(len(n), d=1 / SAMPLE_RATE)
    spectra = [np.abs(np.fft.rfft(x)) / (len(n) / 2) for x in sampled]  # amplitude: 1.0 for a unit cosine
    numbers = {
        "sample_rate_hz": SAMPLE_RATE,
        "nyquist_hz": SAMPLE_RATE // 2,
        "tones_hz": list(tones),
        "aliased_hz": [aliased_frequency(f, SAMPLE_RATE) for f in tones],
        "fft_peak_hz": [frequencies[np.argmax(s)] for s in spectra],
        "same_samples": np.allclose(sampled[0], sampled[1], rtol=0, atol=1e-9),
    }
    return rounded(numbers), {"frequencies": frequencies, "spectra": spectra}


def draw_aliasing(numbers, data):
    plt = _plt()
    rate = numbers["sample_rate_hz"]
    low, high = numbers["tones_hz"]
    fig, (waves, spectrum) = plt.subplots(1, 2, figsize=FIGSIZE, width_ratios=(1.6, 1), constrained_layout=True)
    t = np.linspace(0, 1e-3, 2001)  # 1 ms, drawn as if continuous
    n = np.arange(rate // 1000 + 1)  # the 17 sampling instants in that millisecond
    waves.plot(1e3 * t, np.cos(2 * np.pi * low * t), color=BLUE, linewidth=1.6, label=f"{low / 1e3:g} kHz tone")
    waves.plot(1e3 * t, np.cos(2 * np.pi * high * t), color=ORANGE, linewidth=1.2, linestyle="--",
               label=f"{high / 1e3:g} kHz tone")
    waves.scatter(1e3 * n / rate, np.cos(2 * np.pi * low * n / rate), s=45, color="black", zorder=3,
                  label=f"samples at {rate / 1e3:g} kHz (both tones)")
    waves.set_xlabel("time (ms)")
    waves.set_ylabel("amplitude")
    waves.set_ylim(-1.25, 1.6)
    waves.legend(loc="upper center", ncols=3, fontsize=9, framealpha=0.95)
    same = "the same numbers (to 1e-9)" if numbers["same_samples"] else "different numbers"
    waves.set_title(f"Sampled {rate:,} times a second, a {low / 1e3:g} kHz and a {high / 1e3:g} kHz tone\n"
                    f"give {same}")
    khz = data["frequencies"] / 1e3
    nyquist = numbers["nyquist_hz"] / 1e3
    spectrum.axvspan(nyquist, 12, color=GREY, alpha=0.25, linewidth=0)
    spectrum.text(high / 1e3, 1.2, "above Nyquist:\nnot representable\nat 16 kHz", ha="center", va="top",
                  fontsize=9.5)
    spectrum.plot(khz, data["spectra"][0], color=BLUE, linewidth=3, label=f"sampled {low / 1e3:g} kHz tone")
    spectrum.plot(khz, data["spectra"][1], color=ORANGE, linewidth=1.4, linestyle="--",
                  label=f"sampled {high / 1e3:g} kHz tone")
    spectrum.vlines(high / 1e3, 0, 1, color=ORANGE, linewidth=1.4, linestyle=":")
    spectrum.scatter([high / 1e3], [1], s=40, color=ORANGE, zorder=3)
    spectrum.text(high / 1e3, 0.3, f"{high / 1e3:g} kHz tone\nbefore\nsampling", ha="center", fontsize=9.5,
                  bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    alias = numbers["aliased_hz"][1] / 1e3
    spectrum.annotate("", xy=(alias + 0.1, 0.9), xytext=(high / 1e3 - 0.1, 0.9),
                      arrowprops={"arrowstyle": "->", "color": "black", "linewidth": 1.3,
                                  "connectionstyle": "arc3,rad=0.35"})
    spectrum.text((alias + nyquist) / 2 + 0.25, 0.7, f"folds to\n{rate / 1e3:g} − {high / 1e3:g}\n= {alias:g} kHz",
                  ha="center", fontsize=9.5)
    spectrum.set_xlim(0, 12)
    spectrum.set_ylim(0, 1.25)
    spectrum.set_xlabel("frequency (kHz)")
    spectrum.set_ylabel("amplitude")
    spectrum.legend(loc="upper left", fontsize=9)
    peaks = numbers["fft_peak_hz"]
    where = f"{peaks[0] / 1e3:g} kHz" if peaks[0] == peaks[1] else f"{peaks[0] / 1e3:g} and {peaks[1] / 1e3:g} kHz"
    spectrum.set_title(f"After sampling, both spectra\npeak at {where}")
    return fig


# ----- 3. the telephone: 16 kHz vs 8 kHz ----------------------------------------------------------------------------

def compute_telephone():
    """test.wav at 16 kHz, and the same clip through an 8 kHz channel: what lies above 4 kHz is lost."""
    from src.audio import SAMPLE_RATE, TELEPHONE_SAMPLE_RATE, energy_share_above, through_rate

    original = clip("test.wav")
    phone = through_rate(original, SAMPLE_RATE, TELEPHONE_SAMPLE_RATE)
    cutoff = TELEPHONE_SAMPLE_RATE / 2
    residual = original.astype(np.float64) - phone
    numbers = {
        "sample_rate_hz": SAMPLE_RATE,
        "low_rate_hz": TELEPHONE_SAMPLE_RATE,
        "cutoff_hz": cutoff,
        "percent_above_4khz": 100 * energy_share_above(original, SAMPLE_RATE, cutoff),
        "percent_above_4khz_after": 100 * energy_share_above(phone, SAMPLE_RATE, cutoff),
        "percent_energy_removed": 100 * (residual**2).sum() / (original.astype(np.float64) ** 2).sum(),
    }
    return rounded(numbers), {"original": original, "phone": phone}


def draw_telephone(numbers, data):
    plt = _plt()
    rate, cutoff_khz = numbers["sample_rate_hz"], numbers["cutoff_hz"] / 1e3
    fig = plt.figure(figsize=FIGSIZE, constrained_layout=True)
    grid = fig.add_gridspec(2, 2, height_ratios=(1.25, 1))
    left, right, bottom = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])
    for ax, samples, title in [
        (left, data["original"], f"test.wav at {rate / 1e3:g} kHz (up to 8 kHz)"),
        (right, data["phone"], f"through {numbers['low_rate_hz'] / 1e3:g} kHz (telephone): nothing above "
                               f"{cutoff_khz:g} kHz"),
    ]:
        db, freqs, times = spectrogram_db(samples, rate)
        image = ax.pcolormesh(times, freqs / 1e3, db, cmap=SPECTROGRAM_CMAP, vmin=-80, vmax=0, shading="nearest",
                              rasterized=True)
        ax.axhline(cutoff_khz, color="white", linestyle="--", linewidth=1)
        ax.set_title(title)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("frequency (kHz)")
    fig.colorbar(image, ax=[left, right], label="power (dB)", shrink=0.9)

    for samples, colour, width, label in [(data["original"], BLUE, 1.6, "16 kHz"),
                                          (data["phone"], VERMILLION, 1.2, "through 8 kHz")]:
        db, freqs, _ = spectrogram_db(samples, rate)
        average = 10 * np.log10(np.mean(10 ** (db / 10), axis=1))  # long-term average spectrum, dB
        bottom.plot(freqs / 1e3, average, color=colour, linewidth=width, label=label)
    bottom.axvspan(cutoff_khz, rate / 2e3, color=GREY, alpha=0.25, linewidth=0)
    bottom.text(cutoff_khz + 0.1, -4, f"{numbers['percent_above_4khz']:.2f} % of test.wav's energy is above "
                f"{cutoff_khz:g} kHz:\nan 8 kHz channel removes it (and the resampler's\nfilter edge just below: "
                f"{numbers['percent_energy_removed']:.2f} % removed in all)", va="top", fontsize=10)
    bottom.set_xlim(0, rate / 2e3)
    bottom.set_ylim(-95, 0)
    bottom.set_xlabel("frequency (kHz)")
    bottom.set_ylabel("average power (dB)")
    bottom.legend(loc="lower left")
    bottom.set_title("Average spectrum of the whole clip")
    return fig


# ----- 4. the feature extractor: z-normalisation --------------------------------------------------------------------

def _stats(x: np.ndarray) -> dict:
    x = np.asarray(x, dtype=np.float64)
    return {"mean": x.mean(), "std": x.std(), "min": x.min(), "max": x.max()}


def compute_normalisation():
    """test.wav before and after HuBERT-XLarge's feature extractor: (x - mean) / sqrt(var + 1e-7)."""
    from src.audio import SAMPLE_RATE, make_feature_extractor

    raw = clip("test.wav")
    features = make_feature_extractor()(raw, sampling_rate=SAMPLE_RATE, return_tensors="np")
    normalised = features["input_values"]  # (1, 48000): one clip gains a batch dimension
    numbers = {"raw": _stats(raw), "normalised": _stats(normalised[0]), "input_shape": list(normalised.shape)}
    return rounded(numbers), {"raw": raw, "normalised": normalised[0]}


def draw_normalisation(numbers, data):
    plt = _plt()
    from src.audio import SAMPLE_RATE

    fig, axes = plt.subplots(2, 1, figsize=FIGSIZE, sharex=True, sharey=True, constrained_layout=True)
    t = np.arange(len(data["raw"])) / SAMPLE_RATE
    for ax, key, colour, what in [(axes[0], "raw", BLUE, "raw test.wav (float32)"),
                                  (axes[1], "normalised", VERMILLION, "after Wav2Vec2FeatureExtractor")]:
        s = numbers[key]
        ax.plot(t, data[key], color=colour, linewidth=0.5)
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_title(f"{what}: mean {s['mean']:.4f}, std {s['std']:.4f}, range [{s['min']:.2f}, {s['max']:.2f}]")
        ax.set_ylabel("amplitude")
    axes[1].set_xlabel("time (s)")
    axes[1].set_xlim(0, t[-1])
    fig.suptitle("Same shape, new scale: each clip becomes (x − mean) / √(var + 1e-7), "
                 f"shape {numbers['input_shape']}")
    return fig


# ----- 5. the feature extractor: a padded batch and its attention mask --------------------------------------------

def compute_padding():
    """Two clips of different lengths in one batch: padded with 0.0 to the longest, with a 1/0 attention mask."""
    from src.audio import SAMPLE_RATE, make_feature_extractor

    clips = [clip("test.wav"), clip("test_44k_stereo.wav")]  # 48,000 and 72,000 samples at 16 kHz
    batch = make_feature_extractor()(clips, sampling_rate=SAMPLE_RATE, padding="longest", return_tensors="np")
    values, mask = batch["input_values"], batch["attention_mask"]  # (2, 72000) each
    lengths = [len(c) for c in clips]
    numbers = {
        "clip_lengths": lengths,
        "batch_shape": list(values.shape),
        "mask_sums": [int(m.sum()) for m in mask],
        "padding_samples": [values.shape[1] - n for n in lengths],
        "padding_is_zero": bool(all(np.all(v[n:] == 0.0) for v, n in zip(values, lengths))),
        "real_part_std": [values[i, :n].std() for i, n in enumerate(lengths)],
    }
    return rounded(numbers), {"values": values, "mask": mask}


def draw_padding(numbers, data):
    plt = _plt()
    from matplotlib.colors import ListedColormap
    from src.audio import SAMPLE_RATE

    values, mask = data["values"], data["mask"]
    total = numbers["batch_shape"][1]
    t = np.arange(total) / SAMPLE_RATE
    fig, axes = plt.subplots(3, 1, figsize=FIGSIZE, sharex=True, height_ratios=(1, 1, 0.7),
                             constrained_layout=True)
    names = ["test.wav", "test_44k_stereo.wav (loaded at 16 kHz)"]
    for i, (ax, colour) in enumerate(zip(axes[:2], (BLUE, ORANGE))):
        n, pad = numbers["clip_lengths"][i], numbers["padding_samples"][i]
        ax.plot(t, values[i], color=colour, linewidth=0.5)
        if pad:
            ax.axvspan(n / SAMPLE_RATE, total / SAMPLE_RATE, color=GREY, alpha=0.3, linewidth=0)
            ax.text((n + total) / 2 / SAMPLE_RATE, 5, f"{pad:,} padding samples, all 0.0", ha="center")
        ax.set_title(f"clip {i + 1}: {names[i]}, {n:,} samples" + (f" + {pad:,} of padding" if pad else
                                                                   " (the longest: no padding)"), loc="left")
        ax.set_ylabel("value")
        ax.set_ylim(-9, 9)
    axes[2].imshow(mask, aspect="auto", interpolation="nearest", cmap=ListedColormap(["#DDDDDD", GREEN]),
                   vmin=0, vmax=1, extent=(0, total / SAMPLE_RATE, 1.5, -0.5))
    for i, (n, s) in enumerate(zip(numbers["clip_lengths"], numbers["mask_sums"])):
        axes[2].text(n / SAMPLE_RATE / 2, i, f"1 × {s:,} (real)", ha="center", va="center", color="white",
                     fontweight="bold")
        if n < total:
            axes[2].text((n + total) / 2 / SAMPLE_RATE, i, f"0 × {total - n:,} (padding)", ha="center",
                         va="center")
    axes[2].set_yticks([0, 1], ["clip 1", "clip 2"])
    axes[2].set_title("attention_mask: 1 = real sample, 0 = padding", loc="left")
    axes[2].set_xlabel("time (s)")
    axes[2].set_xlim(0, total / SAMPLE_RATE)
    fig.suptitle(f"padding=\"longest\": a batch of shape {numbers['batch_shape']}; "
                 f"mask sums {numbers['mask_sums'][0]:,} and {numbers['mask_sums'][1]:,} = the clip lengths")
    return fig


# ----- 6. HuBERT's framing: 400-sample windows every 320 samples ------------------------------------------------

ZOOM_FRAMES = 8  # frames drawn one by one in the lower panel: 0..7 cover the first 0.165 s (speech starts at 0.06 s)


def compute_framing():
    """Where HuBERT's 149 frames of test.wav come from: a 400-sample window every 320 samples."""
    from src.audio import HUBERT_RECEPTIVE_FIELD, HUBERT_STRIDE, SAMPLE_RATE, predicted_frames

    samples = clip("test.wav")
    n = len(samples)
    frames = predicted_frames(n)
    last_start = (frames - 1) * HUBERT_STRIDE
    numbers = {
        "num_samples": n,
        "receptive_field": HUBERT_RECEPTIVE_FIELD,
        "receptive_field_ms": 1000 * HUBERT_RECEPTIVE_FIELD / SAMPLE_RATE,
        "stride": HUBERT_STRIDE,
        "stride_ms": 1000 * HUBERT_STRIDE / SAMPLE_RATE,
        "frames": frames,
        "last_frame_window": [last_start, last_start + HUBERT_RECEPTIVE_FIELD],
        "samples_after_last_window": n - (last_start + HUBERT_RECEPTIVE_FIELD),
        "time_reduction": n / frames,
        "ms_per_frame": 1000 * n / frames / SAMPLE_RATE,
        "zoom_windows": [[k * HUBERT_STRIDE, k * HUBERT_STRIDE + HUBERT_RECEPTIVE_FIELD] for k in range(ZOOM_FRAMES)],
    }
    return rounded(numbers), {"samples": samples}


def draw_framing(numbers, data):
    plt = _plt()
    from matplotlib.patches import Rectangle
    from src.audio import SAMPLE_RATE

    samples, hop, field, frames = data["samples"], numbers["stride"], numbers["receptive_field"], numbers["frames"]
    fig, (spec, zoom) = plt.subplots(2, 1, figsize=FIGSIZE, height_ratios=(1, 1.15), constrained_layout=True)

    db, freqs, times = spectrogram_db(samples, SAMPLE_RATE)
    spec.pcolormesh(times, freqs / 1e3, db, cmap=SPECTROGRAM_CMAP, vmin=-80, vmax=0, shading="nearest",
                    rasterized=True)
    starts = np.arange(frames) * hop / SAMPLE_RATE
    spec.vlines(starts, 0, 0.45, color="white", linewidth=0.6)  # one tick where each frame's window starts
    zoom_end = numbers["zoom_windows"][-1][1] / SAMPLE_RATE
    spec.add_patch(Rectangle((0, 0), zoom_end, 8, fill=False, edgecolor=SKY, linewidth=2))
    spec.set_xlim(0, len(samples) / SAMPLE_RATE)
    spec.set_ylim(0, 8)
    spec.set_xlabel("time (s)")
    spec.set_ylabel("frequency (kHz)")
    centres = np.arange(frames) * hop + field / 2
    marks = [0, 25, 50, 75, 100, 125, frames - 1]
    top = spec.secondary_xaxis("top", functions=(lambda s: s, lambda s: s))
    top.set_xticks(centres[marks] / SAMPLE_RATE, [str(k) for k in marks])
    top.set_xlabel("HuBERT frame (white ticks: where each window starts)")
    spec.set_title(f"test.wav: floor(({numbers['num_samples']:,} − {field}) / {hop}) + 1 = {frames} frames "
                   f"(0..{frames - 1}), one every {numbers['ms_per_frame']:.1f} ms on average")

    end = int(numbers["zoom_windows"][-1][1])
    t_ms = 1000 * np.arange(end) / SAMPLE_RATE
    zoom.plot(t_ms, samples[:end], color=GREY, linewidth=0.8)
    for k, (a, b) in enumerate(numbers["zoom_windows"]):
        lane = -0.88 - 0.17 * (k % 2)  # alternate lanes, so overlapping windows stay visible
        colour = BLUE if k % 2 == 0 else ORANGE
        zoom.add_patch(Rectangle((1000 * a / SAMPLE_RATE, lane), 1000 * (b - a) / SAMPLE_RATE, 0.13,
                                 color=colour, alpha=0.85, linewidth=0))
        zoom.text(1000 * (a + b) / 2 / SAMPLE_RATE, lane + 0.065, f"frame {k}", ha="center", va="center",
                  color="white", fontsize=9, fontweight="bold")
    for y, length, text in [(0.55, hop, f"hop: {hop} samples = {numbers['stride_ms']:g} ms"),
                            (0.3, field, f"window: {field} samples = {numbers['receptive_field_ms']:g} ms")]:
        zoom.annotate("", xy=(1000 * length / SAMPLE_RATE, y), xytext=(0, y),
                      arrowprops={"arrowstyle": "<->", "color": "black", "shrinkA": 0, "shrinkB": 0})
        zoom.text(1000 * length / SAMPLE_RATE + 1.5, y, text, va="center")
    zoom.set_xlim(0, 1000 * end / SAMPLE_RATE)
    zoom.set_ylim(-1.1, 0.75)
    zoom.set_xlabel("time (ms)")
    zoom.set_ylabel("amplitude")
    zoom.set_title(f"Zoom on frames 0..{len(numbers['zoom_windows']) - 1} (blue box above): consecutive windows "
                   f"overlap by {field - hop} samples")
    return fig


# ----- 7. hidden units and the mask HuBERT learns to fill ------------------------------------------------------

MASK_START_PROBABILITY = 0.08  # HuBERT paper: each frame starts a masked span with probability 8 % ...
MASK_SPAN = 10  # ... of 10 frames (200 ms); spans overlap, so a little over half of the frames end up masked
UNIT_CLUSTERS = 25  # exercises/hidden_units.py's default: a 3 s clip is too short for the paper's 100


def compute_hidden_units():
    """Units of test.wav made the way HuBERT's first round made them (MFCC -> k-means, exercises/hidden_units.py),
    one per HuBERT frame, and a mask sampled with transformers' own span sampler."""
    from transformers.models.hubert.modeling_hubert import _compute_mask_indices

    from src.audio import SAMPLE_RATE, predicted_frames

    exercise = load_exercise("hidden_units")
    samples = clip("test.wav")
    features = exercise.mfcc_39(samples, SAMPLE_RATE)  # (298, 39): 25 ms windows every 10 ms
    units_100hz = exercise.fit_units([features], UNIT_CLUSTERS, SEED).predict(features)  # (298,)
    units = units_100hz[::2]  # (149,): the 50 Hz model learns every second label, one per HuBERT frame
    silent = exercise.silent_frames(samples, SAMPLE_RATE)[::2]  # (149,)
    frames = predicted_frames(len(samples))

    # transformers draws int(mask_prob * frames / span + U[0, 1)) span starts, so its mask_prob is the paper's
    # start probability times the span: 0.08 * 10 = 0.8 (mask_prob=0.08 would mean about 1 span, ~8 %).
    # It takes its randomness from NumPy's global generator, hence the seed.
    np.random.seed(SEED)
    mask = _compute_mask_indices((1, frames), MASK_START_PROBABILITY * MASK_SPAN, MASK_SPAN)[0]  # (149,) bool
    masked = np.flatnonzero(mask)
    numbers = {
        "mfcc_frames": len(features),
        "hubert_frames": frames,
        "labels_50hz": len(units),
        "clusters": UNIT_CLUSTERS,
        "seed": SEED,
        "units_50hz": units,
        "distinct_units": len(np.unique(units)),
        "unit_runs_50hz": len(exercise.run_lengths(units)),
        "silent_frames_50hz": int(silent.sum()),
        "mask_start_probability": MASK_START_PROBABILITY,
        "mask_span": MASK_SPAN,
        "mask_prob_argument": MASK_START_PROBABILITY * MASK_SPAN,
        "masked_frames": masked,
        "masked_count": len(masked),
        "masked_share": len(masked) / frames,
        "masked_stretches": sum(1 for value, _ in exercise.run_lengths(mask.astype(int)) if value),
        "expected_share_independent_starts": 1 - (1 - MASK_START_PROBABILITY) ** MASK_SPAN,
    }
    return rounded(numbers), {"samples": samples, "units": units, "silent": silent, "mask": mask}


def draw_hidden_units(numbers, data):
    plt = _plt()
    from matplotlib.colors import ListedColormap
    from src.audio import HUBERT_RECEPTIVE_FIELD, HUBERT_STRIDE, SAMPLE_RATE

    frames, units, mask, silent = numbers["hubert_frames"], data["units"], data["mask"], data["silent"]
    edges = np.arange(frames + 1) * HUBERT_STRIDE / SAMPLE_RATE  # frame k drawn from k * 20 ms to (k + 1) * 20 ms
    end = (frames * HUBERT_STRIDE + HUBERT_RECEPTIVE_FIELD - HUBERT_STRIDE) / SAMPLE_RATE
    fig, (spec, roll, strip) = plt.subplots(3, 1, figsize=FIGSIZE, sharex=True, height_ratios=(1, 1.25, 0.3),
                                            constrained_layout=True)
    db, freqs, times = spectrogram_db(data["samples"], SAMPLE_RATE)
    spec.pcolormesh(times, freqs / 1e3, db, cmap=SPECTROGRAM_CMAP, vmin=-80, vmax=0, shading="nearest",
                    rasterized=True)
    spec.set_ylim(0, 8)
    spec.set_ylabel("frequency (kHz)")
    spec.set_title(f"test.wav; below: its {numbers['labels_50hz']} hidden units (MFCC → k-means, "
                   f"{numbers['clusters']} clusters, one per 20 ms HuBERT frame)")

    for value, start, length in _runs(silent):
        if value:
            roll.axvspan(edges[start], edges[start + length], color=GREY, alpha=0.25, linewidth=0)
    for k, unit in enumerate(units):
        colour = VERMILLION if mask[k] else BLUE
        roll.hlines(unit, edges[k], edges[k + 1], color=colour, linewidth=4)
    roll.plot([], [], color=BLUE, linewidth=4, label="unit of a visible frame")
    roll.plot([], [], color=VERMILLION, linewidth=4, label="unit HuBERT must predict (frame masked)")
    roll.fill_between([], [], color=GREY, alpha=0.25, label="silence")
    roll.set_ylim(-1, numbers["clusters"] + 5)  # room for the legend above the highest unit
    roll.set_yticks(range(0, numbers["clusters"], 5))
    roll.set_ylabel("unit id")
    roll.legend(loc="upper right", ncols=3, fontsize=9, framealpha=0.95)
    roll.set_title(f"{numbers['distinct_units']} distinct units in {numbers['unit_runs_50hz']} runs "
                   "(a run: the same unit in consecutive frames)", fontsize=10.5)

    strip.imshow(mask[None, :], aspect="auto", interpolation="nearest", vmin=0, vmax=1,
                 cmap=ListedColormap(["#E8E8E8", VERMILLION]), extent=(edges[0], edges[-1], 0.5, -0.5))
    strip.set_yticks([0], ["mask"])
    strip.set_xlim(0, end)
    strip.set_xlabel("time (s)")
    strip.set_title(f"Sampled mask: {numbers['mask_start_probability'] * 100:g} % of frames start a span of "
                    f"{numbers['mask_span']}; spans overlap, so {numbers['masked_count']} of {frames} frames "
                    f"({100 * numbers['masked_share']:.1f} %) are masked, in {numbers['masked_stretches']} stretches",
                    fontsize=10.5)
    return fig


def _runs(values):
    """(value, start, length) for each run of equal values."""
    values = np.asarray(values)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return [(values[s], s, n) for s, n in zip(starts, np.diff(np.r_[starts, len(values)]))]


# ----- 8. the parameter budget ----------------------------------------------------------------------------------------

def compute_parameter_budget():
    """Total, trainable and frozen parameters per component, counted on the meta device (no weights, no memory)."""
    import torch

    from src.asr_config import ASRConfig
    from src.asr_modeling import ASRModel
    from src.lora import parameter_summary

    with torch.device("meta"):
        model = ASRModel(ASRConfig())
    numbers = {
        name: {"total": c.total, "trainable": c.trainable, "frozen": c.frozen, "trainable_percent": c.trainable_percent}
        for name, c in parameter_summary(model).items()
    }
    return rounded(numbers), {}


def draw_parameter_budget(numbers, data):
    plt = _plt()
    components = [("encoder", "encoder\nHuBERT-XLarge + LoRA"), ("projector", "projector\nSwiGLU MLP"),
                  ("decoder", "decoder\nQwen3-8B + LoRA"), ("overall", "whole model")]
    kinds = [("total", GREY), ("frozen", BLUE), ("trainable", ORANGE)]
    fig, ax = plt.subplots(figsize=FIGSIZE, constrained_layout=True)
    height = 0.26
    for row, (key, _) in enumerate(components):
        for j, (kind, colour) in enumerate(kinds):
            y = row + (j - 1) * height
            value = numbers[key][kind]
            if value:
                ax.barh(y, value, height=height * 0.9, color=colour, label=kind if row == 0 else None)
                text = f"{value:,}" + (f"  ({numbers[key]['trainable_percent']:.2f} %)" if kind == "trainable" else "")
            else:
                text = "0 (nothing frozen)"
            ax.text(max(value, 1.2e5) * 1.15, y, text, va="center", fontsize=9.5)
    ax.set_xscale("log")
    ax.set_xlim(1e5, 1e12)
    ax.set_yticks(range(len(components)), [label for _, label in components])
    ax.invert_yaxis()
    ax.set_xlabel("parameters (log scale)")
    ax.legend(loc="lower right", framealpha=0.95)
    overall = numbers["overall"]
    ax.set_title(f"Trainable: {overall['trainable']:,} of {overall['total']:,} parameters "
                 f"({overall['trainable_percent']:.2f} %): the projector, plus LoRA adapters")
    return fig


# ----- writing -----------------------------------------------------------------------------------------------------

FIGURE_NAMES = ["sampling", "aliasing", "telephone", "normalisation", "padding", "framing", "hidden_units",
                "parameter_budget"]


def _write_atomically(path: Path, write) -> None:
    """Write via a temporary file in the same folder, then rename: a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def make_figure(name: str, out: Path = FIGURES) -> dict:
    """Compute, draw and save one figure: ``out/<name>.png`` and ``out/<name>.json``. Returns its numbers."""
    import matplotlib

    plt = _plt()
    np.random.seed(SEED)
    numbers, data = globals()[f"compute_{name}"]()
    out.mkdir(parents=True, exist_ok=True)
    matplotlib.rcdefaults()  # ignore any matplotlibrc on this machine: the same style everywhere
    with plt.rc_context(STYLE):
        fig = globals()[f"draw_{name}"](numbers, data)
        try:
            # metadata: no "Software" text chunk, so the PNG does not change with matplotlib's version.
            _write_atomically(out / f"{name}.png",
                              lambda p: fig.savefig(p, dpi=DPI, format="png", metadata={"Software": None}))
        finally:
            plt.close(fig)
    text = json.dumps(numbers, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    _write_atomically(out / f"{name}.json", lambda p: Path(p).write_text(text, encoding="utf-8"))
    return numbers


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--only", action="append", choices=FIGURE_NAMES, metavar="NAME",
                        help=f"draw only this figure (repeatable); one of: {', '.join(FIGURE_NAMES)}")
    parser.add_argument("--out", type=Path, default=FIGURES, help="folder for the PNG and JSON files")
    args = parser.parse_args(argv)
    made = {}
    for name in args.only or FIGURE_NAMES:
        made[name] = make_figure(name, args.out)
        print(f"wrote {args.out / name}.png and .json")
    return made


if __name__ == "__main__":
    main()
