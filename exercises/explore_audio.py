"""Exercise 1: how speech becomes data.

Load an audio file at 16 kHz, look at the raw numbers, apply HuBERT's feature extractor (z-normalisation)
and save a picture of both waveforms and a spectrogram.

    poetry run python exercises/explore_audio.py                     # the 3-second sample
    poetry run python exercises/explore_audio.py my.wav -o mine.png  # your own recording
"""

from __future__ import annotations

import sys
from pathlib import Path

from src.cli import DEFAULT_AUDIO, ArgumentParser, check_writable, display_path, fixed, run, save_figure

MAX_PLOT_POINTS = 4_000  # waveform columns drawn; longer audio is drawn as a min/max envelope
MAX_SPECTROGRAM_COLUMNS = 4_000


def parse_args(argv: list[str] | None):
    parser = ArgumentParser(prog="explore_audio.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", nargs="?", default=None,
                        help="audio file: WAV, FLAC, OGG or MP3 (default: assets/test.wav, the 3-second sample)")
    parser.add_argument("-o", "--output", default="audio_processing.png", help="where to save the figure")
    parser.add_argument("--model", default="hubert-xlarge-ls960-ft",
                        help="whose feature extractor settings to use: a HuBERT preset, or a local directory "
                             "with preprocessor_config.json")
    parser.add_argument("--no-plot", action="store_true", help="print the numbers only, save no figure")
    return parser.parse_args(argv)


def feature_extractor_for(model: str):
    """The preset's published settings, or a local directory's preprocessor_config.json."""
    from src.audio import make_feature_extractor
    from src.errors import ModelNotFoundError
    from src.presets import find_encoder_preset

    if find_encoder_preset(model) is not None:
        return make_feature_extractor()
    if (Path(model) / "preprocessor_config.json").is_file():
        from transformers import Wav2Vec2FeatureExtractor

        return Wav2Vec2FeatureExtractor.from_pretrained(model)
    raise ModelNotFoundError(f"unknown model '{model}': use a HuBERT preset name or a local directory "
                             "that holds preprocessor_config.json")


def envelope(samples, times, points: int = MAX_PLOT_POINTS):
    """Min and max per column, so minutes of audio draw as fast (and look the same) as seconds."""
    import numpy as np

    if len(samples) <= points:
        return times, samples, samples
    usable = len(samples) // points * points
    blocks = samples[:usable].reshape(points, -1)
    return times[:usable].reshape(points, -1)[:, 0], blocks.min(axis=1), blocks.max(axis=1)


def plot(raw, normalised, sample_rate: int, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    times = np.arange(len(raw)) / sample_rate
    fig, axes = plt.subplots(3, 1, figsize=(11, 8), constrained_layout=True)
    for ax, samples, label, colour in [(axes[0], raw, "raw waveform (float32 in [-1, 1])", "tab:blue"),
                                       (axes[1], normalised, "z-normalised (mean 0, std 1)", "tab:orange")]:
        t, low, high = envelope(samples, times)
        ax.fill_between(t, low, high, color=colour, linewidth=0.6)
        ax.plot(t, high, color=colour, linewidth=0.4)
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_title(label)
        ax.set_ylabel("amplitude")
        ax.set_xlim(0, times[-1] if len(times) > 1 else 1)
    axes[0].set_title(f"{title}: raw waveform (float32 in [-1, 1])")

    # Spectrogram: 25 ms windows; the hop grows with the length so the image stays a few thousand columns.
    n_fft = 400
    hop = max(160, len(raw) // MAX_SPECTROGRAM_COLUMNS)
    if len(raw) >= n_fft:
        import librosa

        power = np.abs(librosa.stft(raw, n_fft=n_fft, hop_length=hop, center=False)) ** 2
        db = librosa.power_to_db(power, ref=np.max(power) if power.max() > 0 else 1.0, top_db=80)
        extent = (0, len(raw) / sample_rate, 0, sample_rate / 2)
        image = axes[2].imshow(db, origin="lower", aspect="auto", extent=extent, cmap="magma",
                               interpolation="nearest")
        fig.colorbar(image, ax=axes[2], label="dB")
    else:
        axes[2].text(0.5, 0.5, "too short for a spectrogram", ha="center", va="center")
    axes[2].set_title(f"spectrogram (0 to {sample_rate // 2} Hz: everything 16 kHz sampling can hold)")
    axes[2].set_ylabel("frequency (Hz)")
    for ax in axes:
        ax.set_xlabel("time (s)")
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    output = None if args.no_plot else check_writable(args.output)

    from src.audio import MIN_SAMPLES, SAMPLE_RATE, load_audio

    audio = load_audio(args.audio or DEFAULT_AUDIO, SAMPLE_RATE)  # a bad file fails before transformers loads
    extractor = feature_extractor_for(args.model)
    samples = audio.samples

    print("Exercise 1: from sound to numbers")
    print(f"Loaded {display_path(audio.path)}")
    if audio.was_resampled:
        print(f"  resampled from {audio.original_sample_rate} Hz to {audio.sample_rate} Hz")
    if audio.was_downmixed:
        print(f"  down-mixed {audio.original_channels} channels to mono (the average of the channels)")
    print(f"  sample rate:  {audio.sample_rate} Hz")
    print(f"  duration:     {audio.duration:.2f} s")
    print(f"  shape:        {samples.shape}")
    print(f"  value range:  [{fixed(samples.min())}, {fixed(samples.max())}]")
    if audio.is_silent:
        print("  the audio is silent (every sample is 0)")
    if audio.num_samples < MIN_SAMPLES:
        print(f"  note: {audio.num_samples} samples is too short for HuBERT (it needs at least {MIN_SAMPLES})")

    features = extractor(samples, sampling_rate=audio.sample_rate, return_tensors="np")
    normalised = features["input_values"]  # [1, N]
    mean, std = float(normalised.mean()), float(normalised.std())
    print(f"Feature extractor ({type(extractor).__name__}, do_normalize={extractor.do_normalize})")
    print(f"  normalised shape: {list(normalised.shape)}")
    print(f"  mean:             {fixed(mean)}")
    print(f"  std:              {fixed(std)}")
    if audio.is_silent:
        print("  silent input stays all zeros: (x - 0) / sqrt(0 + 1e-7) = 0, a safe division")

    if output is not None:
        plot(samples, normalised[0], audio.sample_rate, audio.path.name, output)
        print(f"Saved {display_path(output)} (raw and normalised waveforms, spectrogram)")

    return {
        "sample_rate": audio.sample_rate,
        "original_sample_rate": audio.original_sample_rate,
        "original_channels": audio.original_channels,
        "duration": audio.duration,
        "shape": tuple(samples.shape),
        "min": float(samples.min()),
        "max": float(samples.max()),
        "silent": audio.is_silent,
        "normalized_shape": tuple(normalised.shape),
        "mean": mean,
        "std": std,
        "output": output,
    }


if __name__ == "__main__":
    run(main)
