"""Homework 2, marked by tests: one check per task, run three ways.

Each ``check_*`` is a plain function: it takes an implementation of one task and raises AssertionError with a
teaching message (what was expected, what came out, and the concept) at the first thing it gets wrong.

- On the student's ``homework/homework_2.py`` (marked ``homework``, so ``pytest -m grading`` counts them): a
  task whose stub still raises NotImplementedError is skipped as "not attempted yet".
- On the answer key ``classes/instructors/homework_2_solutions.py``: CI proves every task can be solved.
- On deliberately wrong answers, and on other valid answers: each check catches a typical mistake with
  the message that teaches, and accepts the variations a correct student might write.
"""

from __future__ import annotations

import doctest
import functools
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np
import pytest

from conftest import ASSETS, ROOT

HOMEWORK = ROOT / "homework" / "homework_2.py"
ANSWER_KEY = ROOT / "classes" / "instructors" / "homework_2_solutions.py"


def load(path: Path) -> ModuleType:
    """Import a .py file by path (neither folder is a package)."""
    spec = importlib.util.spec_from_file_location(f"homework_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----- helpers the checks share ------------------------------------------------------------------------------

def fail(message: str):
    raise AssertionError(message)


def describe(value) -> str:
    if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
        return f"<array of shape {tuple(value.shape)}>"
    return repr(value)


def call(function: Callable, *args):
    """``function(*args)``; an exception or a missing ``return`` becomes a failure that names the call."""
    shown = f"{function.__name__}({', '.join(map(describe, args))})"
    try:
        result = function(*args)
    except Exception as err:
        fail(f"{shown} raised {type(err).__name__}: {err}")
    if result is None:
        fail(f"{shown} returned None: does the function end with `return`?")
    return result


def as_array(result) -> np.ndarray:
    """A numpy array or a torch tensor (on any device) as float64 numpy."""
    if hasattr(result, "detach"):
        result = result.detach().cpu().numpy()
    return np.asarray(result, dtype=np.float64)


def as_whole_number(result, shown: str) -> int:
    """An int, a numpy integer or a whole float (149.0) as int; anything else fails."""
    try:
        number = float(result)
    except (TypeError, ValueError):
        fail(f"{shown} returned {result!r}, not a number")
    if not number.is_integer():
        fail(f"{shown} returned {result!r}: a count is a whole number (round down with // or math.floor)")
    return int(number)


@functools.cache
def speech() -> np.ndarray:
    """The course's 3-second clip (48,000 samples at 16 kHz, speech then silence), float32 in [-1, 1]."""
    import soundfile as sf

    samples, rate = sf.read(ASSETS / "test.wav", dtype="float32")
    assert rate == 16_000
    return samples


SECOND = np.arange(16_000) / 16_000  # one second of time stamps at 16 kHz


def tone(hz: float, amplitude: float = 1.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * SECOND)


# ----- task 1: frame count -----------------------------------------------------------------------------------

FRAME_COUNTS = {48_000: 149, 16_000: 49, 72_000: 224, 400: 1, 719: 1, 720: 2, 399: 0, 1: 0, 0: 0}


def check_frame_count(frame_count: Callable[[int], int]) -> None:
    from src.audio import conv_output_frames

    for n, expected in FRAME_COUNTS.items():
        got = as_whole_number(call(frame_count, n), f"frame_count({n})")
        if got == expected:
            continue
        if n < 400:
            fail(f"frame_count({n}): expected 0, got {got}. HuBERT's first frame needs a full 400-sample "
                 f"(25 ms) window, so fewer than 400 samples give 0 frames")
        fail(f"frame_count({n}): expected {expected}, got {got}. HuBERT gives one frame per 320 samples after "
             f"a 400-sample window: floor(({n} - 400) / 320) + 1 = {expected}")
    for n in range(0, 4_000):  # every length against the 7 convolutions themselves
        expected = conv_output_frames(n)
        got = as_whole_number(call(frame_count, n), f"frame_count({n})")
        if got != expected:
            fail(f"frame_count({n}): expected {expected}, got {got}. Running the 7 convolutions layer by layer "
                 f"(L -> floor((L - kernel) / stride) + 1) gives {expected} = floor(({n} - 400) / 320) + 1")


# ----- task 2: z-normalisation -------------------------------------------------------------------------------

EPSILON = 1e-7


def normalised(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return (x - x.mean()) / np.sqrt(x.var() + EPSILON)


def check_z_normalise(z_normalise: Callable[[np.ndarray], np.ndarray]) -> None:
    clip = speech().copy()
    got = as_array(call(z_normalise, clip))
    if not np.array_equal(clip, speech()):
        fail("z_normalise changed the array it was given: compute a new array (x - mean) / ..., do not "
             "subtract in place")
    if got.shape != clip.shape:
        fail(f"z_normalise(one utterance of shape {clip.shape}) returned shape {got.shape}: the output keeps "
             f"the input's shape")
    if not np.allclose(got, normalised(clip), rtol=1e-3, atol=1e-4):
        fail(f"z_normalise(the 3 s sample): expected mean 0.000 and std 1.000, got mean {got.mean():.3f} and "
             f"std {got.std():.3f}. Z-normalisation is (x - mean) / sqrt(var + 1e-7), with the mean and "
             f"variance of this utterance")

    for name, flat in (("silence (16,000 zeros)", np.zeros(16_000)), ("a constant 0.5", np.full(16_000, 0.5))):
        got = as_array(call(z_normalise, flat))
        if not np.all(np.isfinite(got)):
            fail(f"z_normalise({name}) returned NaN or inf, expected zeros. Its variance is 0; the 1e-7 in "
                 f"sqrt(var + 1e-7) is what keeps the division finite: (x - mean) = 0, so 0 / sqrt(1e-7) = 0")
        if not np.allclose(got, 0, atol=1e-4):
            fail(f"z_normalise({name}): expected all zeros (x - mean is 0 everywhere), got values up to "
                 f"{np.abs(got).max():.3g}: subtract the mean first")

    quiet = tone(440, amplitude=1e-4)  # var = 5e-9, far below the epsilon
    expected = normalised(quiet)
    got = as_array(call(z_normalise, quiet))
    if not np.allclose(got, expected, rtol=1e-3, atol=1e-4):
        fail(f"z_normalise(a very quiet tone, amplitude 1e-4 so var = 5e-9): expected std "
             f"{expected.std():.3f}, got {got.std():.3f}. The 1e-7 goes inside the square root, "
             f"sqrt(var + 1e-7) = sqrt(5e-9 + 1e-7): near-silent noise is not blown up to full loudness")

    batch = np.stack([0.5 * tone(220) + 0.1, 0.01 * tone(3_000)])  # [2, 16000]: a loud and a soft utterance
    got = as_array(call(z_normalise, batch))
    if got.shape != batch.shape:
        fail(f"z_normalise(a batch of shape {batch.shape}) returned shape {got.shape}: one row per utterance, "
             f"same shape out as in")
    for row in range(2):
        if not np.allclose(got[row], normalised(batch[row]), rtol=1e-3, atol=1e-4):
            fail(f"z_normalise(a batch [2, 16000]): row {row} should come out with mean 0.000 and std 1.000, "
                 f"got mean {got[row].mean():.3f} and std {got[row].std():.3f}. Each utterance (row) is "
                 f"normalised with its own mean and variance (reduce over the last axis only)")


# ----- task 3: stacking 5 frames -----------------------------------------------------------------------------

def stacked(frames: np.ndarray) -> np.ndarray:
    """Step j holds frames 5j..5j+4 side by side; missing frames at the end are zeros. [B, T, D] -> [B, S, 5D]."""
    batch, length, dim = frames.shape
    steps = np.zeros((batch, math.ceil(length / 5), 5 * dim))
    for t in range(length):
        steps[:, t // 5, (t % 5) * dim:(t % 5 + 1) * dim] = frames[:, t]
    return steps


def check_stack_frames(stack_frames: Callable[[np.ndarray], np.ndarray]) -> None:
    rng = np.random.default_rng(2)
    for batch, length, dim in ((1, 149, 1280), (2, 150, 4), (2, 7, 3), (1, 1, 4)):
        frames = rng.standard_normal((batch, length, dim)).astype(np.float32)
        expected = stacked(frames)
        got = as_array(call(stack_frames, frames))
        steps = expected.shape[1]
        what = f"stack_frames(frames of shape [{batch}, {length}, {dim}])"
        if got.ndim != 3 or got.shape[0] != batch:
            fail(f"{what} returned shape {list(got.shape)}, expected {list(expected.shape)}: the batch axis "
                 f"stays first, [B, T, D] -> [B, ceil(T / 5), 5 * D]")
        if got.shape[1] != steps:
            if length % 5 == 0:
                concept = f"{length} frames are already a multiple of 5, so no padding: {length} / 5 = {steps}"
            elif got.shape[1] == length // 5:
                concept = (f"{length} frames need ceil({length} / 5) = {steps} steps: pad with zero frames up to "
                           f"{steps * 5} first; {length // 5} steps drop the last {length % 5} frame(s) of audio")
            else:
                concept = f"Each step is 5 frames (100 ms): ceil({length} / 5) = {steps} steps"
            fail(f"{what} returned {got.shape[1]} steps, expected {steps}. {concept}")
        if got.shape[2] != 5 * dim:
            fail(f"{what} returned {got.shape[2]} features per step, expected 5 * {dim} = {5 * dim}: each step "
                 f"holds 5 frames side by side")
        if not np.allclose(got, expected, atol=1e-6):
            front = stacked(np.pad(frames, ((0, 0), (-length % 5, 0), (0, 0))))
            if length % 5 and np.allclose(got, front, atol=1e-6):
                fail(f"{what}: the zero frames went at the start; they go at the end, after frame {length - 1}, "
                     f"so the audio keeps its timing")
            step = int(np.argmax(np.abs(got - expected).reshape(batch, steps, -1).max(axis=(0, 2))))
            fail(f"{what}: step {step} is wrong. Step j must be frames 5j..5j+4 side by side, "
                 f"[frame {5 * step} | frame {5 * step + 1} | ... | frame {5 * step + 4}], with zeros only "
                 f"after the last real frame; a reshape of [B, T, D] to [B, T / 5, 5 * D] keeps that order, "
                 f"one that moves the feature axis first does not")


# ----- task 4: LoRA parameter count --------------------------------------------------------------------------

HUBERT_QK = [(1280, 1280), (1280, 1280)]
QWEN3_8B_QV = [(4096, 4096), (4096, 1024)]
LORA_CASES = [  # (what, rank, matrices, layers, expected)
    ("HuBERT-XLarge, q_proj and k_proj (1280 -> 1280), 48 layers, r = 8", 8, HUBERT_QK, 48, 1_966_080),
    ("Qwen3-8B, q_proj (4096 -> 4096) and v_proj (4096 -> 1024), 36 layers, r = 8", 8, QWEN3_8B_QV, 36,
     3_833_856),
    ("SmolLM3-3B, q_proj (2048 -> 2048) and v_proj (2048 -> 512), 36 layers, r = 64", 64,
     [(2048, 2048), (2048, 512)], 36, 15_335_424),
    ("one 3 -> 5 matrix, 1 layer, r = 1", 1, [(3, 5)], 1, 8),
    ("no adapted matrices, 48 layers, r = 8", 8, [], 48, 0),
]


def check_lora_parameters(lora_parameters: Callable[..., int]) -> None:
    for what, rank, matrices, layers, expected in LORA_CASES:
        shown = f"lora_parameters({rank}, {matrices}, {layers})"
        got = as_whole_number(call(lora_parameters, rank, matrices, layers), shown)
        if got == expected:
            continue
        per_layer = " + ".join(f"{rank} * ({i} + {o})" for i, o in matrices) or "0"
        if got == layers * sum(i * o for i, o in matrices):
            concept = "That is the size of the frozen matrices; LoRA adds only A (r x in) and B (out x r)"
        elif got == layers * sum(2 * rank * i for i, o in matrices):
            concept = "Not every matrix is square (v_proj maps 4096 -> 1024): r * (in + out), not 2 * r * in"
        elif layers > 1 and got * layers == expected:
            concept = f"Every one of the {layers} layers has its own adapters: multiply by num_layers"
        else:
            concept = "Each adapted matrix gets A (r x in) and B (out x r): r * (in + out) parameters"
        fail(f"{what}: expected {expected:,}, got {got:,}. {concept}; here ({per_layer}) * {layers} = {expected:,}")
    got = as_whole_number(call(lora_parameters, 4, [(10, 20)]), "lora_parameters(4, [(10, 20)])")
    if got != 120:
        fail(f"lora_parameters(4, [(10, 20)]) with num_layers left at its default of 1: expected "
             f"4 * (10 + 20) = 120, got {got:,}")


# ----- task 5: energy an 8 kHz rate loses --------------------------------------------------------------------

ENERGY_CASES = [  # (what, signal, expected share lost, tolerance)
    ("a 1 kHz tone", lambda: tone(1_000), 0.0, 0.01),
    ("a 6 kHz tone", lambda: tone(6_000), 1.0, 0.01),
    ("1 kHz (amplitude 1) + 6 kHz (amplitude 0.5)", lambda: tone(1_000) + tone(6_000, 0.5), 0.2, 0.01),
    ("3 kHz + 5 kHz, equal amplitudes", lambda: tone(3_000) + tone(5_000), 0.5, 0.01),
    ("the 3 s speech sample", speech, 0.0115, 0.005),  # 0.0115 by the FFT definition; librosa gives 0.014
    ("silence (16,000 zeros)", lambda: np.zeros(16_000), 0.0, 1e-9),
]


def check_energy_lost_at_8khz(energy_lost_at_8khz: Callable[..., float]) -> None:
    for what, signal, expected, tolerance in ENERGY_CASES:
        samples = signal()
        got = call(energy_lost_at_8khz, samples, 16_000)
        try:
            got = float(as_array(got))
        except (TypeError, ValueError):
            fail(f"energy_lost_at_8khz({what}) returned {got!r}, expected one number between 0 and 1")
        if abs(got - expected) <= tolerance:
            continue
        if not math.isfinite(got):
            concept = "Silence has no energy to lose: return 0.0 instead of dividing 0 by 0"
        elif expected == 0.2 and abs(got - 1 / 3) < 0.01:
            concept = ("Energy goes with amplitude squared: sum |X|^2, not |X|; the 6 kHz tone carries "
                       "0.5^2 = 0.25 of the 1 kHz tone's energy, so 0.25 / 1.25 = 0.2 is lost")
        elif expected == 1.0 and got < 0.01:
            concept = ("An 8 kHz rate keeps only frequencies below its Nyquist limit, 8000 / 2 = 4 kHz, so a "
                       "6 kHz tone is lost entirely")
        elif abs(got - (1 - expected)) <= tolerance:
            concept = "Return the share lost (energy above 4 kHz), not the share kept"
        else:
            concept = "The share lost is the energy above 4 kHz (|X|^2 of the FFT bins above 4000 Hz) / all energy"
        fail(f"energy_lost_at_8khz({what}): expected {expected:.4g}, got {got:.4g}. {concept}")


# ----- the tasks, and grading a student's file ---------------------------------------------------------------

@dataclass(frozen=True)
class Task:
    number: int
    name: str  # the checkpoint name the grade summary shows
    function: str  # the function the student writes
    check: Callable[[Callable], None]
    example: tuple  # the stub's worked example: calling the stub with it raises NotImplementedError


TASKS = [
    Task(1, "Task 1: HuBERT's frame count", "frame_count", check_frame_count, (48_000,)),
    Task(2, "Task 2: z-normalisation with its epsilon", "z_normalise", check_z_normalise, (np.array([1.0, 2, 3]),)),
    Task(3, "Task 3: stacking 5 frames into 100 ms steps", "stack_frames", check_stack_frames,
         (np.zeros((1, 149, 8)),)),
    Task(4, "Task 4: LoRA parameter count", "lora_parameters", check_lora_parameters, (8, HUBERT_QK, 48)),
    Task(5, "Task 5: energy lost at an 8 kHz rate", "energy_lost_at_8khz", check_energy_lost_at_8khz,
         (tone(1_000) + tone(6_000, 0.5), 16_000)),
]


def grade(task: Task, module: ModuleType) -> None:
    """Skip a task not attempted yet; otherwise fail with the check's teaching message, or pass."""
    function = getattr(module, task.function, None)
    if not callable(function):
        pytest.fail(f"Task {task.number}: homework/homework_2.py has no function {task.function}(); keep the "
                    f"stub's name and arguments", pytrace=False)
    try:
        function(*task.example)
    except NotImplementedError:
        pytest.skip(f"Task {task.number} not attempted yet")
    except Exception:
        pass  # the check calls it again and says what went wrong
    try:
        task.check(function)
    except AssertionError as err:
        message = f"Task {task.number} ({task.function}): {err}"
    else:
        return
    pytest.fail(message, pytrace=False)  # outside `except`: the teaching message alone, no traceback


@pytest.fixture(scope="module")
def student() -> ModuleType:
    try:
        return load(HOMEWORK)
    except Exception as err:  # a syntax error, a failing import: every task fails with this line
        message = f"homework/homework_2.py does not run: {type(err).__name__}: {err}"
    pytest.fail(message, pytrace=False)


@pytest.mark.parametrize("task", [
    pytest.param(task, marks=[pytest.mark.homework, pytest.mark.checkpoint(task.name)], id=f"task{task.number}")
    for task in TASKS
])
def test_homework(task, student):
    grade(task, student)


# ----- CI: the answer key passes, wrong answers fail with the teaching message, valid variations pass --------

@pytest.fixture(scope="module")
def answer_key() -> ModuleType:
    return load(ANSWER_KEY)


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.function)
def test_answer_key_passes_every_check(task, answer_key):
    task.check(getattr(answer_key, task.function))


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.function)
def test_an_unattempted_stub_is_skipped(task):
    def stub(*args):
        raise NotImplementedError(f"Task {task.number}: write {task.function}")

    module = ModuleType("homework_2")
    setattr(module, task.function, stub)
    with pytest.raises(pytest.skip.Exception, match=f"Task {task.number} not attempted yet"):
        grade(task, module)


def test_a_missing_function_fails_with_its_name():
    with pytest.raises(pytest.fail.Exception, match="no function frame_count"):
        grade(TASKS[0], ModuleType("empty"))


def test_worked_examples_in_the_stubs_are_right(answer_key):
    """The examples in homework_2.py's docstrings, run against the answer key."""
    stubs = load(HOMEWORK)
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for task in TASKS:
        docstring = getattr(stubs, task.function).__doc__
        globs = {"np": np, task.function: getattr(answer_key, task.function)}
        test = parser.get_doctest(docstring, globs, task.function, str(HOMEWORK), 0)
        assert test.examples, f"{task.function}'s docstring has no worked example"
        assert runner.run(test).failed == 0, f"{task.function}'s worked example"


def test_homework_page_states_the_answer_keys_figures(answer_key):
    """classes/homework-2.md quotes what a full answer shows; each figure is recomputed here."""
    key = answer_key
    quiet_std = key.z_normalise(tone(440, 1e-4)).std()
    shortest_with_two_frames = next(n for n in range(10_000) if key.frame_count(n) == 2)
    figures = [
        f"48,000 samples (3 s) → **{key.frame_count(48_000)}** frames",
        f"16,000 (1 s) → {key.frame_count(16_000)}",
        f"72,000 samples → {key.frame_count(72_000)}",
        f"400 samples → {key.frame_count(400)} frame, 399 → {key.frame_count(399)}",
        f"2 frames is {shortest_with_two_frames} samples ({shortest_with_two_frames / 16:.0f} ms)",
        f"std **{quiet_std:.3f}**",
        f"`[1, 149, 1280]` → `{list(key.stack_frames(np.zeros((1, 149, 1280))).shape)}`",
        f"`[2, 150, 1280]` → `{list(key.stack_frames(np.zeros((2, 150, 1280))).shape)}`",
        f"{key.lora_parameters(8, [(1280, 1280)]):,} per matrix",
        f"**{key.lora_parameters(8, HUBERT_QK, 48):,}** in all",
        f"{100 * key.lora_parameters(8, HUBERT_QK, 48) / 962_497_408:.2f} %",
        f"**{key.lora_parameters(8, QWEN3_8B_QV, 36):,}**",
        f"36 layers: {key.lora_parameters(64, [(2048, 2048), (2048, 512)], 36):,}",
        f"loses **{key.energy_lost_at_8khz(tone(1_000) + tone(6_000, 0.5)):.1f}**",
        f"loses only **{key.energy_lost_at_8khz(speech()):.4f}**",
    ]
    text = (ROOT / "classes" / "homework-2.md").read_text()
    for figure in figures:
        assert figure in text, f"homework-2.md should say {figure!r}"


# Wrong answers a student might write, and the words of the message that must teach them.
def frames_ignoring_the_window(n):
    return n // 320


def frames_without_the_minimum(n):
    return (n - 400) // 320 + 1


def frames_as_a_float(n):
    return (n - 400) / 320 + 1 if n >= 400 else 0


def z_normalise_without_epsilon(x):
    with np.errstate(invalid="ignore"):
        return (x - x.mean(axis=-1, keepdims=True)) / x.std(axis=-1, keepdims=True)


def z_normalise_epsilon_outside(x):
    return (x - x.mean(axis=-1, keepdims=True)) / (x.std(axis=-1, keepdims=True) + 1e-7)


def z_normalise_whole_batch(x):
    return (x - x.mean()) / np.sqrt(x.var() + 1e-7)


def z_normalise_in_place(x):
    x -= x.mean(axis=-1, keepdims=True)
    return x / np.sqrt(x.var(axis=-1, keepdims=True) + 1e-7)


def stack_dropping_the_rest(frames):
    batch, length, dim = frames.shape
    return frames[:, : length // 5 * 5].reshape(batch, length // 5, 5 * dim)


def stack_always_padding(frames):
    batch, length, dim = frames.shape
    frames = np.pad(frames, ((0, 0), (0, 5 - length % 5), (0, 0)))
    return frames.reshape(batch, -1, 5 * dim)


def stack_padding_in_front(frames):
    batch, length, dim = frames.shape
    frames = np.pad(frames, ((0, 0), (-length % 5, 0), (0, 0)))
    return frames.reshape(batch, -1, 5 * dim)


def stack_features_first(frames):
    batch, length, dim = frames.shape
    frames = np.pad(frames, ((0, 0), (0, -length % 5), (0, 0))).transpose(0, 2, 1)  # [B, D, T]
    return frames.reshape(batch, dim, -1, 5).transpose(0, 2, 1, 3).reshape(batch, -1, 5 * dim)


def lora_full_matrices(rank, matrices, num_layers=1):
    return num_layers * sum(i * o for i, o in matrices)


def lora_square_only(rank, matrices, num_layers=1):
    return num_layers * sum(2 * rank * i for i, o in matrices)


def lora_one_layer(rank, matrices, num_layers=1):
    return sum(rank * (i + o) for i, o in matrices)


def energy_of_amplitudes(x, sample_rate=16_000):
    spectrum = np.abs(np.fft.rfft(x))
    return spectrum[np.fft.rfftfreq(len(x), 1 / sample_rate) > 4_000].sum() / spectrum.sum()


def energy_above_8khz(x, sample_rate=16_000):
    power = np.abs(np.fft.rfft(x)) ** 2
    return power[np.fft.rfftfreq(len(x), 1 / sample_rate) > 8_000].sum() / max(power.sum(), 1e-30)


def energy_kept(x, sample_rate=16_000):
    power = np.abs(np.fft.rfft(x)) ** 2
    return power[np.fft.rfftfreq(len(x), 1 / sample_rate) <= 4_000].sum() / max(power.sum(), 1e-30)


def energy_dividing_zero_by_zero(x, sample_rate=16_000):
    power = np.abs(np.fft.rfft(x)) ** 2
    with np.errstate(invalid="ignore"):
        return power[np.fft.rfftfreq(len(x), 1 / sample_rate) > 4_000].sum() / power.sum()


def forgot_return(*args):
    pass


WRONG = [  # (check, wrong answer, words the message must contain)
    (check_frame_count, frames_ignoring_the_window,
     "frame_count(48000): expected 149, got 150. HuBERT gives one frame per 320 samples after a 400-sample "
     "window: floor((48000 - 400) / 320) + 1 = 149"),
    (check_frame_count, frames_without_the_minimum, "fewer than 400 samples give 0 frames"),
    (check_frame_count, frames_as_a_float, "a count is a whole number"),
    (check_z_normalise, z_normalise_without_epsilon, "the 1e-7 in sqrt(var + 1e-7) is what keeps the division"),
    (check_z_normalise, z_normalise_epsilon_outside, "The 1e-7 goes inside the square root"),
    (check_z_normalise, z_normalise_whole_batch, "Each utterance (row) is normalised with its own mean and"),
    (check_z_normalise, z_normalise_in_place, "z_normalise changed the array it was given"),
    (check_stack_frames, stack_dropping_the_rest, "149 frames need ceil(149 / 5) = 30 steps"),
    (check_stack_frames, stack_always_padding, "150 frames are already a multiple of 5, so no padding"),
    (check_stack_frames, stack_padding_in_front, "the zero frames went at the start; they go at the end"),
    (check_stack_frames, stack_features_first, "Step j must be frames 5j..5j+4 side by side"),
    (check_lora_parameters, lora_full_matrices, "That is the size of the frozen matrices; LoRA adds only"),
    (check_lora_parameters, lora_square_only, "Not every matrix is square"),
    (check_lora_parameters, lora_one_layer, "Every one of the 48 layers has its own adapters"),
    (check_energy_lost_at_8khz, energy_of_amplitudes, "Energy goes with amplitude squared"),
    (check_energy_lost_at_8khz, energy_above_8khz, "Nyquist limit, 8000 / 2 = 4 kHz"),
    (check_energy_lost_at_8khz, energy_kept, "Return the share lost"),
    (check_energy_lost_at_8khz, energy_dividing_zero_by_zero, "return 0.0 instead of dividing 0 by 0"),
    (check_frame_count, forgot_return, "returned None"),
]


@pytest.mark.parametrize("check, wrong, words", WRONG, ids=[wrong.__name__ for _, wrong, _ in WRONG])
def test_a_wrong_answer_fails_with_a_teaching_message(check, wrong, words):
    with pytest.raises(AssertionError) as failure:
        check(wrong)
    assert words in str(failure.value)


# Valid answers other than the answer key's: torch instead of numpy, float32, floats, librosa resampling.
def frames_with_math_floor(n):
    return max(0, math.floor((n - 400) / 320) + 1)


def z_normalise_in_torch(x):
    import torch

    x = torch.as_tensor(x, dtype=torch.float32)
    return (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, keepdim=True) + 1e-7)  # unbiased var


def stack_in_torch(frames):
    import torch
    import torch.nn.functional as F

    frames = torch.as_tensor(frames)
    frames = F.pad(frames, (0, 0, 0, -frames.shape[1] % 5))
    return frames.reshape(frames.shape[0], -1, 5 * frames.shape[2])


def lora_in_numpy(rank, matrices, num_layers=1):
    return np.int64(num_layers) * rank * np.sum(np.asarray(matrices, dtype=np.int64).reshape(-1, 2))


def energy_by_resampling(x, sample_rate=16_000):
    import librosa

    energy = np.sum(np.square(x, dtype=np.float64)) / sample_rate  # energy per second of the original
    if energy == 0:
        return 0.0
    kept = librosa.resample(np.asarray(x, dtype=np.float64), orig_sr=sample_rate, target_sr=8_000)
    return 1 - (np.sum(kept**2) / 8_000) / energy


VALID = [
    (check_frame_count, frames_with_math_floor),
    (check_z_normalise, z_normalise_in_torch),
    (check_stack_frames, stack_in_torch),
    (check_lora_parameters, lora_in_numpy),
    (check_energy_lost_at_8khz, energy_by_resampling),
]


@pytest.mark.parametrize("check, answer", VALID, ids=[answer.__name__ for _, answer in VALID])
def test_other_valid_answers_pass(check, answer):
    check(answer)


def test_answer_key_normalises_like_the_feature_extractor(answer_key):
    """Task 2's formula is what Wav2Vec2FeatureExtractor (HuBERT-XLarge's preprocessor settings) does."""
    from transformers import Wav2Vec2FeatureExtractor

    extractor = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16_000, padding_value=0.0,
                                         do_normalize=True, return_attention_mask=True)
    for clip in (speech(), np.zeros(16_000, dtype=np.float32), tone(440, 1e-4).astype(np.float32)):
        expected = extractor(clip, sampling_rate=16_000, return_tensors="np").input_values[0]
        np.testing.assert_allclose(answer_key.z_normalise(clip), expected, rtol=1e-4, atol=1e-5)


def test_answer_key_counts_lora_like_peft(answer_key):
    """Task 4's formula equals peft's own count on a small model with square and non-square matrices."""
    import torch
    from peft import LoraConfig, get_peft_model
    from torch import nn

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.q_proj, self.v_proj, self.o_proj = nn.Linear(64, 64), nn.Linear(64, 16), nn.Linear(64, 64)

    torch.manual_seed(0)
    model = nn.Sequential(Layer(), Layer(), Layer())
    adapted = get_peft_model(model, LoraConfig(r=4, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
    trainable, _ = adapted.get_nb_trainable_parameters()
    assert trainable == answer_key.lora_parameters(4, [(64, 64), (64, 16)], num_layers=3)
