"""Case 4: achieved GFLOP/s of the encoder's forward pass vs this machine's fp32 matrix-multiply GFLOP/s.

    python benchmarks/probes/forward_flops.py AUDIO [--model NAME] [--window-seconds 30] [--profile]

Builds the encoder the way explore_hubert.py does (`src.encoder.load_encoder`, random weights) and runs
the exercise's `src.encoder.encode_in_windows` on the clip: one warm-up pass (under torch.profiler with --profile), then
the timed pass(es); only the forward is timed. The fp32 ceiling is torch.mm of two 4096 x 4096 matrices,
measured in this same process with the same threads. Prints one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flops import hubert_encoder_flops, windows  # noqa: E402

# Which profiler rows belong to which parts of the FLOP formula (self CPU time, so nothing is counted twice).
CATEGORIES = {
    "matmul (Linear: projections, feed-forward)": (
        ("feature_projection", "qkvo", "feed_forward"),
        ("aten::addmm", "aten::mm", "aten::linear", "aten::matmul", "mkldnn::_linear_pointwise", "aten::_mkl_linear")),
    "attention (softmax(QK^T)V)": (
        ("attention",),
        ("aten::_scaled_dot_product_flash_attention_for_cpu", "aten::_scaled_dot_product_attention_math",
         "aten::bmm", "aten::baddbmm", "aten::_softmax", "aten::softmax")),
    "convolutions (CNN, position conv)": (
        ("cnn", "position_conv"),
        ("aten::mkldnn_convolution", "aten::_convolution", "aten::convolution", "aten::conv1d",
         "aten::_slow_conv2d_forward", "aten::thnn_conv2d", "aten::_nnpack_spatial_convolution",
         "aten::slow_conv_dilated2d", "aten::conv2d", "aten::_weight_norm_interface")),
}


def mm_gflops(size: int, reps: int) -> list[float]:
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm-up
    rates = []
    for _ in range(reps):
        started = time.perf_counter()
        torch.mm(a, b)
        rates.append(2 * size**3 / (time.perf_counter() - started) / 1e9)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("audio")
    parser.add_argument("--model", default="hubert-xlarge-ls960-ft")
    parser.add_argument("--window-seconds", type=float, default=30.0)
    parser.add_argument("--reps", type=int, default=1, help="timed forward passes (median)")
    parser.add_argument("--mm-size", type=int, default=4096)
    parser.add_argument("--mm-reps", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="profile the warm-up pass")
    args = parser.parse_args()

    import torch

    from src.audio import SAMPLE_RATE, load_audio, make_feature_extractor
    from src.encoder import encode_in_windows, load_encoder, window_samples

    encoder, _ = load_encoder(args.model, weights="random")
    config = encoder.hubert.config
    audio = load_audio(args.audio, SAMPLE_RATE)
    input_values = make_feature_extractor()(audio.samples, sampling_rate=SAMPLE_RATE,
                                            return_tensors="pt").input_values

    def forward() -> int:
        frames = list(encode_in_windows(encoder, input_values, window_samples(args.window_seconds)))
        return sum(f.shape[1] for f in frames)

    chunks = windows(input_values.shape[-1], args.window_seconds, SAMPLE_RATE)
    parts: dict[str, int] = {}
    for chunk in chunks:
        for key, value in hubert_encoder_flops(config, chunk).items():
            parts[key] = parts.get(key, 0) + value

    profile_rows, categories = [], {}
    started = time.perf_counter()
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            frames = forward()
        averages = prof.key_averages()
        total_self = sum(e.self_cpu_time_total for e in averages)
        for event in sorted(averages, key=lambda e: e.self_cpu_time_total, reverse=True)[:14]:
            profile_rows.append({"name": event.key, "calls": event.count,
                                 "self_s": event.self_cpu_time_total / 1e6,
                                 "percent": 100 * event.self_cpu_time_total / total_self})
        for category, (formula_parts, names) in CATEGORIES.items():
            categories[category] = {"self_s": sum(e.self_cpu_time_total for e in averages if e.key in names) / 1e6,
                                    "flops": sum(parts[p] for p in formula_parts)}
        rest = total_self / 1e6 - sum(c["self_s"] for c in categories.values())
        categories["everything else (norms, GELU, copies, ...)"] = {"self_s": rest, "flops": None}
    else:
        frames = forward()
    warmup_s = time.perf_counter() - started

    ceiling = mm_gflops(args.mm_size, args.mm_reps)
    times = []
    for _ in range(args.reps):
        started = time.perf_counter()
        forward()
        times.append(time.perf_counter() - started)
    ceiling_after = mm_gflops(args.mm_size, args.mm_reps)
    forward_s = statistics.median(times)

    print(json.dumps({
        "samples": int(input_values.shape[-1]), "seconds": audio.duration, "windows": len(chunks),
        "frames": frames, "flops": parts, "forward_s": forward_s, "forward_all_s": times,
        "warmup_s": warmup_s, "gflops": parts["total"] / forward_s / 1e9,
        "mm_gflops_before": ceiling, "mm_gflops_after": ceiling_after,
        "threads": torch.get_num_threads(), "profile": profile_rows, "categories": categories,
    }))


if __name__ == "__main__":
    main()
