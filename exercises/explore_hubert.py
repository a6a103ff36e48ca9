"""Exercise 2: what HuBERT makes of audio.

Run audio through HuBERT-XLarge and look at what comes out: one 1280-dimensional vector every 20 ms.
Without internet access (or the weights in your Hugging Face cache) the exact published architecture is
built with random weights: the shapes are real, the statistics are those of an untrained network.

    poetry run python exercises/explore_hubert.py
    poetry run python exercises/explore_hubert.py a.wav b.flac --plot     # several files, and a figure
    poetry run python exercises/explore_hubert.py --dtype bfloat16        # half the memory (about 2 GB)
"""

from __future__ import annotations

from src.audio import HUBERT_RECEPTIVE_FIELD, HUBERT_STRIDE, SAMPLE_RATE, make_feature_extractor, predicted_frames
from src.cli import (DEVICE_CHOICES, ArgumentParser, check_writable, default_audio, display_path, fixed,
                     non_negative_int, pick_device, plural, positive_float, progress, run, save_figure, seconds,
                     shorten)
from src.errors import AudioError, UserError

PLOT_MAX_FRAMES = 1_500  # the figure shows the first 30 s of frames


def encode(audio, encoder, window: int, keep_frames: int = 0) -> dict:
    """One clip through HuBERT: [1, N] samples in, [1, T, 1280] frames out, T = floor((N - 400) / 320) + 1."""
    from src.encoder import RunningStats, encode_in_windows  # imports torch: not needed for --help

    extractor = make_feature_extractor()
    inputs = extractor(audio.samples, sampling_rate=SAMPLE_RATE, return_tensors="pt")
    input_values = inputs.input_values  # [1, N] z-normalised samples

    stats, frames, kept = RunningStats(), 0, []
    for hidden in encode_in_windows(encoder, input_values, window):  # [1, t, 1280], one 30 s window at a time
        stats.add(hidden)
        frames += hidden.shape[1]
        if frames - hidden.shape[1] < keep_frames:
            kept.append(hidden[:, : keep_frames - frames + hidden.shape[1]])
    dim = hidden.shape[-1]

    n = audio.num_samples
    print(f"  input:           [1, {n}] ({seconds(audio.duration)} at {SAMPLE_RATE} Hz)")
    print(f"  output:          [1, {frames}, {dim}]")
    print(f"  frames:          {frames} actual, {predicted_frames(n)} predicted by "
          f"floor(({n} - {HUBERT_RECEPTIVE_FIELD}) / {HUBERT_STRIDE}) + 1")
    print(f"  time reduction:  {n / frames:.1f}x fewer time steps ({n} samples -> {frames} frames)")
    print(f"  per embedding:   {1000 * audio.duration / frames:.1f} ms of audio")
    print(f"  embedding dim:   {dim}")
    print(f"  numbers:         {frames * dim:,} ({frames} x {dim}) from {n:,} samples")
    print(f"  mean / std:      {fixed(stats.mean)} / {fixed(stats.std)}")
    print(f"  min / max:       {fixed(stats.min)} / {fixed(stats.max)}")
    return {"input_shape": (1, n), "duration": audio.duration, "output_shape": (1, frames, dim),
            "frames": frames, "predicted_frames": predicted_frames(n), "reduction": n / frames,
            "ms_per_frame": 1000 * audio.duration / frames, "dim": dim, "mean": stats.mean, "std": stats.std,
            "min": stats.min, "max": stats.max, "kept": kept}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    plot_path = check_writable(args.plot) if args.plot else None
    paths = args.audio or [default_audio()]
    audios, problems = load_all(paths)  # every file is checked before the model loads

    import torch

    from src.encoder import load_encoder, window_samples, window_starts
    from src.lora import count_parameters

    device = pick_device(args.device)
    dtype = getattr(torch, args.dtype)
    encoder, weights = load_encoder(args.model, weights=args.weights, seed=args.seed, dtype=dtype,
                                    on_progress=progress)
    encoder = encoder.to(device)
    config = encoder.hubert.config

    print("Exercise 2: what HuBERT makes of audio")
    print(f"Encoder:  {args.model} ({config.num_hidden_layers} layers, hidden size {config.hidden_size}, "
          f"{count_parameters(encoder).total:,} parameters{'' if args.dtype == 'float32' else ', ' + args.dtype})")
    print(f"Weights:  {weights.description}")
    if weights.is_random:
        print("          the shapes are real; the statistics below are those of an untrained network")
    print(f"Device:   {device.type}")

    window = window_samples(args.window_seconds)
    results, first, first_path = [], None, None
    for path, audio in zip(paths, audios):
        print(f"\n{display_path(path)}")
        if audio is None:
            print(f"  not encoded:     {problems[path]}")
            continue
        if audio.was_resampled or audio.was_downmixed:
            print(f"  loaded from:     {audio.original_sample_rate} Hz, {plural(audio.original_channels, 'channel')}"
                  f" -> {audio.sample_rate} Hz mono")
        windows = len(window_starts(audio.num_samples, window))
        progress(f"Encoding {display_path(path)} ({seconds(audio.duration)}"
                 f"{f', in {windows} windows of {seconds(window / SAMPLE_RATE)}' if windows > 1 else ''}) ...")
        result = encode(audio, encoder, window, keep_frames=PLOT_MAX_FRAMES if first is None and plot_path else 0)
        if audio.is_silent:
            print("  the audio is silent (all zeros); HuBERT still returns finite embeddings")
        kept = result.pop("kept")
        if first is None and kept:
            first, first_path = torch.cat(kept, dim=1), path
        results.append({"path": str(path), **result})

    if len(paths) > 1:
        print_table(paths, audios, results)
    if plot_path is not None and first is not None:
        plot(first, display_path(first_path), weights.description, plot_path)
        print(f"\nSaved {display_path(plot_path)} (embedding heat map and frame-to-frame cosine similarity)")
    if problems:
        raise UserError(f"{len(problems)} of {len(paths)} files could not be encoded: "
                        + "; ".join(problems.values()))
    return {"model": args.model, "weights": weights.kind, "weights_description": weights.description,
            "device": device.type, "dtype": args.dtype, "files": results, "plot": plot_path}


# ----- the rest: options, checking the files, the table and the figure -----------------------------------------
DTYPES = ("float32", "bfloat16", "float16")


def parse_args(argv: list[str] | None):
    from src.presets import ENCODER_PRESETS, WEIGHT_POLICIES

    parser = ArgumentParser(prog="explore_hubert.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", nargs="*", default=None,
                        help="audio files, any format, rate or channels (default: assets/test.wav)")
    parser.add_argument("--model", default="hubert-xlarge-ls960-ft",
                        help=f"HuBERT preset ({', '.join(ENCODER_PRESETS)}), hub id, or local folder with "
                             "config.json and model.safetensors")
    parser.add_argument("--weights", choices=WEIGHT_POLICIES, default="auto",
                        help="pretrained: the published weights or an error; random: seeded random weights; "
                             "auto: pretrained when available, otherwise random with a warning")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed for random weights")
    parser.add_argument("--dtype", choices=DTYPES, default="float32",
                        help="precision of the weights: bfloat16 or float16 need half the memory")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="auto: CUDA, then MPS, then CPU")
    parser.add_argument("--window-seconds", type=positive_float, default=30.0,
                        help="encode longer audio in windows of this length, so memory stays bounded")
    parser.add_argument("--plot", nargs="?", const="hubert_embeddings.png", default=None, metavar="PATH",
                        help="save a figure of the first file's embeddings (PATH defaults to hubert_embeddings.png)")
    return parser.parse_args(argv)


def load_all(paths) -> tuple[list, dict]:
    """Load every file; a file that cannot be encoded is reported (and skipped) unless none can be."""
    from src.audio import load_audio, require_encodable

    audios, problems, first_error = [], {}, None
    for path in paths:
        try:
            audio = load_audio(path, SAMPLE_RATE)
            require_encodable(audio.num_samples, display_path(path))
        except AudioError as err:
            audio, problems[path], first_error = None, str(err), first_error or err
        audios.append(audio)
    if all(audio is None for audio in audios):
        raise first_error
    return audios, problems


def print_table(paths, audios, results) -> None:
    rows = iter(results)
    print(f"\n{'file':<36} {'samples':>12} {'predicted':>10} {'actual':>8}")
    for path, audio in zip(paths, audios):
        name = shorten(display_path(path), 36)
        if audio is None:
            print(f"{name:<36} {'not encoded (see above)':>32}")
            continue
        r = next(rows)
        print(f"{name:<36} {r['input_shape'][1]:>12,} {r['predicted_frames']:>10,} {r['frames']:>8,}")


def plot(embeddings, title: str, weights: str, path) -> None:
    """Heat map of frames x dimensions, and the cosine similarity of every frame with every other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import torch.nn.functional as F

    frames = embeddings[0].float()  # [T, H]
    unit = F.normalize(frames, dim=-1)
    similarity = (unit @ unit.T).numpy()
    span = frames.shape[0] * HUBERT_STRIDE / SAMPLE_RATE
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True, gridspec_kw={"width_ratios": [1.6, 1]})
    fig.suptitle(f"{title}, {weights}")
    limit = float(frames.abs().quantile(0.99)) or 1.0
    image = axes[0].imshow(frames.T.numpy(), aspect="auto", origin="lower", cmap="RdBu_r", vmin=-limit,
                           vmax=limit, extent=(0, span, 0, frames.shape[1]), interpolation="nearest")
    axes[0].set(title=f"{frames.shape[0]} frames x {frames.shape[1]} dimensions",
                xlabel="time (s), one frame every 20 ms", ylabel="embedding dimension")
    fig.colorbar(image, ax=axes[0], label="value")
    low = float(np.percentile(similarity, 1))  # colours span the data, so small differences stay visible
    image = axes[1].imshow(similarity, origin="lower", cmap="viridis", vmin=min(low, 0.99), vmax=1,
                           extent=(0, span, 0, span), interpolation="nearest")
    axes[1].set(title="cosine similarity between frames", xlabel="time (s)", ylabel="time (s)")
    fig.colorbar(image, ax=axes[1], label="cosine similarity")
    save_figure(fig, path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    run(main)
