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

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoConfig, PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

from src.errors import ModelNotFoundError, WeightsUnavailableError
from src.hub import (HubError, HubRepoNotFoundError, cached_model, fetch_config, fetch_model, fetch_tokenizer,
                     offline_error)  # the hub: cache first, bounded requests
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

    @property
    def revision(self) -> str:
        """The hub revision holding the safetensors weights (a preset may name a pull request's ref)."""
        return self.preset.revision if self.preset is not None else "main"


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
    known = (f"use a preset ({', '.join(presets)}), a local directory with config.json, "
             "or a hub id that is in your Hugging Face cache or reachable online")
    if name.count("/") == 1 and not path.exists():  # looks like a hub id: the cache, else the hub (bounded)
        try:
            config_file = fetch_config(name)  # src/hub.py
        except HubRepoNotFoundError as err:
            raise ModelNotFoundError(f"unknown {kind} '{name}' ({err.cause}): {known}") from None
        except HubError as err:
            raise ModelNotFoundError(f"cannot get the configuration of {kind} '{name}': {err}") from None
        try:
            return ModelSource(name, AutoConfig.from_pretrained(config_file.parent), name)
        except (OSError, ValueError) as err:
            raise ModelNotFoundError(f"{kind} '{name}' has a config.json that transformers cannot read "
                                     f"({_one_line(err)})") from None
    raise ModelNotFoundError(f"unknown {kind} '{name}': {known}")


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
    transformers' normal(0, initializer_range). (Uniform was chosen as the faster draw on the machine this was
    first written on; on an Intel Xeon with AVX-512 normal_ is a little faster, 0.09 s vs 0.12 s per 20 M
    values on one thread. Either way the seeded values define the course's random-weight figures.)
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
    CPU cores at once and still come out the same on every run. Half-precision matrices are drawn in float32
    into one scratch buffer per thread (reused, so the allocator is not left holding a float32 copy's worth
    of freed temporaries) and rounded.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    bound = std * 3**0.5
    weights = [module.weight for module in model.modules() if isinstance(module, torch.nn.Linear)]
    largest = max((weight.numel() for weight in weights), default=0)
    scratch = threading.local()

    def fill(index: int) -> None:
        weight = weights[index]
        generator = torch.Generator(device=weight.device).manual_seed(seed * 100_003 + index)
        with torch.no_grad():  # grad mode is per thread
            if weight.dtype == torch.float32:
                weight.uniform_(-bound, bound, generator=generator)
            else:  # the same float32 draws, rounded
                if not hasattr(scratch, "buffer"):
                    scratch.buffer = torch.empty(largest, device=weight.device)
                draws = scratch.buffer[: weight.numel()].view(weight.shape)
                weight.copy_(draws.uniform_(-bound, bound, generator=generator))
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


# ----- pretrained weights: local directories here, the hub through src/hub.py --------------------------------
def hub_is_offline() -> bool:
    """True when HF_HUB_OFFLINE is set: only the Hugging Face cache can be used. (Whether the hub answers is
    found out by the bounded requests of src/hub.py, not probed beforehand.)"""
    from huggingface_hub.constants import is_offline_mode

    return is_offline_mode()


def pretrained_available(location: str, revision: str = "main") -> bool:
    """Worth trying to load pretrained weights from ``location`` (no network)? A local directory holding
    safetensors; a hub id in the Hugging Face cache, or any hub id unless HF_HUB_OFFLINE is set (then
    src/hub.py gives a bounded, explained answer)."""
    path = Path(location)
    if path.is_dir():
        return any(path.glob("*.safetensors"))
    return not hub_is_offline() or cached_model(location, revision) is not None


def _why_unavailable(location: str) -> tuple[str, str]:
    """(cause, fix) when `pretrained_available` says no."""
    folder = Path(location)
    if folder.is_dir():
        if any(folder.glob("pytorch_model*.bin")):
            return ("no model.safetensors here, only pytorch_model.bin, a pickle this course does not load",
                    f"convert it once with: python tools/convert_to_safetensors.py {folder} <new folder>")
        return (f"no model.safetensors in {location}",
                "save the model there with save_pretrained(folder), which writes model.safetensors")
    err = offline_error(location, "the weights")
    return err.cause, err.fix


def _one_line(err: BaseException) -> str:
    """An exception's whole message on one line (not just its first line), at most 300 characters."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _load_pretrained(model_class: type[PreTrainedModel], location: str, dtype: torch.dtype = torch.float32,
                     on_progress: Callable[[str], None] | None = None, revision: str = "main",
                     ) -> tuple[PreTrainedModel | None, str, str]:
    """Load from a local directory or, for a hub id, from the folder src/hub.py fetched (cache first).

    Returns (model, cause, fix): the model, or None with why not and what to do about it. transformers only
    ever reads a local folder here, so it makes no request of its own.
    """
    from transformers.utils import logging as hf_logging

    folder = Path(location)
    if not folder.is_dir():
        try:
            folder = fetch_model(location, revision=revision, on_progress=on_progress)
        except HubError as err:
            return None, err.cause, err.fix
    # The published HuBERT checkpoints are HubertForCTC: loading them into HubertModel drops the CTC head
    # (lm_head, 40,992 parameters) on purpose, which transformers would otherwise report as "UNEXPECTED".
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = model_class.from_pretrained(folder, use_safetensors=True, local_files_only=True, dtype=dtype)
        return model.eval(), "", ""
    except (OSError, ValueError) as err:
        return None, f"transformers cannot load {folder}: {_one_line(err)}", (
            "check that the folder holds config.json and model.safetensors saved by transformers' save_pretrained")
    finally:
        hf_logging.set_verbosity(verbosity)


def load_model(source: ModelSource, model_class: type[PreTrainedModel], weights: str = "auto",
               seed: int = DEFAULT_SEED, on_warning: Callable[[str], None] = print_warning,
               dtype: torch.dtype = torch.float32, on_progress: Callable[[str], None] | None = None,
               ) -> tuple[PreTrainedModel, WeightsInfo]:
    """Build ``model_class`` for ``source`` following the weights policy (``auto``/``pretrained``/``random``),
    with its parameters in ``dtype``. ``on_progress`` hears one line when the slow part (a load or a random
    build of the whole model) starts, and the download's progress lines (src/hub.py prints them to stderr
    when it is None)."""
    download_progress = on_progress
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

    if pretrained_available(source.location, source.revision):
        on_progress(f"Loading {source.name}'s pretrained weights ({source.location}) ...")
        model, cause, how = _load_pretrained(model_class, source.location, dtype, download_progress, source.revision)
    else:
        model, (cause, how) = None, _why_unavailable(source.location)
    if model is not None:
        return model, WeightsInfo("pretrained", f"pretrained weights from {source.location}")

    if weights == "pretrained":
        raise WeightsUnavailableError(f"pretrained weights for {source.location} are unavailable ({cause}); {how}")
    on_warning(f"no pretrained weights for {source.location} ({cause}); using the published architecture with "
               f"RANDOM weights (seed {seed}); to get the real weights, {how}")
    return build_random(), random_info


# ----- the decoder's tokenizer ----------------------------------------------------------------------------------
def load_tokenizer(decoder: str) -> PreTrainedTokenizerBase:
    """The decoder's tokenizer: built in code for ``tiny``; otherwise from its directory, cache or the hub."""
    source = resolve_decoder(decoder)
    if source.preset is not None and source.preset.name == "tiny":
        return build_tiny_tokenizer()
    from transformers import AutoTokenizer

    folder = Path(source.location)
    try:
        if not folder.is_dir():
            folder = fetch_tokenizer(source.location)  # cache first, bounded requests (src/hub.py)
        return AutoTokenizer.from_pretrained(folder, local_files_only=True)
    except HubError as err:
        raise WeightsUnavailableError(f"no tokenizer for {source.location} ({err.cause}); {err.fix}, or use the "
                                      "tiny preset to try the pipeline offline") from None
    except (OSError, ValueError, TypeError) as err:
        raise WeightsUnavailableError(f"transformers cannot load the tokenizer in {folder} "
                                      f"({_one_line(err)})") from None


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
