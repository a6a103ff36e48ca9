"""Floating-point operations of one HuBERT encoder forward pass, counted from the configuration.

Pure Python (no torch), so the parent process and the probes share one formula.
"""

from __future__ import annotations


def _get(config, name: str):
    return config[name] if isinstance(config, dict) else getattr(config, name)


def conv_lengths(num_samples: int, kernels, strides) -> list[int]:
    """Output length of each CNN layer: ``L_i = floor((L_{i-1} - k_i) / s_i) + 1``, with ``L_0 = N``."""
    lengths, length = [], num_samples
    for kernel, stride in zip(kernels, strides):
        length = (length - kernel) // stride + 1 if length >= kernel else 0
        lengths.append(length)
    return lengths


def hubert_encoder_flops(config, num_samples: int) -> dict[str, int]:
    """FLOPs of ``HubertModel`` on one input of ``num_samples`` samples (batch 1), by part, and their total.

    One multiply-add counts as 2 FLOPs. With ``C_i`` the CNN channels (``C_0 = 1``), ``k_i`` / ``s_i`` its
    kernels and strides, ``L_i`` its output lengths (see `conv_lengths`), ``T = L_7`` frames, hidden size
    ``H``, feed-forward size ``I``, ``n`` transformer layers, position-convolution kernel ``K`` and groups
    ``G``::

        cnn                = sum_i 2 * C_{i-1} * C_i * k_i * L_i           (7 convolutions; 1 -> 512 -> ... -> 512)
        feature_projection = 2 * T * C_7 * H                               (Linear 512 -> H)
        position_conv      = 2 * (T + 1) * H * (H / G) * K                 (grouped Conv1d, padding K/2: T + 1
                                                                            outputs, the last one dropped)
        qkvo               = n * 4 * (2 * T * H * H)                       (q, k, v and output projections)
        attention          = n * (2 * T * T * H  +  2 * T * T * H)         (scores Q K^T over all heads, and
                                                                            the weighted sum P V)
        feed_forward       = n * 2 * (2 * T * H * I)                       (H -> I -> H)
        total              = the sum of the six

    Not counted (they are O(T * H) memory-bound element-wise work, well under 1 % of the total): biases,
    layer norms, GELU, softmax, residual additions, dropout (off in eval).

    ``config`` is a ``HubertConfig`` or a dict with the same keys (``conv_dim``, ``conv_kernel``,
    ``conv_stride``, ``hidden_size``, ``intermediate_size``, ``num_hidden_layers``,
    ``num_conv_pos_embeddings``, ``num_conv_pos_embedding_groups``).
    """
    channels = [1, *_get(config, "conv_dim")]
    kernels, strides = _get(config, "conv_kernel"), _get(config, "conv_stride")
    lengths = conv_lengths(num_samples, kernels, strides)
    frames = lengths[-1]
    hidden, ffn = _get(config, "hidden_size"), _get(config, "intermediate_size")
    layers = _get(config, "num_hidden_layers")
    pos_kernel, pos_groups = _get(config, "num_conv_pos_embeddings"), _get(config, "num_conv_pos_embedding_groups")

    parts = {
        "cnn": sum(2 * channels[i] * channels[i + 1] * kernels[i] * lengths[i] for i in range(len(kernels))),
        "feature_projection": 2 * frames * channels[-1] * hidden,
        "position_conv": 2 * (frames + 1) * hidden * (hidden // pos_groups) * pos_kernel,
        "qkvo": layers * 4 * 2 * frames * hidden * hidden,
        "attention": layers * 2 * (2 * frames * frames * hidden),
        "feed_forward": layers * 2 * 2 * frames * hidden * ffn,
    }
    parts["total"] = sum(parts.values())
    parts["frames"] = frames  # not FLOPs: the T used above
    return parts


def windows(num_samples: int, window_seconds: float, sample_rate: int = 16_000, stride: int = 320,
            receptive_field: int = 400) -> list[int]:
    """Chunk lengths that ``explore_hubert.encode_in_windows`` feeds the encoder (same arithmetic)."""
    total_frames = (num_samples - receptive_field) // stride + 1 if num_samples >= receptive_field else 0
    window = max(1, int(window_seconds * sample_rate) // stride) * stride
    overlap = receptive_field - stride
    count = -(-total_frames // (window // stride))
    return [min(num_samples, i * window + window + overlap) - i * window for i in range(count)]
