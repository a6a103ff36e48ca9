"""Which model a name means, and where its weights come from.

A model name is a preset (``hubert-xlarge-ls960-ft``), a hub id (``facebook/hubert-xlarge-ls960-ft``) or a
local directory holding ``config.json`` and ``*.safetensors``. This module owns the way from a name to a
configuration, to weights, and to the decoder's tokenizer. The *weights policy* decides what fills a model:

- ``pretrained``: the published weights (local directory, Hugging Face cache, or a download), or a clear error;
- ``random``: the exact published architecture with seeded random weights (same seed, same numbers);
- ``auto``: pretrained when available, otherwise random with a one-line warning saying so.

Weights are read from safetensors only (never pickled ``.bin`` files).
"""

from __future__ import annotations

import functools
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoConfig, PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

from src.errors import ModelNotFoundError, WeightsUnavailableError
from src.presets import (DECODER_PRESETS, ENCODER_PRESETS, TINY_CHARACTERS, TINY_SPECIAL_TOKENS, WEIGHT_POLICIES,
                         Preset, find_decoder_preset, find_encoder_preset)

DEFAULT_SEED = 0


@dataclass
class ModelSource:
    """A resolved model name: its configuration and where pretrained weights would be read from."""

    name: str
    config: PretrainedConfig
    location: str | None  # hub id or local directory; None when no pretrained weights exist
    preset: Preset | None = None


@dataclass
class WeightsInfo:
    """Which weights a built model holds, in words a student can read."""

    kind: str  # "pretrained" or "random"
    description: str

    @property
    def is_random(self) -> bool:
        return self.kind == "random"


def _config_from_dict(values: dict) -> PretrainedConfig:
    values = dict(values)
    return AutoConfig.for_model(values.pop("model_type"), **values)


def _resolve(name: str, kind: str, presets: dict[str, Preset], find: Callable[[str], Preset | None]) -> ModelSource:
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(f"{path}: no config.json in this folder; give a folder written by "
                                     "save_pretrained (config.json + model.safetensors), a preset or a hub id")
        return ModelSource(name, AutoConfig.from_pretrained(path), str(path))
    preset = find(name)
    if preset is not None:
        return ModelSource(name, _config_from_dict(preset.config), preset.hub_id, preset)
    if name.count("/") == 1 and not path.exists():  # looks like a hub id: use the cache, or the hub if online
        try:
            return ModelSource(name, AutoConfig.from_pretrained(name, local_files_only=hub_is_offline()), name)
        except (OSError, ValueError):
            pass
    raise ModelNotFoundError(
        f"unknown {kind} '{name}': use a preset ({', '.join(presets)}), a local directory with config.json, "
        "or a hub id that is in your Hugging Face cache or reachable online"
    )


def resolve_encoder(name: str) -> ModelSource:
    """Resolve an encoder name (preset, hub id or local directory) to its configuration."""
    source = _resolve(name, "encoder", ENCODER_PRESETS, find_encoder_preset)
    if source.config.model_type != "hubert":
        raise ModelNotFoundError(f"encoder '{name}' is a {source.config.model_type} model; give a HuBERT model")
    return source


def resolve_decoder(name: str) -> ModelSource:
    """Resolve a decoder name (preset, hub id or local directory) to its configuration."""
    return _resolve(name, "decoder", DECODER_PRESETS, find_decoder_preset)


def random_model(model_class: type[PreTrainedModel], config: PretrainedConfig, seed: int = DEFAULT_SEED,
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> PreTrainedModel:
    """Build ``model_class(config)`` with seeded random weights, each tensor initialised once.

    Building on the meta device skips PyTorch's default initialisation (which transformers would overwrite
    anyway). The linear layers, almost all of the parameters, are allocated once, directly in ``dtype`` (half
    precision halves the memory), and drawn from a uniform distribution with the same mean and variance as
    transformers' normal(0, initializer_range), which is about five times faster to sample on a CPU;
    transformers then initialises everything else its usual way. The values are drawn in float32 whatever
    ``dtype`` is, so a half-precision model is the float32 one, rounded.
    """
    # Auto classes (AutoModelForCausalLM) build through from_config; concrete classes are called directly.
    build = getattr(model_class, "from_config", model_class)
    with torch.device("meta"):
        model = build(config)
        for module in model.modules():
            if isinstance(module, torch.nn.Linear):
                module.to(dtype)  # still shapes only: the big matrices will be allocated in dtype
    model = model.to_empty(device=device)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state untouched
        torch.manual_seed(seed)
        _init_linear_uniform(model, getattr(config, "initializer_range", 0.02), seed)
        model.initialize_weights()  # skips the tensors flagged above
        _init_weight_norm(model)
    return model.to(dtype).eval()  # the small rest (norms, convolutions, embeddings) follows


def _init_linear_uniform(model: torch.nn.Module, std: float, seed: int) -> None:
    """Linear weights ~ U(-a, a) with a = std * sqrt(3): mean 0 and standard deviation ``std``, like normal_.

    Each matrix gets its own generator seeded from (seed, its index), so the matrices can be filled on all
    CPU cores at once and still come out the same on every run.
    """
    from concurrent.futures import ThreadPoolExecutor

    bound = std * 3**0.5
    weights = [module.weight for module in model.modules() if isinstance(module, torch.nn.Linear)]

    def fill(index: int) -> None:
        weight = weights[index]
        generator = torch.Generator(device=weight.device).manual_seed(seed * 100_003 + index)
        with torch.no_grad():  # grad mode is per thread
            if weight.dtype == torch.float32:
                weight.uniform_(-bound, bound, generator=generator)
            else:  # the same float32 draws, rounded (one matrix at a time in float32)
                draws = torch.empty(weight.shape, device=weight.device).uniform_(-bound, bound, generator=generator)
                weight.copy_(draws)
        weight._is_hf_initialized = True  # transformers' init functions leave flagged tensors alone

    with ThreadPoolExecutor(max_workers=max(1, torch.get_num_threads())) as pool:
        list(pool.map(fill, range(len(weights))))


@torch.no_grad()
def _init_weight_norm(model: torch.nn.Module) -> None:
    """Weight-normalised convolutions (HuBERT's position embedding) store weight = g * v / |v|.

    transformers initialises the computed ``weight``, not the stored ``g`` and ``v``; set them here so
    the convolution starts as a Kaiming-normal kernel.
    """
    for module in model.modules():
        parametrizations = getattr(module, "parametrizations", None)
        if parametrizations is None or "weight" not in parametrizations:
            continue
        g, v = parametrizations.weight.original0, parametrizations.weight.original1
        torch.nn.init.kaiming_normal_(v)
        reduce_dims = [d for d in range(v.dim()) if g.shape[d] == 1]
        g.copy_(torch.linalg.vector_norm(v, dim=reduce_dims, keepdim=True))


def print_warning(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


HUB_PROBE_TIMEOUT = 3.0  # seconds


@functools.cache
def _hub_reachable() -> bool:
    """One quick connection attempt, so an offline machine does not sit through the hub client's retries."""
    from urllib.parse import urlparse

    from huggingface_hub.constants import ENDPOINT

    url = urlparse(ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=HUB_PROBE_TIMEOUT).close()
        return True
    except OSError:
        return False


def hub_is_offline() -> bool:
    """True when HF_HUB_OFFLINE is set or the hub cannot be reached: only local files can be used."""
    from huggingface_hub.constants import is_offline_mode

    return is_offline_mode() or not _hub_reachable()


def pretrained_available(location: str) -> bool:
    """Can pretrained weights for ``location`` be had right now: a local directory or the HF cache holding
    safetensors, or a reachable hub (where the download itself may still find none)?"""
    path = Path(location)
    if path.is_dir():
        return any(path.glob("*.safetensors"))
    if not hub_is_offline():
        return True
    from huggingface_hub import try_to_load_from_cache

    return any(isinstance(try_to_load_from_cache(location, name), str)
               for name in ("model.safetensors", "model.safetensors.index.json"))


def _load_pretrained(model_class: type[PreTrainedModel], location: str, dtype: torch.dtype = torch.float32,
                     ) -> tuple[PreTrainedModel | None, str]:
    """Load from a local directory, the HF cache, or (when online) the hub. Returns (model, reason)."""
    from transformers.utils import logging as hf_logging

    # The published HuBERT checkpoints are HubertForCTC: loading them into HubertModel drops the CTC head
    # (lm_head, 40,992 parameters) on purpose, which transformers would otherwise report as "UNEXPECTED".
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = model_class.from_pretrained(location, use_safetensors=True, dtype=dtype,
                                            local_files_only=Path(location).is_dir() or hub_is_offline())
        return model.eval(), ""
    except (OSError, ValueError) as err:
        return None, str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    finally:
        hf_logging.set_verbosity(verbosity)


def load_model(source: ModelSource, model_class: type[PreTrainedModel], weights: str = "auto",
               seed: int = DEFAULT_SEED, on_warning: Callable[[str], None] = print_warning,
               dtype: torch.dtype = torch.float32, on_progress: Callable[[str], None] | None = None,
               ) -> tuple[PreTrainedModel, WeightsInfo]:
    """Build ``model_class`` for ``source`` following the weights policy (``auto``/``pretrained``/``random``),
    with its parameters in ``dtype``. ``on_progress`` hears one line when the slow part (a load or a random
    build of the whole model) starts."""
    on_progress = on_progress or (lambda message: None)
    if weights not in WEIGHT_POLICIES:
        raise ValueError(f"weights must be one of {WEIGHT_POLICIES}, not {weights!r}")
    published = "the published " if source.location else "the "
    random_info = WeightsInfo("random", f"RANDOM weights (seed {seed}) in {published}{source.name} architecture")

    def build_random() -> PreTrainedModel:
        on_progress(f"Building {source.name} with random weights (seed {seed}) ...")
        return random_model(model_class, source.config, seed, dtype=dtype)

    if weights == "random":
        return build_random(), random_info
    if source.location is None:
        if weights == "pretrained":
            raise WeightsUnavailableError(
                f"'{source.name}' has no pretrained weights (it is a test preset); use --weights random"
            )
        return build_random(), random_info

    model, reason = None, "offline or the hub is unreachable, and not in the Hugging Face cache"
    how = (f"run once with internet access to download {source.location} (safetensors), "
           "or pass a local directory that holds config.json and model.safetensors")
    folder = Path(source.location)
    if folder.is_dir() and not any(folder.glob("*.safetensors")):
        if any(folder.glob("pytorch_model*.bin")):
            reason = "no model.safetensors here, only pytorch_model.bin, a pickle this course does not load"
            how = f"convert it once with: python tools/convert_to_safetensors.py {folder}"
        else:
            reason = "no model.safetensors in this folder"
            how = "save the model there with save_pretrained(folder), which writes model.safetensors"
    elif pretrained_available(source.location):
        on_progress(f"Loading {source.name}'s pretrained weights ({source.location}) ...")
        model, reason = _load_pretrained(model_class, source.location, dtype)
    if model is not None:
        return model, WeightsInfo("pretrained", f"pretrained weights from {source.location}")

    if weights == "pretrained":
        raise WeightsUnavailableError(f"pretrained weights for {source.location} are unavailable ({reason}); {how}")
    on_warning(f"no pretrained weights for {source.location} ({reason}); using the published architecture with "
               f"RANDOM weights (seed {seed}); to get the real weights, {how}")
    return build_random(), random_info


# ----- the decoder's tokenizer ----------------------------------------------------------------------------------
def load_tokenizer(decoder: str) -> PreTrainedTokenizerBase:
    """The decoder's tokenizer: built in code for ``tiny``; otherwise from its directory, cache or the hub."""
    source = resolve_decoder(decoder)
    if source.preset is not None and source.preset.name == "tiny":
        return build_tiny_tokenizer()
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(source.location, local_files_only=hub_is_offline())
    except (OSError, ValueError, TypeError):
        raise WeightsUnavailableError(
            f"no tokenizer for {source.location} (offline or unreachable hub, not in the Hugging Face cache); "
            "run once with internet access, or use the tiny preset to try the pipeline offline"
        ) from None


def build_tiny_tokenizer() -> PreTrainedTokenizerBase:
    """One token per character (printable ASCII and newline) plus ``<pad>`` (0), ``<eos>`` (1), ``<unk>`` (2)."""
    from tokenizers import Tokenizer, decoders, models
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(TINY_SPECIAL_TOKENS + tuple(TINY_CHARACTERS))}
    # BPE with no merges splits text into single characters; Fuse joins them back without spaces.
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tokenizer.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
