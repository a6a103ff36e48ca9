"""Baseline for case 2: HuBERT-XLarge with random weights on one file, the plain transformers way.

    python benchmarks/baselines/hubert_random_plain.py [audio.wav]

The "[bench]" lines on stderr are checkpoints for the harness (it reads the process's memory when each arrives).
"""

import sys
import time

started = time.perf_counter()
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor  # noqa: E402

print(f"[bench] imported in {time.perf_counter() - started:.3f} s", file=sys.stderr, flush=True)
path = sys.argv[1] if len(sys.argv) > 1 else "assets/test.wav"

# facebook/hubert-xlarge-ls960-ft's config.json, the values that differ from HubertConfig's defaults.
config = HubertConfig(hidden_size=1280, num_hidden_layers=48, num_attention_heads=16, intermediate_size=5120,
                      feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True)
built = time.perf_counter()
model = HubertModel(config).eval()
print(f"[bench] model ready in {time.perf_counter() - built:.3f} s", file=sys.stderr, flush=True)

# facebook/hubert-xlarge-ls960-ft's preprocessor_config.json.
extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                     return_attention_mask=True)
audio, rate = sf.read(path, dtype="float32")  # test.wav is already 16 kHz mono
inputs = extractor(audio, sampling_rate=rate, return_tensors="pt")
print("[bench] encoding", file=sys.stderr, flush=True)
forward = time.perf_counter()
with torch.no_grad():
    hidden = model(inputs.input_values).last_hidden_state
print(f"[bench] forward done in {time.perf_counter() - forward:.3f} s", file=sys.stderr, flush=True)
print(f"output {list(hidden.shape)}  mean {hidden.mean():.4f}  std {hidden.std():.4f}")
