"""Build the course's models with real or random weights, following a weights policy.

- `load_encoder`: HuBERT on its own (exercise 2).
- `build_asr_model`: the whole `ASRModel`, encoder and decoder filled per policy, projector freshly initialised.
- `load_tokenizer`: the decoder's tokenizer (built in code for the tiny preset).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from transformers import AutoModelForCausalLM, HubertModel, PreTrainedTokenizerBase

from src.asr_config import ASRConfig
from src.asr_modeling import ASRModel
from src.encoder import AudioEncoder
from src.errors import WeightsUnavailableError
from src.lora import LoraSettings
from src.loading import (DEFAULT_SEED, WeightsInfo, hub_is_offline, load_model, print_warning, resolve_decoder,
                         resolve_encoder)


def load_encoder(name: str = "hubert-xlarge-ls960-ft", weights: str = "auto", lora: LoraSettings | None = None,
                 seed: int = DEFAULT_SEED, on_warning: Callable[[str], None] = print_warning,
                 on_progress: Callable[[str], None] | None = None) -> tuple[AudioEncoder, WeightsInfo]:
    """HuBERT (preset, hub id or local directory) wrapped as an `AudioEncoder`, and which weights it holds."""
    hubert, info = load_model(resolve_encoder(name), HubertModel, weights, seed, on_warning, on_progress)
    return AudioEncoder(hubert, lora).eval(), info


def build_asr_model(config: ASRConfig | None = None, encoder_weights: str = "auto", decoder_weights: str = "auto",
                    on_warning: Callable[[str], None] = print_warning) -> tuple[ASRModel, dict[str, WeightsInfo]]:
    """The whole model: encoder and decoder per their weights policy, projector initialised from ``config.seed``."""
    config = copy.deepcopy(config) if config is not None else ASRConfig()
    hubert, encoder_info = load_model(resolve_encoder(config.encoder), HubertModel, encoder_weights, config.seed,
                                      on_warning)
    lm, decoder_info = load_model(resolve_decoder(config.decoder), AutoModelForCausalLM, decoder_weights,
                                  config.seed, on_warning)
    # Build the results' sub-configs from the models actually loaded (a checkpoint may differ from a preset).
    config.encoder_config, config.decoder_config = hubert.config, lm.config
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = ASRModel(config, base_encoder=hubert, base_decoder=lm)
    return model, {"encoder": encoder_info, "decoder": decoder_info}


def load_tokenizer(decoder: str) -> PreTrainedTokenizerBase:
    """The decoder's tokenizer: built in code for ``tiny``; otherwise from its directory, cache or the hub."""
    source = resolve_decoder(decoder)
    if source.preset is not None and source.preset.name == "tiny":
        from src.tokenizer import build_tiny_tokenizer

        return build_tiny_tokenizer()
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source.location, local_files_only=hub_is_offline())
    except (OSError, ValueError, TypeError):
        raise WeightsUnavailableError(
            f"no tokenizer for {source.location} (offline or unreachable hub, not in the Hugging Face cache); "
            "run once with internet access, or use the tiny preset to try the pipeline offline"
        ) from None
