"""Exercise 2: what HuBERT makes of audio.

Run audio through HuBERT-XLarge and look at what comes out: one 1280-dimensional vector every 20 ms.
Without internet access (or the weights in your Hugging Face cache) the exact published architecture is
built with random weights: the shapes are real, the statistics are those of an untrained network.

    poetry run python exercises/explore_hubert.py
    poetry run python exercises/explore_hubert.py a.wav b.flac --plot     # several files, and a figure
"""

from __future__ import annotations

import math
import sys
import time

from src.cli import (DEFAULT_AUDIO, ArgumentParser, check_writable, display_path, fixed, non_negative_int,
                     positive_float, run, save_figure)

DEFAULT_WINDOW_SECONDS = 30.0  # longer audio is encoded window by window, so memory stays bounded
PLOT_MAX_FRAMES = 1_500  # the figure shows the first 30 s of frames


def parse_args(argv: list[str] | None):
    from src.device import DEVICE_CHOICES
    from src.presets import WEIGHT_POLICIES

    parser = ArgumentParser(prog="explore_hubert.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("audio", nargs="*", default=None,
                        help="audio files (default: assets/test.wav, the 3-second sample)")
    parser.add_argument("--model", default="hubert-xlarge-ls960-ft",
                        help="HuBERT preset (hubert-xlarge-ls960-ft, hubert-large-ls960-ft, hubert-base-ls960, "
                             "tiny), hub id, or local directory with config.json and model.safetensors")
    parser.add_argument("--weights", choices=WEIGHT_POLICIES, default="auto",
                        help="pretrained: the published weights or an error; random: seeded random weights; "
                             "auto: pretrained when available, otherwise random with a warning")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed for random weights")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="auto: CUDA, then MPS, then CPU")
    parser.add_argument("--window-seconds", type=positive_float, default=DEFAULT_WINDOW_SECONDS,
                        help="encode longer audio in windows of this length (bounded memory)")
    parser.add_argument("--plot", nargs="?", const="hubert_embeddings.png", default=None, metavar="PATH",
                        help="save a figure of the first file's embeddings (default path: hubert_embeddings.png)")
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def encode_in_windows(encoder, input_values, window_seconds: float, sample_rate: int, device):
    """Encode [1, N] audio window by window; yield each window's frames [1, t, H] on the CPU.

    Windows start every W samples (W a multiple of the 320-sample stride) and read 80 extra samples, so each
    window yields exactly W / 320 frames and together they give floor((N - 400) / 320) + 1, as one pass would.
    Each window attends only within itself, so frames near a boundary see less context.
    """
    import torch

    from src.audio import HUBERT_RECEPTIVE_FIELD, HUBERT_STRIDE, predicted_frames

    num_samples = input_values.shape[-1]
    window = max(1, int(window_seconds * sample_rate) // HUBERT_STRIDE) * HUBERT_STRIDE
    overlap = HUBERT_RECEPTIVE_FIELD - HUBERT_STRIDE  # 80 samples
    total_frames = predicted_frames(num_samples)
    windows = -(-total_frames // (window // HUBERT_STRIDE))
    for index in range(windows):
        start = index * window
        chunk = input_values[:, start: start + window + overlap].to(device)
        if windows > 1:
            progress(f"  window {index + 1}/{windows} ({start / sample_rate:.0f} s to "
                     f"{min(start + window, num_samples) / sample_rate:.0f} s)")
        with torch.inference_mode():
            frames, _ = encoder(chunk)
        yield frames.float().cpu()


def describe(path, audio, frames_seen: int, stats: dict, dim: int) -> dict:
    from src.audio import HUBERT_RECEPTIVE_FIELD, HUBERT_STRIDE, predicted_frames

    n = audio.num_samples
    predicted = predicted_frames(n)
    reduction = n / frames_seen
    ms_per_frame = 1000 * n / frames_seen / audio.sample_rate
    print(f"\n{display_path(path)}")
    if audio.was_resampled or audio.was_downmixed:
        print(f"  loaded from:     {audio.original_sample_rate} Hz, {audio.original_channels} channel(s) "
              f"-> {audio.sample_rate} Hz mono")
    print(f"  input:           [1, {n}] ({audio.duration:.2f} s at {audio.sample_rate} Hz)")
    print(f"  output:          [1, {frames_seen}, {dim}]")
    print(f"  frames:          {frames_seen} actual, {predicted} predicted by "
          f"floor(({n} - {HUBERT_RECEPTIVE_FIELD}) / {HUBERT_STRIDE}) + 1")
    print(f"  time reduction:  {reduction:.1f}x fewer time steps ({n} samples -> {frames_seen} frames)")
    print(f"  per embedding:   {ms_per_frame:.1f} ms of audio")
    print(f"  embedding dim:   {dim}")
    print(f"  numbers:         {frames_seen * dim:,} ({frames_seen} x {dim}) from {n:,} samples")
    print(f"  mean / std:      {fixed(stats['mean'])} / {fixed(stats['std'])}")
    print(f"  min / max:       {fixed(stats['min'])} / {fixed(stats['max'])}")
    if audio.is_silent:
        print("  the audio is silent (all zeros); HuBERT still returns finite embeddings")
    return {
        "path": str(path), "input_shape": (1, n), "duration": audio.duration, "output_shape": (1, frames_seen, dim),
        "frames": frames_seen, "predicted_frames": predicted, "reduction": reduction,
        "ms_per_frame": ms_per_frame, "dim": dim, **stats,
    }


def plot(embeddings, title: str, path) -> None:
    """Heat map of frames x dimensions, and the cosine similarity of every frame with every other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import torch.nn.functional as F

    frames = embeddings[0, :PLOT_MAX_FRAMES]  # [T, H]
    unit = F.normalize(frames, dim=-1)
    similarity = (unit @ unit.T).numpy()
    seconds = frames.shape[0] * 0.02
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True,
                             gridspec_kw={"width_ratios": [1.6, 1]})
    limit = float(frames.abs().quantile(0.99)) or 1.0
    image = axes[0].imshow(frames.T.numpy(), aspect="auto", origin="lower", cmap="RdBu_r", vmin=-limit,
                           vmax=limit, extent=(0, seconds, 0, frames.shape[1]), interpolation="nearest")
    axes[0].set(title=f"{title}: {frames.shape[0]} frames x {frames.shape[1]} dimensions",
                xlabel="time (s), one frame every 20 ms", ylabel="embedding dimension")
    fig.colorbar(image, ax=axes[0], label="value")
    low = float(np.percentile(similarity, 1))  # colours span the data, so small differences stay visible
    image = axes[1].imshow(similarity, origin="lower", cmap="viridis", vmin=min(low, 0.99), vmax=1,
                           extent=(0, seconds, 0, seconds), interpolation="nearest")
    axes[1].set(title="cosine similarity between frames", xlabel="time (s)", ylabel="time (s)")
    fig.colorbar(image, ax=axes[1], label="cosine similarity")
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    plot_path = check_writable(args.plot) if args.plot else None

    from src.audio import SAMPLE_RATE, load_audio, make_feature_extractor, require_encodable

    paths = args.audio or [DEFAULT_AUDIO]
    audios = [load_audio(path, SAMPLE_RATE) for path in paths]  # check every file before the model loads
    for audio in audios:
        require_encodable(audio)

    import torch

    from src.build import load_encoder
    from src.device import pick_device
    from src.params import count_parameters

    device = pick_device(args.device)
    started = time.perf_counter()
    encoder, weights = load_encoder(args.model, weights=args.weights, seed=args.seed, on_progress=progress)
    encoder = encoder.to(device)
    progress(f"  ready in {time.perf_counter() - started:.1f} s")
    config = encoder.hubert.config

    print("Exercise 2: what HuBERT makes of audio")
    print(f"Encoder:  {args.model} ({config.num_hidden_layers} layers, hidden size {config.hidden_size}, "
          f"{count_parameters(encoder).total:,} parameters)")
    print(f"Weights:  {weights.description}")
    if weights.is_random:
        print("          the shapes are real; the statistics below are those of an untrained network")
    print(f"Device:   {device.type}")

    extractor = make_feature_extractor()
    results, first_embeddings = [], None
    for path, audio in zip(paths, audios):
        input_values = extractor(audio.samples, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_values
        progress(f"Encoding {display_path(path)} ({audio.duration:.1f} s) ...")
        count, total, total_sq, low, high, frames_seen, kept = 0, 0.0, 0.0, float("inf"), float("-inf"), 0, []
        for frames in encode_in_windows(encoder, input_values, args.window_seconds, SAMPLE_RATE, device):
            values = frames.double()
            count += values.numel()
            total += values.sum().item()
            total_sq += (values * values).sum().item()
            low, high = min(low, values.min().item()), max(high, values.max().item())
            frames_seen += frames.shape[1]
            if plot_path is not None and first_embeddings is None and sum(k.shape[1] for k in kept) < PLOT_MAX_FRAMES:
                kept.append(frames)
        if not (math.isfinite(total) and math.isfinite(total_sq)):
            raise RuntimeError("HuBERT produced non-finite values")  # a bug, not a user error
        mean = total / count
        stats = {"mean": mean, "std": max(total_sq / count - mean * mean, 0.0) ** 0.5, "min": low, "max": high}
        results.append(describe(path, audio, frames_seen, stats, config.hidden_size))
        if first_embeddings is None and kept:
            first_embeddings = torch.cat(kept, dim=1)

    if len(results) > 1:
        print("\nfile                                   samples   predicted   actual")
        for r in results:
            print(f"{display_path(r['path'])[-36:]:<36} {r['input_shape'][1]:>10,} {r['predicted_frames']:>11} "
                  f"{r['frames']:>8}")

    if plot_path is not None:
        plot(first_embeddings, display_path(paths[0]), plot_path)
        print(f"\nSaved {display_path(plot_path)} (embedding heat map and frame-to-frame cosine similarity)")

    return {"model": args.model, "weights": weights.kind, "weights_description": weights.description,
            "device": device.type, "files": results, "plot": plot_path}


if __name__ == "__main__":
    run(main)
