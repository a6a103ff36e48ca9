"""Where a build's resident memory goes: ``build_rss.py [--model M] [--dtype D]``.

Imports what explore_hubert.py imports, builds the encoder with random weights as it does
(`src.encoder.load_encoder`), and reads VmRSS after the imports, after the build, and after glibc's
``malloc_trim(0)`` (which returns freed heap memory the allocator kept). Also counts the bytes the
parameters and buffers hold. Prints one JSON object (bytes).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json

import torch

from src.encoder import load_encoder


def rss() -> int:
    with open("/proc/self/status") as status:
        return next(int(row.split()[1]) * 1024 for row in status if row.startswith("VmRSS:"))


parser = argparse.ArgumentParser()
parser.add_argument("--model", default="hubert-xlarge-ls960-ft")
parser.add_argument("--dtype", default="bfloat16", choices=("float32", "bfloat16", "float16"))
args = parser.parse_args()

imports = rss()
encoder, _ = load_encoder(args.model, weights="random", dtype=getattr(torch, args.dtype))
built = rss()
gc.collect()
ctypes.CDLL("libc.so.6").malloc_trim(0)
trimmed = rss()
tensors = sum(t.numel() * t.element_size() for t in [*encoder.parameters(), *encoder.buffers()])
print(json.dumps({"dtype": args.dtype, "imports": imports, "built": built, "trimmed": trimmed,
                  "tensor_bytes": tensors}))
