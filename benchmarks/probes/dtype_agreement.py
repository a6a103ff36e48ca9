"""How far half-precision embeddings are from float32: ``dtype_agreement.py [--model M] [AUDIO] [--dtype D ...]``.

Builds the encoder the way explore_hubert.py does (`src.encoder.load_encoder`, random weights, seed 0) in
float32, encodes the clip with `encode_in_windows`, frees it, then does the same in each other dtype. Random
weights are drawn in float32 and rounded to the dtype, so the models correspond. For each dtype it reports
max |half - fp32| / max |fp32|, the per-frame cosine similarity (min and mean), and the forward time.
Prints one JSON object on the last line of stdout (a failure in one dtype is reported, not raised).
"""

from __future__ import annotations

import argparse
import gc
import json
import time

import torch
import torch.nn.functional as F

from src.audio import SAMPLE_RATE, load_audio, make_feature_extractor
from src.encoder import encode_in_windows, load_encoder, window_samples


def embeddings(model: str, dtype: torch.dtype, input_values: torch.Tensor) -> tuple[torch.Tensor, float]:
    encoder, _ = load_encoder(model, weights="random", seed=0, dtype=dtype)
    started = time.perf_counter()
    frames = torch.cat(list(encode_in_windows(encoder, input_values, window_samples(30.0))), dim=1)[0]
    seconds = time.perf_counter() - started
    del encoder
    gc.collect()
    return frames, seconds  # [T, H] float32


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("audio", nargs="?", default="assets/test.wav")
    parser.add_argument("--model", default="hubert-xlarge-ls960-ft")
    parser.add_argument("--dtype", action="append", choices=("bfloat16", "float16"))
    args = parser.parse_args()

    audio = load_audio(args.audio, SAMPLE_RATE)
    input_values = make_feature_extractor()(audio.samples, sampling_rate=SAMPLE_RATE,
                                            return_tensors="pt").input_values
    reference, ref_s = embeddings(args.model, torch.float32, input_values)
    out = {"model": args.model, "audio": args.audio, "frames": reference.shape[0], "dim": reference.shape[1],
           "float32_forward_s": ref_s, "max_abs_float32": reference.abs().max().item(), "dtypes": {}}
    for name in args.dtype or ["bfloat16"]:
        try:
            frames, seconds = embeddings(args.model, getattr(torch, name), input_values)
        except (RuntimeError, NotImplementedError) as err:  # an op without a CPU kernel in this dtype
            out["dtypes"][name] = {"error": str(err).splitlines()[0][:200]}
            continue
        cosine = F.cosine_similarity(frames, reference, dim=-1)  # [T]
        out["dtypes"][name] = {
            "forward_s": seconds, "finite": bool(torch.isfinite(frames).all()),
            "max_abs_diff": (frames - reference).abs().max().item(),
            "max_abs_diff_rel": ((frames - reference).abs().max() / reference.abs().max()).item(),
            "min_frame_cosine": cosine.min().item(), "mean_frame_cosine": cosine.mean().item(),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
