"""Baseline for case 1: count HuBERT-XLarge + LoRA parameters the plain way a student would.

Build the encoder from its configuration (every weight materialised and randomly initialised in fp32), wrap it
with peft LoRA (r=8, alpha 8 on q_proj and k_proj, the course's encoder adapters) and count. This is the
encoder alone: the whole model (HuBERT + projector + Qwen3-8B) cannot be materialised on a 24 GB machine.

    python benchmarks/baselines/count_encoder_plain.py
"""

from peft import LoraConfig, get_peft_model
from transformers import HubertConfig, HubertModel

# facebook/hubert-xlarge-ls960-ft's config.json, the values that differ from HubertConfig's defaults.
config = HubertConfig(hidden_size=1280, num_hidden_layers=48, num_attention_heads=16, intermediate_size=5120,
                      feat_extract_norm="layer", do_stable_layer_norm=True, conv_bias=True)
model = HubertModel(config)
model = get_peft_model(model, LoraConfig(r=8, lora_alpha=8, target_modules=["q_proj", "k_proj"]))

total = sum(p.numel() for p in model.parameters())
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"encoder (HuBERT + LoRA)  total {total:,}  trainable {trainable:,}  frozen {total - trainable:,}  "
      f"({100 * trainable / total:.2f}%)")
