"""Save HuBERT-XLarge with seeded random weights as a local checkpoint: ``save_checkpoint.py DIR``.

config.json + model.safetensors (via save_pretrained) + preprocessor_config.json: what a downloaded
facebook/hubert-xlarge-ls960-ft directory holds, so both our loader and AutoModel.from_pretrained can read it.
"""

import sys
from pathlib import Path

from transformers import HubertModel, Wav2Vec2FeatureExtractor

from src.loading import random_model, resolve_encoder
from src.presets import FEATURE_EXTRACTOR

out = Path(sys.argv[1])
model = random_model(HubertModel, resolve_encoder("hubert-xlarge-ls960-ft").config, seed=0)
model.save_pretrained(out, safe_serialization=True)
Wav2Vec2FeatureExtractor(**FEATURE_EXTRACTOR).save_pretrained(out)
print(f"saved {sum(p.numel() for p in model.parameters()):,} parameters to {out}")
