"""A character-level tokenizer built in code, so the tiny model runs end to end with no download."""

from __future__ import annotations

from transformers import PreTrainedTokenizerFast

from src.presets import TINY_CHARACTERS, TINY_SPECIAL_TOKENS


def build_tiny_tokenizer() -> PreTrainedTokenizerFast:
    """One token per character (printable ASCII and newline) plus ``<pad>`` (0), ``<eos>`` (1), ``<unk>`` (2)."""
    from tokenizers import Tokenizer, decoders, models

    vocab = {token: i for i, token in enumerate(TINY_SPECIAL_TOKENS + tuple(TINY_CHARACTERS))}
    # BPE with no merges splits text into single characters; Fuse joins them back without spaces.
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tokenizer.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
