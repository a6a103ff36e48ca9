"""Exercise 3: where are the trainable parameters?

Build the whole Tiny Audio model at full size on PyTorch's ``meta`` device (shapes only: no weights, next
to no memory) and count total, trainable and frozen parameters per component.

    poetry run python exercises/count_params.py
    poetry run python exercises/count_params.py --decoder smollm3-3b --decoder-lora-rank 64
"""

from __future__ import annotations

from src.cli import ArgumentParser, module_names, non_negative_int, run


def count(config) -> dict:
    """Build the model from ``config`` with shapes only, and count its parameters per component."""
    import torch

    from src.asr_modeling import ASRModel
    from src.lora import parameter_summary

    with torch.device("meta"):  # every tensor has a shape and no storage: 9.3 B parameters in about a second
        model = ASRModel(config)  # HuBERT + LoRA, projector, decoder + LoRA
    summary = parameter_summary(model)  # {"encoder": ParamCount, ..., "overall": ParamCount}

    print_config(config)
    labels = component_labels(config)
    print(f"{'component':<28}{'total':>15}{'trainable':>15}{'frozen':>15}{'trainable %':>13}")
    for name, counts in summary.items():
        if name == "overall":
            print("-" * 86)
        print(f"{labels[name]:<28}{counts.total:>15,}{counts.trainable:>15,}{counts.frozen:>15,}"
              f"{counts.trainable_percent:>12.2f}%")
    return {"summary": summary, "model": model}


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    from src.asr_config import ASRConfig

    chosen = {name: value for name, value in vars(args).items() if value is not None}  # the rest: ASRConfig's
    config = ASRConfig(**chosen)
    result = count(config)
    # the layers holding adapters: "...attention.q_proj.lora_A.default.weight" -> "q_proj"
    adapted = {part: sorted({name.split(".lora_A.")[0].rsplit(".", 1)[-1]
                             for name, _ in getattr(result["model"], part).named_parameters() if ".lora_A." in name})
               for part in ("encoder", "decoder")}
    return {**{name: {"total": c.total, "trainable": c.trainable, "frozen": c.frozen,
                      "trainable_percent": c.trainable_percent} for name, c in result["summary"].items()},
            "adapted_modules": adapted, "projector_stack": config.projector_stack,
            "projector_shape": (config.encoder_config.hidden_size * config.projector_stack,
                                config.projector_hidden_size, config.decoder_config.hidden_size)}


# ----- the rest: options and the description of the configuration ----------------------------------------------
def component_labels(config) -> dict[str, str]:
    """``decoder (Qwen3-8B + LoRA)``: the published name of a preset, else the name given."""
    from src.presets import find_decoder_preset

    preset = find_decoder_preset(config.decoder)
    decoder = (preset.hub_id if preset and preset.hub_id else config.decoder).rstrip("/").split("/")[-1][:14]
    adapters = {"encoder": config.encoder_lora_rank, "decoder": config.decoder_lora_rank}
    how = {part: "+ LoRA" if rank else "frozen" for part, rank in adapters.items()}
    return {"encoder": f"encoder (HuBERT {how['encoder']})", "projector": "projector (SwiGLU)",
            "decoder": f"decoder ({decoder} {how['decoder']})", "overall": "overall"}


def parse_args(argv: list[str] | None):
    from src.presets import DECODER_PRESETS, ENCODER_PRESETS

    parser = ArgumentParser(prog="count_params.py", description=__doc__.split("\n\n")[0])
    # No defaults here: what is not given comes from ASRConfig (src/asr_config.py), the course's model.
    parser.add_argument("--encoder", help=f"HuBERT preset ({', '.join(ENCODER_PRESETS)}), hub id or local folder "
                                          "(default: ASRConfig's, hubert-xlarge-ls960-ft)")
    parser.add_argument("--decoder", help=f"decoder preset ({', '.join(DECODER_PRESETS)}), hub id or local folder "
                                          "(default: ASRConfig's, qwen3-8b)")
    parser.add_argument("--encoder-lora-rank", type=non_negative_int,
                        help="0 = no encoder adapters (default: ASRConfig's, 8)")
    parser.add_argument("--encoder-lora-targets", type=module_names,
                        help="comma-separated names of the encoder's linear layers to adapt (default: ASRConfig's, "
                             "q_proj,k_proj)")
    parser.add_argument("--decoder-lora-rank", type=non_negative_int,
                        help="0 = no decoder adapters (default: ASRConfig's, 8)")
    parser.add_argument("--decoder-lora-targets", type=module_names,
                        help="comma-separated names of the decoder's linear layers to adapt (default: ASRConfig's, "
                             "q_proj,v_proj)")
    return parser.parse_args(argv)


def lora_text(rank: int, alpha: float, targets: list[str]) -> str:
    return f"LoRA r={rank} (alpha {alpha:g}) on {','.join(targets)}" if rank else "no LoRA (fully frozen)"


def from_hub(name: str) -> bool:
    """A model name that is neither a preset nor a local folder: its config.json comes from the hub."""
    from pathlib import Path

    from src.presets import find_decoder_preset, find_encoder_preset

    return not (find_encoder_preset(name) or find_decoder_preset(name) or Path(name).expanduser().is_dir())


def print_config(config) -> None:
    enc, dec = config.encoder_config, config.decoder_config
    stacked = enc.hidden_size * config.projector_stack
    print("Exercise 3: where are the trainable parameters?")
    encoder_lora = lora_text(config.encoder_lora_rank, config.encoder_lora_alpha, config.encoder_lora_targets)
    decoder_lora = lora_text(config.decoder_lora_rank, config.decoder_lora_alpha, config.decoder_lora_targets)
    print(f"Encoder:   {config.encoder} + {encoder_lora}")
    print(f"Projector: stack {config.projector_stack} frames ({enc.hidden_size} x {config.projector_stack} = "
          f"{stacked}), SwiGLU {stacked} -> {config.projector_hidden_size} -> {dec.hidden_size}, "
          "RMSNorm before and after")
    print(f"Decoder:   {config.decoder} + {decoder_lora}")
    if any(from_hub(name) for name in (config.encoder, config.decoder)):  # a hub id: its config.json was needed
        print("Built on the meta device: exact shapes, no weights (only config.json, from your Hugging Face "
              "cache or the hub).")
    else:
        print("Built on the meta device: exact shapes, no weights, no download.")
    print()


if __name__ == "__main__":
    run(main)
