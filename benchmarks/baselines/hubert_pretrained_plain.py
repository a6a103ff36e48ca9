"""Baseline for case 3: HuBERT from a local safetensors checkpoint on one file, the plain transformers way.

    python benchmarks/baselines/hubert_pretrained_plain.py CHECKPOINT_DIR [audio.wav]

Prints "[bench] model ready in X s" on stderr: the time of AutoModel.from_pretrained alone.
"""

import sys
import time

started = time.perf_counter()
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
from transformers import AutoFeatureExtractor, AutoModel  # noqa: E402

print(f"[bench] imported in {time.perf_counter() - started:.3f} s", file=sys.stderr, flush=True)
checkpoint = sys.argv[1]
path = sys.argv[2] if len(sys.argv) > 2 else "assets/test.wav"

loading = time.perf_counter()
model = AutoModel.from_pretrained(checkpoint).eval()
print(f"[bench] model ready in {time.perf_counter() - loading:.3f} s", file=sys.stderr, flush=True)

extractor = AutoFeatureExtractor.from_pretrained(checkpoint)
audio, rate = sf.read(path, dtype="float32")  # test.wav is already 16 kHz mono
inputs = extractor(audio, sampling_rate=rate, return_tensors="pt")
print("[bench] encoding", file=sys.stderr, flush=True)
forward = time.perf_counter()
with torch.no_grad():
    hidden = model(inputs.input_values).last_hidden_state
print(f"[bench] forward done in {time.perf_counter() - forward:.3f} s", file=sys.stderr, flush=True)
print(f"output {list(hidden.shape)}  mean {hidden.mean():.4f}  std {hidden.std():.4f}")
