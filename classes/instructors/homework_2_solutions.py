"""Answer key for homework 2 (homework/homework_2.py): a short reference solution to each task.

For instructors and graders; students write their own in homework/homework_2.py. tests/test_homework.py
runs the same checks on these functions as on a student's file, so CI proves every task can be solved
as it is stated. Task descriptions and what a full answer shows: classes/homework-2.md.
"""

from __future__ import annotations

import numpy as np

RECEPTIVE_FIELD = 400  # samples (25 ms) one HuBERT frame sees: the shortest input that gives a frame
STRIDE = 320  # samples (20 ms) between frames: the product of the CNN's strides 5*2*2*2*2*2*2
EPSILON = 1e-7  # Wav2Vec2FeatureExtractor's: inside the square root, so silence stays finite
STACK = 5  # frames per projector step: 5 x 20 ms = 100 ms
TELEPHONE_NYQUIST = 4_000  # Hz: an 8 kHz rate keeps frequencies below half of it


def frame_count(num_samples: int) -> int:
    """Task 1: floor((N - 400) / 320) + 1 frames, 0 below 400 samples."""
    if num_samples < RECEPTIVE_FIELD:
        return 0
    return (num_samples - RECEPTIVE_FIELD) // STRIDE + 1


def z_normalise(samples: np.ndarray) -> np.ndarray:
    """Task 2: (x - mean) / sqrt(var + 1e-7) for each utterance (the last axis), [N] or [B, N]."""
    x = np.asarray(samples, dtype=np.float64)
    mean = x.mean(axis=-1, keepdims=True)  # [..., 1]
    var = x.var(axis=-1, keepdims=True)  # [..., 1]
    return (x - mean) / np.sqrt(var + EPSILON)


def stack_frames(frames: np.ndarray) -> np.ndarray:
    """Task 3: [B, T, D] -> zero-pad T to a multiple of 5 -> [B, ceil(T / 5), 5 * D]."""
    frames = np.asarray(frames)
    batch, length, dim = frames.shape
    pad = -length % STACK  # 149 -> 1 frame of zeros, 150 -> none
    frames = np.pad(frames, ((0, 0), (0, pad), (0, 0)))  # [B, T + pad, D], zeros at the end
    return frames.reshape(batch, (length + pad) // STACK, STACK * dim)  # [B, steps, 5D]


def lora_parameters(rank: int, matrices: list[tuple[int, int]], num_layers: int = 1) -> int:
    """Task 4: A (r x in) + B (out x r) = r * (in + out) per adapted matrix, for every layer."""
    return num_layers * sum(rank * (in_features + out_features) for in_features, out_features in matrices)


def energy_lost_at_8khz(samples: np.ndarray, sample_rate: int = 16_000) -> float:
    """Task 5: the share of spectral energy above 4 kHz, from the FFT power spectrum; 0.0 for silence."""
    power = np.abs(np.fft.rfft(samples)) ** 2  # [N // 2 + 1]
    frequencies = np.fft.rfftfreq(len(samples), d=1 / sample_rate)  # Hz of each bin
    total = power.sum()
    if total == 0:
        return 0.0
    return float(power[frequencies > TELEPHONE_NYQUIST].sum() / total)
