"""Cross-check benchmarks/flops.py against torch.utils.flop_counter: ``check_flops.py [MODEL] [SAMPLES]``.

PyTorch's counter sees the convolutions (aten.convolution) and the linear layers (aten.addmm); on the CPU it
does not count fused attention, so the formula's attention term is checked by its closed form only.
Prints JSON: both counts per kind and whether they agree exactly.
"""

import json
import sys
from pathlib import Path

import torch
from torch.nn.utils import parametrize
from torch.utils.flop_counter import FlopCounterMode
from transformers import HubertModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from flops import hubert_encoder_flops  # noqa: E402

from src.loading import random_model, resolve_encoder  # noqa: E402

name = sys.argv[1] if len(sys.argv) > 1 else "tiny"
samples = int(sys.argv[2]) if len(sys.argv) > 2 else 48_123
config = resolve_encoder(name).config
model = random_model(HubertModel, config)
# The counter cannot trace the weight-norm parametrisation; fold it into a plain weight (same shapes).
parametrize.remove_parametrizations(model.encoder.pos_conv_embed.conv, "weight")
with FlopCounterMode(display=False) as counter, torch.inference_mode():
    model(torch.randn(1, samples))
counted = {str(k): int(v) for k, v in counter.get_flop_counts()["Global"].items()}
formula = hubert_encoder_flops(config, samples)
expected = {"aten.convolution": formula["cnn"] + formula["position_conv"],
            "aten.addmm": formula["feature_projection"] + formula["qkvo"] + formula["feed_forward"]}
print(json.dumps({"model": name, "samples": samples, "torch": counted, "formula": expected,
                  "agree": all(counted.get(k) == v for k, v in expected.items())}))
