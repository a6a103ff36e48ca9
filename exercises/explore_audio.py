"""Exercise 1: how speech becomes data.

Load an audio file at 16 kHz, look at the raw numbers, apply HuBERT's feature extractor (z-normalisation)
and save a picture of both waveforms and a spectrogram.

    poetry run python exercises/explore_audio.py                      # the 3-second sample
    poetry run python exercises/explore_audio.py my.wav -o mine.png   # your own recording
    poetry run python exercises/explore_audio.py --through-rate 8000  # what telephone audio loses
"""

from __future__ import annotations

from src.audio import SAMPLE_RATE, energy_share_above, load_audio, make_feature_extractor, through_rate, z_normalise
from src.cli import ArgumentParser, check_writable, default_audio, display_path, fixed, run, save_figure, seconds


def explore(path, low_rate: int | None = None) -> dict:
    """Load one clip, print its numbers, and prepare it the way HuBERT expects."""
    # 1. Any file becomes mono float32 at 16 kHz: channels averaged, resampled while loading
    audio = load_audio(path, sample_rate=SAMPLE_RATE)
    samples = audio.samples  # [N], N = seconds x 16,000
    print(f"Exercise 1: loaded {display_path(path)}")
    print(f"  sample rate:  {audio.sample_rate} Hz")
    print(f"  duration:     {seconds(audio.duration)}")
    print(f"  shape:        {samples.shape}")
    print(f"  value range:  [{fixed(samples.min())}, {fixed(samples.max())}]")
    print_notes(audio)  # resampled? down-mixed? silent? a peak above 1.0?

    # 2. The feature extractor z-normalises each utterance: mean 0, standard deviation 1
    extractor = make_feature_extractor()
    batch = extractor(samples, sampling_rate=SAMPLE_RATE, return_tensors="np")
    normalised = batch["input_values"]  # [1, N]: the extractor returns a batch, here of one clip
    by_hand = z_normalise(samples)  # (x - mean) / sqrt(var + 1e-7)
    print(f"Feature extractor ({type(extractor).__name__}, do_normalize={extractor.do_normalize})")
    print(f"  normalised shape: {list(normalised.shape)}")
    print(f"  mean:             {fixed(normalised.mean())}")
    print(f"  std:              {fixed(normalised.std())}")
    print(f"  same as (x - mean) / sqrt(var + 1e-7): {'yes' if abs(normalised[0] - by_hand).max() < 1e-4 else 'NO'}")

    # 3. Optional: the clip as a lower sampling rate would have kept it (8000 Hz: a telephone line)
    lost = None
    if low_rate is not None:
        lost = energy_share_above(samples, SAMPLE_RATE, low_rate / 2)
        print(f"Through {low_rate} Hz: everything above {low_rate // 2} Hz is gone")
        print(f"  energy above {low_rate // 2} Hz: {100 * lost:.1f} % of the clip's energy, lost")

    return {"audio": audio, "normalised": normalised[0], "by_hand": by_hand, "energy_lost": lost}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    output = None if args.no_plot else check_writable(args.output)
    path = args.audio or default_audio()
    result = explore(path, args.through_rate)
    audio, normalised = result["audio"], result["normalised"]

    plotted = None
    if output is not None:
        low = through_rate(audio.samples, SAMPLE_RATE, args.through_rate) if args.through_rate else None
        plotted = plot(audio.samples, normalised, low, args.through_rate, display_path(path), output)
        print(f"Saved {display_path(output)} (raw and normalised waveforms, spectrogram"
              f"{f', and through {args.through_rate} Hz' if low is not None else ''})")

    return {
        "sample_rate": audio.sample_rate,
        "original_sample_rate": audio.original_sample_rate,
        "original_channels": audio.original_channels,
        "duration": audio.duration,
        "shape": tuple(audio.samples.shape),
        "min": float(audio.samples.min()),
        "max": float(audio.samples.max()),
        "peak": audio.peak,
        "silent": audio.is_silent,
        "normalized_shape": (1, *normalised.shape),
        "mean": float(normalised.mean()),
        "std": float(normalised.std()),
        "by_hand_max_difference": float(abs(normalised - result["by_hand"]).max()),
        "through_rate": args.through_rate,
        "energy_lost": result["energy_lost"],
        "output": output,
        "plotted": plotted,  # the data each panel of the figure shows
    }


# ----- the rest: notes, options and the figure ------------------------------------------------------------------
def print_notes(audio) -> None:
    """What loading changed, and what is unusual about this clip."""
    from src.audio import MIN_SAMPLES

    if audio.was_resampled:
        print(f"  note: resampled from {audio.original_sample_rate} Hz to {audio.sample_rate} Hz")
    if audio.was_downmixed:
        print(f"  note: down-mixed {audio.original_channels} channels to mono (the average of the channels)")
    if audio.peak > 1:
        print(f"  note: the peak is {audio.peak:.4f}, above 1.0: written back as 16-bit PCM this would clip")
    if audio.is_silent:
        print("  note: the audio is silent (every sample is 0); normalised it stays 0: (0 - 0) / sqrt(0 + 1e-7)")
    if audio.num_samples < MIN_SAMPLES:
        print(f"  note: {audio.num_samples} samples is too short for HuBERT (it needs at least {MIN_SAMPLES})")


def parse_args(argv: list[str] | None):
    parser = ArgumentParser(prog="explore_audio.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", nargs="?", default=None,
                        help="audio file: WAV, FLAC, OGG or MP3, any rate, any channels (default: assets/test.wav)")
    parser.add_argument("-o", "--output", default="audio_processing.png", help="where to save the figure")
    parser.add_argument("--through-rate", type=_lower_rate, default=None, metavar="HZ",
                        help="also pass the clip through this lower sampling rate (e.g. 8000, a telephone) and "
                             "show what it loses")
    parser.add_argument("--no-plot", action="store_true", help="print the numbers only, save no figure")
    return parser.parse_args(argv)


def _lower_rate(text: str) -> int:
    import argparse

    value = int(text)
    if not 1_000 <= value < SAMPLE_RATE:
        raise argparse.ArgumentTypeError(f"must be a rate from 1000 to {SAMPLE_RATE - 1} Hz, got {value}")
    return value


MAX_PLOT_POINTS = 4_000  # waveform columns drawn; longer audio is drawn as a min/max envelope
MAX_SPECTROGRAM_COLUMNS = 4_000
N_FFT = 400  # 25 ms windows, like one HuBERT frame


def envelope(samples, times, points: int = MAX_PLOT_POINTS):
    """Min and max per column, so minutes of audio draw as fast (and look the same) as seconds."""
    if len(samples) <= points:
        return times, samples, samples
    usable = len(samples) // points * points
    blocks = samples[:usable].reshape(points, -1)
    return times[:usable].reshape(points, -1)[:, 0], blocks.min(axis=1), blocks.max(axis=1)


def spectrogram_db(samples):
    """Power in dB (0 = the loudest bin) over time and 0-8 kHz; the hop grows with the length."""
    import librosa
    import numpy as np

    hop = max(160, len(samples) // MAX_SPECTROGRAM_COLUMNS)
    power = np.abs(librosa.stft(samples, n_fft=N_FFT, hop_length=hop, center=False)) ** 2
    return librosa.power_to_db(power, ref=np.max(power) if power.max() > 0 else 1.0, top_db=80)


def plot(raw, normalised, low, low_rate, title: str, path) -> dict:
    """Raw and normalised waveforms, the spectrogram (and the clip through a lower rate); returns the data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    times = np.arange(len(raw)) / SAMPLE_RATE
    panels = 3 if low is None else 4
    fig, axes = plt.subplots(panels, 1, figsize=(11, 8 if low is None else 10.5), constrained_layout=True)
    waves = [(axes[0], raw, f"{title}: raw waveform, float32, values from {fixed(raw.min(), 3)} to "
                            f"{fixed(raw.max(), 3)}", "tab:blue"),
             (axes[1], normalised, f"z-normalised: mean {fixed(normalised.mean(), 2)}, "
                                   f"std {fixed(normalised.std(), 2)}", "tab:orange")]
    for ax, samples, label, colour in waves:
        t, low_env, high_env = envelope(samples, times)
        ax.fill_between(t, low_env, high_env, color=colour, linewidth=0.6)
        ax.plot(t, high_env, color=colour, linewidth=0.4)
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set(title=label, ylabel="amplitude", xlim=(0, times[-1] if len(times) > 1 else 1))

    spectrograms = [(axes[2], raw, f"spectrogram: 0 to {SAMPLE_RATE // 2} Hz, all that 16 kHz sampling keeps")]
    if low is not None:
        spectrograms.append((axes[3], low, f"the same clip through {low_rate} Hz: nothing above {low_rate // 2} Hz"))
    for ax, samples, label in spectrograms:
        if len(samples) >= N_FFT:
            db = spectrogram_db(samples)
            image = ax.imshow(db, origin="lower", aspect="auto", cmap="magma", interpolation="nearest",
                              extent=(0, len(samples) / SAMPLE_RATE, 0, SAMPLE_RATE / 2))
            fig.colorbar(image, ax=ax, label="dB")
        else:
            ax.text(0.5, 0.5, "too short for a spectrogram", ha="center", va="center")
        ax.set(title=label, ylabel="frequency (Hz)")
    for ax in axes:
        ax.set_xlabel("time (s)")
    save_figure(fig, path, dpi=110)
    plt.close(fig)
    return {"raw": raw, "normalised": normalised, "through": low}


if __name__ == "__main__":
    run(main)
