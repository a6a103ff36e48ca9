"""Homework for class 2: five short functions, one per task. Write your answers in this file.

Replace each ``raise NotImplementedError(...)`` with your code; keep the function names and arguments.
The tasks are explained in classes/homework-2.md. Use numpy (librosa and scipy are installed too).

Check your answers at any time (a task you have not started yet is reported as skipped):

    poetry run pytest -m homework

A wrong answer fails with a message that says what was expected, what came out, and why.
"""

from __future__ import annotations

import numpy as np


def frame_count(num_samples: int) -> int:
    """Task 1: how many frames HuBERT makes from ``num_samples`` samples of 16 kHz audio.

    HuBERT's convolutions look at 400 samples (25 ms) at a time and move 320 samples (20 ms) between
    frames. Fewer than 400 samples do not fill even one window.

    Input: ``num_samples``, an int >= 0.
    Output: the number of frames, an int (0 when ``num_samples`` < 400).

    Worked example: 3 s at 16 kHz is 48,000 samples -> floor((48000 - 400) / 320) + 1 = 148 + 1 = 149.
        >>> frame_count(48000)
        149
    """
    raise NotImplementedError("Task 1: write frame_count")


def z_normalise(samples: np.ndarray) -> np.ndarray:
    """Task 2: z-normalise each utterance the way HuBERT's feature extractor does.

    For each utterance x: ``(x - mean(x)) / sqrt(var(x) + 1e-7)``, where var is the mean squared
    deviation from the mean (numpy's ``np.var``). The 1e-7 goes *inside* the square root: it keeps
    silence (var = 0) finite, so silence must come out as zeros, never NaN.

    Input: ``samples``, a float numpy array, either one utterance of shape [N] or a batch of shape [B, N]
    (one utterance per row; each row is normalised on its own).
    Output: a float array of the same shape as ``samples``.

    Worked example: [1, 2, 3] has mean 2 and var 2/3 -> (x - 2) / sqrt(2/3 + 1e-7)
        >>> z_normalise(np.array([1.0, 2.0, 3.0])).round(4)
        array([-1.2247,  0.    ,  1.2247])
    """
    raise NotImplementedError("Task 2: write z_normalise")


def stack_frames(frames: np.ndarray) -> np.ndarray:
    """Task 3: stack every 5 consecutive 20 ms frames into one 100 ms step, as the projector does.

    Pad the time axis with frames of zeros at the end, up to a multiple of 5 (no padding when T already is
    one), then put each group of 5 frames side by side: step j is frames 5j, 5j+1, ..., 5j+4 concatenated
    along the feature axis.

    Input: ``frames``, a numpy array of shape [B, T, D] (batch, frames, features; D = 1280 for HuBERT).
    Output: a numpy array of shape [B, ceil(T / 5), 5 * D].

    Worked example: HuBERT's [1, 149, 1280] -> pad to [1, 150, 1280] -> [1, 30, 6400]; the last step holds
    frames 145..148 and then 1280 zeros.
        >>> stack_frames(np.zeros((1, 149, 1280))).shape
        (1, 30, 6400)
    """
    raise NotImplementedError("Task 3: write stack_frames")


def lora_parameters(rank: int, matrices: list[tuple[int, int]], num_layers: int = 1) -> int:
    """Task 4: how many trainable parameters LoRA adds.

    An adapted weight matrix that maps ``in_features`` to ``out_features`` gets two small matrices,
    A (rank x in_features) and B (out_features x rank); the big matrix itself stays frozen.

    Input: ``rank`` (r); ``matrices``, the (in_features, out_features) of each matrix adapted in one layer;
    ``num_layers``, how many layers have those matrices.
    Output: the number of new parameters, an int.

    Worked example: HuBERT-XLarge, r = 8 on q_proj and k_proj (each 1280 -> 1280) in all 48 layers:
    8 * (1280 + 1280) = 20,480 per matrix, x 2 matrices x 48 layers = 1,966,080.
        >>> lora_parameters(8, [(1280, 1280), (1280, 1280)], num_layers=48)
        1966080
    """
    raise NotImplementedError("Task 4: write lora_parameters")


def energy_lost_at_8khz(samples: np.ndarray, sample_rate: int = 16_000) -> float:
    """Task 5: the share of a signal's energy that an 8 kHz sampling rate (telephone) cannot keep.

    An 8 kHz rate keeps only frequencies below its Nyquist limit, 4 kHz. Definition: with the power
    spectrum P[k] = |X[k]|^2, where X = np.fft.rfft(samples) and bin k sits at frequency
    np.fft.rfftfreq(len(samples), 1 / sample_rate)[k], the share is

        sum of P[k] over the bins above 4000 Hz  /  sum of P[k] over all bins.

    Silence has no energy to lose: return 0.0 for it (not NaN). Resampling to 8 kHz with librosa and
    comparing energy per second also measures this (its low-pass filter starts a little below 4 kHz, so it
    reports slightly more); the tests accept either, within 0.03.

    Input: ``samples``, a 1-D float numpy array [N]; ``sample_rate`` in Hz.
    Output: a float between 0.0 and 1.0.

    Worked example: one second of sin(2 pi 1000 t) + 0.5 sin(2 pi 6000 t). Energy goes with amplitude
    squared: 1 at 1 kHz (kept), 0.25 at 6 kHz (lost) -> 0.25 / 1.25 = 0.2.
        >>> t = np.arange(16000) / 16000
        >>> round(energy_lost_at_8khz(np.sin(2 * np.pi * 1000 * t) + 0.5 * np.sin(2 * np.pi * 6000 * t)), 3)
        0.2
    """
    raise NotImplementedError("Task 5: write energy_lost_at_8khz")
