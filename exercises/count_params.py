"""Exercise 3: where are the trainable parameters?

Build the whole Tiny Audio model at full size on PyTorch's ``meta`` device (shapes only: no weights, no
memory, no download) and count total, trainable and frozen parameters per component.

    poetry run python exercises/count_params.py
    poetry run python exercises/count_params.py --decoder smollm3-3b --decoder-lora-rank 64
"""

from __future__ import annotations

from src.cli import ArgumentParser, module_names, non_negative_int, positive_float, positive_int, run


def parse_args(argv: list[str] | None):
    parser = ArgumentParser(prog="count_params.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default="hubert-xlarge-ls960-ft",
                        help="HuBERT preset (hubert-xlarge-ls960-ft, hubert-large-ls960-ft, hubert-base-ls960, "
                             "tiny), hub id or local directory")
    parser.add_argument("--decoder", default="qwen3-8b",
                        help="decoder preset (qwen3-8b, qwen3-1.7b, qwen3-0.6b, smollm3-3b, tiny), hub id or "
                             "local directory")
    parser.add_argument("--encoder-lora-rank", type=non_negative_int, default=8, help="0 = no encoder adapters")
    parser.add_argument("--encoder-lora-alpha", type=positive_float, default=8)
    parser.add_argument("--encoder-lora-targets", type=module_names, default=["q_proj", "k_proj"],
                        help="comma-separated module names")
    parser.add_argument("--decoder-lora-rank", type=non_negative_int, default=8, help="0 = no decoder adapters")
    parser.add_argument("--decoder-lora-alpha", type=positive_float, default=32)
    parser.add_argument("--decoder-lora-targets", type=module_names, default=["q_proj", "v_proj"],
                        help="comma-separated module names")
    parser.add_argument("--projector-stack", type=positive_int, default=5, help="encoder frames per projector step")
    parser.add_argument("--projector-hidden", type=positive_int, default=8192, help="SwiGLU hidden size")
    return parser.parse_args(argv)


def lora_text(rank: int, alpha: float, targets: list[str]) -> str:
    return f"LoRA r={rank} (alpha {alpha:g}) on {','.join(targets)}" if rank else "no LoRA (fully frozen)"


def model_label(name: str, rank: int) -> str:
    """Short display name: the preset's published name (Qwen3-8B), else the name given."""
    from src.presets import find_decoder_preset, find_encoder_preset

    preset = find_encoder_preset(name) or find_decoder_preset(name)
    short = preset.hub_id.split("/")[-1] if preset and preset.hub_id else name.rstrip("/").split("/")[-1]
    short = "HuBERT" if short.lower().startswith("hubert") else short
    return f"{short[:14]} + LoRA" if rank else f"{short[:14]}, frozen"


def build_config(args):
    from src.asr_config import ASRConfig

    return ASRConfig(
        encoder=args.encoder, decoder=args.decoder,
        encoder_lora_rank=args.encoder_lora_rank, encoder_lora_alpha=args.encoder_lora_alpha,
        encoder_lora_targets=args.encoder_lora_targets,
        decoder_lora_rank=args.decoder_lora_rank, decoder_lora_alpha=args.decoder_lora_alpha,
        decoder_lora_targets=args.decoder_lora_targets,
        projector_stack=args.projector_stack, projector_hidden_size=args.projector_hidden,
    )


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)

    import torch

    from src.asr_modeling import ASRModel
    from src.errors import UserError
    from src.params import parameter_summary

    try:
        config = build_config(args)
        with torch.device("meta"):  # shapes only: a 9-billion-parameter model in well under a second
            model = ASRModel(config)
    except ValueError as err:  # e.g. a LoRA target that matches no module
        raise UserError(f"cannot build the model: {str(err).splitlines()[0]}") from None
    summary = parameter_summary(model)

    enc, dec = config.encoder_config, config.decoder_config
    stacked = enc.hidden_size * config.projector_stack
    print("Exercise 3: where are the trainable parameters?")
    print(f"Encoder:   {args.encoder} + "
          f"{lora_text(args.encoder_lora_rank, args.encoder_lora_alpha, args.encoder_lora_targets)}")
    print(f"Projector: stack {config.projector_stack} frames ({enc.hidden_size} x {config.projector_stack} = "
          f"{stacked}), SwiGLU {stacked} -> {config.projector_hidden_size} -> {dec.hidden_size}, "
          "RMSNorm before and after")
    print(f"Decoder:   {args.decoder} + "
          f"{lora_text(args.decoder_lora_rank, args.decoder_lora_alpha, args.decoder_lora_targets)}")
    print("Built on the meta device: exact shapes, no weights, no download.")
    print()
    labels = {"encoder": f"encoder ({model_label(args.encoder, args.encoder_lora_rank)})",
              "projector": "projector (SwiGLU)",
              "decoder": f"decoder ({model_label(args.decoder, args.decoder_lora_rank)})", "overall": "overall"}
    print(f"{'component':<28}{'total':>15}{'trainable':>15}{'frozen':>15}{'trainable %':>13}")
    for name, count in summary.items():
        if name == "overall":
            print("-" * 86)
        print(f"{labels[name]:<28}{count.total:>15,}{count.trainable:>15,}{count.frozen:>15,}"
              f"{count.trainable_percent:>12.2f}%")

    return {name: {"total": c.total, "trainable": c.trainable, "frozen": c.frozen,
                   "trainable_percent": c.trainable_percent} for name, c in summary.items()}


if __name__ == "__main__":
    run(main)
