"""Checkpoint tests: the lecture's "Success checkpoints" of the three exercises, as a grader runs them.

    poetry run pytest -m grading

Each test is one checkpoint (marked ``exercise1``, ``exercise2`` or ``exercise3`` and named by
``@pytest.mark.checkpoint``, so the grade summary lists it by name). It runs the student's exercise the way
the student does, ``main(argv)``, on the course's sample and on files the student has not seen (made here:
another sampling rate, stereo, other lengths, silence), and reads only what ``main`` returns and the files
it writes, never the wording of printed lines: a student may reword every label, a wrong number still fails.

Every expectation is computed here from first principles (16 kHz, the mean of the channels, a 400-sample
window and a 320-sample stride, LoRA's r x (in + out), 5 stacked frames), not read back from ``src``, so a
mistake in ``src`` shows up as a failure too. A failure says what was expected, what came out and the
concept behind it, on one line, without a traceback.

The exercises are imported inside fixtures, never when this file is collected, so one broken exercise
fails its own checkpoints and leaves the others to run. ``tests/test_planted_bugs.py`` proves the checks
catch typical mistakes; ``tests/test_exercises.py`` and ``tests/test_lecture.py`` stay the instructors'
golden tests (exact printed output), apart from grading.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
import traceback
from pathlib import Path

import numpy as np
import pytest

from conftest import ASSETS, load_exercise, run_exercise, student_folder

RATE = 16_000  # Hz: what HuBERT was trained on
WINDOW = 400  # samples (25 ms) that HuBERT's first frame needs: its CNN's receptive field
STRIDE = 320  # samples (20 ms) between frames: 5 x 2 x 2 x 2 x 2 x 2 x 2
EPSILON = 1e-7  # (x - mean) / sqrt(var + 1e-7)


def fail(message: str):
    """Fail with the teaching message alone (no traceback): what a grader pastes into feedback."""
    pytest.fail(message, pytrace=False)


def expected_frames(samples: int) -> int:
    """HuBERT's frame count from first principles: floor((N - 400) / 320) + 1, and 0 below 400 samples."""
    return 0 if samples < WINDOW else (samples - WINDOW) // STRIDE + 1


def frame_formula(samples: int) -> str:
    return f"floor(({samples} - {WINDOW}) / {STRIDE}) + 1 = {expected_frames(samples)}"


# ----- running the student's exercises ---------------------------------------------------------------------------

class Runs:
    """Runs ``exercises/<name>.py``'s ``main(argv)`` in-process, each from a fresh folder that looks like the
    repository root (``assets/`` is there), as a student runs it. Each distinct run happens once per session;
    a run that raises is remembered too, and every checkpoint that needs it fails with the same line."""

    def __init__(self, base: Path):
        self.base = base
        self.modules: dict[str, object] = {}
        self.done: dict[tuple[str, ...], tuple[str, object, Path] | str] = {}

    def module(self, name: str):
        if name not in self.modules:
            try:
                self.modules[name] = load_exercise(name)
            except BaseException as err:  # a syntax error, a failing import, an exit at import time
                self.modules[name] = f"exercises/{name}.py does not run: {type(err).__name__}: {err}"
        if isinstance(self.modules[name], str):
            fail(self.modules[name])
        return self.modules[name]

    def __call__(self, name: str, *args: str) -> tuple[str, dict, Path]:
        """(what it printed, what main returned, the folder it ran in)."""
        key = (name, *args)
        if key not in self.done:
            module = self.module(name)
            folder = student_folder(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.base)))
            previous = Path.cwd()
            os.chdir(folder)
            try:
                with contextlib.redirect_stdout(io.StringIO()) as out:
                    result = module.main(list(args))
                self.done[key] = (out.getvalue(), result, folder)
            except BaseException as err:  # noqa: BLE001 -- a grader needs the line, whatever it was
                where = traceback.extract_tb(err.__traceback__)[-1]
                shown = " ".join(Path(a).name if os.path.isabs(a) else a for a in args)
                self.done[key] = (f"python exercises/{name}.py {shown} stopped with {type(err).__name__}: {err} "
                                  f"(at {Path(where.filename).name}:{where.lineno})")
            finally:
                os.chdir(previous)
        if isinstance(self.done[key], str):
            fail(self.done[key])
        out, result, folder = self.done[key]
        if not isinstance(result, dict):
            fail(f"exercises/{name}.py: main() returned {type(result).__name__}, expected the dict of results "
                 f"it ends with (`return {{...}}`)")
        return out, result, folder


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> Runs:
    return Runs(tmp_path_factory.mktemp("student-runs"))


def need(result: dict, *keys: str, exercise: str):
    """The values of ``keys`` in main's result; a missing key fails with its name."""
    missing = [key for key in keys if key not in result]
    if missing:
        fail(f"exercises/{exercise}: main() no longer returns {', '.join(map(repr, missing))}; the checkpoints "
             f"read main()'s return value, so keep its keys")
    return [result[key] for key in keys]


# ----- audio the student has not seen ------------------------------------------------------------------------------

def sine(hz: float, frames: int, rate: int, amplitude: float) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(frames) / rate)).astype(np.float32)


@pytest.fixture(scope="session")
def unseen(tmp_path_factory):
    """``unseen(name)``: the path of a made-up clip, written once per session as 32-bit float WAV (exact)."""
    import soundfile as sf

    folder = tmp_path_factory.mktemp("unseen-audio")
    rng = np.random.default_rng(12)
    recipes = {
        # 2.30 s at 44.1 kHz, stereo: a voice-like mix left, 6 dB quieter and other notes right
        "stereo_44k": lambda: (np.stack([sine(220, 101_430, 44_100, 0.4) + sine(1_100, 101_430, 44_100, 0.1),
                                         sine(330, 101_430, 44_100, 0.2)], axis=1), 44_100),
        # 1.50 s of a 440 Hz tone at a telephone's and at a CD's rate
        "tone_8k": lambda: (sine(440, 12_000, 8_000, 0.5), 8_000),
        "tone_44k": lambda: (sine(440, 66_150, 44_100, 0.5), 44_100),
        # 1 s at 16 kHz, stereo with different channels: left 0.6 x 440 Hz, right 0.2 x 660 Hz
        "stereo_16k": lambda: (np.stack([sine(440, 16_000, RATE, 0.6), sine(660, 16_000, RATE, 0.2)], axis=1), RATE),
        "silence": lambda: (np.zeros(16_000, dtype=np.float32), RATE),  # 1 s of digital silence
        # lengths around HuBERT's frame boundaries: noise, so nothing is silent
        **{f"noise_{n}": (lambda n=n: (rng.uniform(-0.3, 0.3, n).astype(np.float32), RATE))
           for n in (400, 720, 16_400, 160_000)},
        # 11 s at 44.1 kHz, stereo, speech-like pitch glides: 176,000 samples at 16 kHz, 549 HuBERT frames
        "stereo_44k_11s": lambda: (np.stack([sine(180, 485_100, 44_100, 0.3) + sine(2_500, 485_100, 44_100, 0.05),
                                             sine(240, 485_100, 44_100, 0.2)], axis=1), 44_100),
        # 1.70 s at 44.1 kHz, stereo: 27,200 samples at 16 kHz
        "stereo_44k_short": lambda: (np.stack([sine(300, 74_970, 44_100, 0.3), sine(500, 74_970, 44_100, 0.3)],
                                              axis=1), 44_100),
    }

    def make(name: str) -> Path:
        path = folder / f"{name}.wav"
        if not path.exists():
            data, rate = recipes[name]()
            sf.write(path, data, rate, subtype="FLOAT")
        return path

    return make


def read(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, rate = sf.read(path, dtype="float32", always_2d=True)
    return data, rate


# =====================================================================================================================
# Exercise 1: explore_audio.py
# =====================================================================================================================

AUDIO = "explore_audio.py"
# (what, its file or None for the sample, the samples expected at 16 kHz, the seconds, rate and channels in the file)
EXERCISE1_FILES = {
    "the sample": (None, 48_000, 3.00, 16_000, 1),
    "an unseen 44.1 kHz stereo file": ("stereo_44k", 36_800, 2.30, 44_100, 2),
}
exercise1_files = pytest.mark.parametrize("clip", list(EXERCISE1_FILES),
                                          ids=["sample", "unseen-44k-stereo"])


def run_explore_audio(runs: Runs, unseen, clip: str, *extra: str) -> tuple[dict, Path]:
    """The exercise as a student runs it, with its figure (the default name, audio_processing.png)."""
    name = EXERCISE1_FILES[clip][0] if clip in EXERCISE1_FILES else clip
    args = ([] if name is None else [str(unseen(name))]) + list(extra)
    _, result, folder = runs("explore_audio", *args)
    return result, folder


def length_message(clip: str, got: int, expected: int, seconds: float, rate: int, channels: int) -> str:
    """Why a loaded clip has the wrong number of samples, in terms of resampling and down-mixing."""
    original = round(seconds * rate)
    said = (f"{clip} ({seconds:.2f} s at {rate} Hz, {channels} channel{'s' * (channels > 1)}) should load as "
            f"{seconds:.2f} s x {RATE} Hz = {expected} samples, got {got}")
    if rate != RATE and abs(got - original) <= 1:
        return (f"{said}: the {rate} Hz samples were kept as they are, not resampled, so at 16 kHz they would "
                f"last {got / RATE:.2f} s and play {rate / RATE:.2f}x too slow and too low. Loading must resample "
                f"every file to the 16 kHz HuBERT was trained on (e.g. librosa.resample)")
    if abs(got - channels * expected) <= channels:
        return f"{said}: the {channels} channels were laid end to end; a down-mix averages them, sample by sample"
    return f"{said}. Loading must give one channel (the average) at 16 kHz: N = seconds x 16,000"


@exercise1_files
@pytest.mark.exercise1
@pytest.mark.checkpoint("the script ran: 16 kHz mono, shape (N,), duration N / 16000")
def test_explore_audio_loads_16k_mono(runs, unseen, clip):
    _, expected, seconds, rate, channels = EXERCISE1_FILES[clip]
    result, _ = run_explore_audio(runs, unseen, clip)
    sample_rate, shape, duration = need(result, "sample_rate", "shape", "duration", exercise=AUDIO)
    if sample_rate != RATE:
        fail(f"{clip}: sample_rate {sample_rate}, expected {RATE}: every clip is brought to 16 kHz when loading, "
             f"the rate HuBERT was trained on (it keeps frequencies below 8 kHz, the Nyquist limit)")
    shape = tuple(shape)
    if len(shape) != 1:
        fail(f"{clip}: shape {shape}, expected ({expected},): one channel, a flat array of N samples. "
             f"{channels} channel(s) are down-mixed to mono by averaging them")
    if abs(shape[0] - expected) > 1:  # another resampler may round the length the other way
        fail(length_message(clip, shape[0], expected, seconds, rate, channels))
    if not math.isclose(duration, shape[0] / RATE, rel_tol=1e-6) or f"{duration:.2f}" != f"{seconds:.2f}":
        fail(f"{clip}: duration {duration!r} s, expected {seconds:.2f} s = {shape[0]} samples / {RATE} Hz: "
             f"the duration is the number of samples divided by the sampling rate")
    original_rate, original_channels = need(result, "original_sample_rate", "original_channels", exercise=AUDIO)
    if (original_rate, original_channels) != (rate, channels):
        fail(f"{clip}: the file is {rate} Hz with {channels} channel(s); the exercise reports "
             f"{original_rate} Hz and {original_channels} channel(s) before loading changed it")


@exercise1_files
@pytest.mark.exercise1
@pytest.mark.checkpoint("the normalised tensor is [1, N], mean 0 and std 1")
def test_explore_audio_normalised_tensor(runs, unseen, clip):
    _, expected, *_ = EXERCISE1_FILES[clip]
    result, _ = run_explore_audio(runs, unseen, clip)
    shape, normalized_shape, mean, std = need(result, "shape", "normalized_shape", "mean", "std", exercise=AUDIO)
    n = tuple(shape)[0]
    if tuple(normalized_shape) != (1, n):
        fail(f"{clip}: normalised shape {list(normalized_shape)}, expected [1, {n}]: the feature extractor "
             f"returns a batch, so one clip of {n} samples becomes [1, {n}] (a batch of one), same length")
    if not (math.isfinite(mean) and math.isfinite(std)):
        fail(f"{clip}: the normalised clip has mean {mean} and std {std}: NaN means a division by zero; "
             f"z-normalisation is (x - mean) / sqrt(var + 1e-7)")
    if abs(mean) > 1e-4 or abs(std - 1) > 1e-3:
        fail(f"{clip}: the normalised clip has mean {mean:.4f} and std {std:.4f}, expected 0.0000 and 1.0000: "
             f"the feature extractor z-normalises each utterance, (x - mean) / sqrt(var + 1e-7)")


def png_problem(path: Path) -> str | None:
    """Why ``path`` is not a picture with something drawn in it, or None."""
    import matplotlib.image

    if not path.is_file():
        return "there is no such file"
    if path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        return "it is not a PNG file"
    pixels = matplotlib.image.imread(path)[..., :3]
    if pixels.std() < 0.05 or len(np.unique((pixels * 255).round().reshape(-1, 3), axis=0)) < 20:
        return "it is blank: nothing is drawn in it"
    return None


@exercise1_files
@pytest.mark.exercise1
@pytest.mark.checkpoint("audio_processing.png exists")
def test_explore_audio_figure_exists(runs, unseen, clip):
    result, folder = run_explore_audio(runs, unseen, clip)
    figure = folder / "audio_processing.png"
    problem = png_problem(figure)
    if problem:
        listing = sorted(p.name for p in folder.iterdir() if p.name != "assets")
        fail(f"{clip}: run with no options, the exercise should save audio_processing.png in the folder it runs "
             f"from; {problem} (the folder holds {listing or 'nothing'}, main returned output "
             f"{result.get('output')!r})")


def plotted(result: dict, clip: str) -> dict:
    [panels] = need(result, "plotted", exercise=AUDIO)
    if not isinstance(panels, dict) or not {"raw", "normalised"} <= set(panels):
        fail(f"{clip}: main() returned plotted={panels!r}; it should hold the data the figure's panels show "
             f"({{'raw': ..., 'normalised': ...}}), so the picture can be checked")
    return {key: None if value is None else np.asarray(value, dtype=np.float64) for key, value in panels.items()}


@exercise1_files
@pytest.mark.exercise1
@pytest.mark.checkpoint("the normalised waveform in the picture is centred on 0")
def test_explore_audio_picture_is_centred(runs, unseen, clip):
    result, _ = run_explore_audio(runs, unseen, clip)
    panels = plotted(result, clip)
    raw, normalised = panels["raw"], panels["normalised"].reshape(-1)
    if len(normalised) != len(raw):
        fail(f"{clip}: the normalised panel shows {len(normalised)} samples and the raw one {len(raw)}: both "
             f"show the same clip, sample for sample (normalising changes values, not length)")
    if not np.all(np.isfinite(normalised)):
        fail(f"{clip}: the normalised panel holds NaN or inf: (x - mean) / sqrt(var + 1e-7) is finite for any clip")
    expected = (raw - raw.mean()) / np.sqrt(raw.var() + EPSILON)
    if abs(normalised.mean()) > 1e-3 or abs(normalised.std() - 1) > 1e-2:
        fail(f"{clip}: the normalised panel has mean {normalised.mean():.4f} and std {normalised.std():.4f}, "
             f"expected 0 and 1: the z-normalised waveform is centred on 0 with unit spread; the raw one has "
             f"mean {raw.mean():.4f} and std {raw.std():.4f}")
    if np.abs(normalised - expected).max() > 1e-3:
        fail(f"{clip}: the normalised panel is not the raw panel z-normalised: (raw - mean) / sqrt(var + 1e-7) "
             f"differs from it by up to {np.abs(normalised - expected).max():.4f}")


@pytest.mark.parametrize("rate", [8_000, 44_100], ids=["8kHz", "44.1kHz"])
@pytest.mark.exercise1
@pytest.mark.checkpoint("another sampling rate is resampled to 16 kHz")
def test_explore_audio_resamples(runs, unseen, rate):
    clip = f"an unseen 1.50 s, 440 Hz tone at {rate} Hz"
    result, _ = run_explore_audio(runs, unseen, "tone_8k" if rate == 8_000 else "tone_44k")
    sample_rate, shape = need(result, "sample_rate", "shape", exercise=AUDIO)
    if sample_rate != RATE:
        fail(f"{clip}: sample_rate {sample_rate}, expected {RATE}: loading resamples every file to 16 kHz")
    if abs(tuple(shape)[0] - 24_000) > 1:
        fail(length_message(clip, tuple(shape)[0], 24_000, 1.5, rate, 1))
    raw = plotted(result, clip)["raw"]
    spectrum = np.abs(np.fft.rfft(raw))
    pitch = np.fft.rfftfreq(len(raw), 1 / RATE)[spectrum.argmax()]
    if abs(pitch - 440) > 3:
        fail(f"{clip}: played at 16 kHz the loaded samples peak at {pitch:.0f} Hz, expected 440 Hz: resampling "
             f"computes new samples at the new rate (librosa.resample), so the tone keeps its pitch; relabelling "
             f"the rate or dropping samples does not")


@pytest.mark.exercise1
@pytest.mark.checkpoint("stereo is down-mixed to the average of its channels")
def test_explore_audio_downmixes_by_averaging(runs, unseen):
    path = unseen("stereo_16k")
    clip = "an unseen 16 kHz stereo file (left 0.6 x 440 Hz, right 0.2 x 660 Hz)"
    result, _ = run_explore_audio(runs, unseen, "stereo_16k")
    raw = plotted(result, clip)["raw"]
    channels, _ = read(path)
    left, right = channels[:, 0].astype(np.float64), channels[:, 1].astype(np.float64)
    expected = (left + right) / 2
    if raw.shape == expected.shape and np.allclose(raw, expected, atol=1e-5):
        return
    said = f"{clip}: the loaded samples should be the average of the channels, (left + right) / 2"
    if raw.ndim != 1 or len(raw) != len(expected):
        fail(f"{said}, {len(expected)} samples in one channel; got an array of shape {raw.shape}")
    for what, other in (("the left channel alone", left), ("the right channel alone", right),
                        ("the sum of the channels", left + right)):
        if np.allclose(raw, other, atol=1e-5):
            fail(f"{said}; got {what}. A down-mix averages the channels sample by sample, "
                 f"data.mean(axis=1): it keeps both voices at their loudness, where one channel drops the other "
                 f"and a sum can clip")
    fail(f"{said}; they differ from it by up to {np.abs(raw - expected).max():.3f}")


@pytest.mark.exercise1
@pytest.mark.checkpoint("silence normalises to zeros, not NaN (the 1e-7 epsilon)")
def test_explore_audio_silence_stays_finite(runs, unseen):
    clip = "an unseen file of silence (16,000 zeros)"
    result, _ = run_explore_audio(runs, unseen, "silence")
    mean, std, difference = need(result, "mean", "std", "by_hand_max_difference", exercise=AUDIO)
    normalised = plotted(result, clip)["normalised"]
    numbers = {"its mean": mean, "its std": std, "the difference between z_normalise and the extractor": difference}
    broken = [name for name, value in numbers.items() if not math.isfinite(value)]
    if broken or not np.all(np.isfinite(normalised)):
        fail(f"{clip}: {', '.join(broken) or 'the normalised panel'} came out NaN, expected 0: silence has "
             f"variance 0, and it is the epsilon 1e-7 inside sqrt(var + 1e-7) that keeps the division finite: "
             f"(x - mean) / sqrt(0 + 1e-7) = 0 / 0.000316 = 0. Without the epsilon it is 0 / 0 = NaN "
             f"(check z_normalise in src/audio.py)")
    if np.abs(normalised).max() > 1e-6 or abs(mean) > 1e-6:
        fail(f"{clip}: normalised silence should stay all zeros (x - mean = 0 everywhere); got values up to "
             f"{np.abs(normalised).max():.3g}")


@exercise1_files
@pytest.mark.exercise1
@pytest.mark.checkpoint("your z-normalisation matches the feature extractor")
def test_explore_audio_z_normalise_matches_extractor(runs, unseen, clip):
    result, _ = run_explore_audio(runs, unseen, clip)
    [difference] = need(result, "by_hand_max_difference", exercise=AUDIO)
    if not (math.isfinite(difference) and difference < 1e-4):
        fail(f"{clip}: (x - mean) / sqrt(var + 1e-7) computed by hand differs from Wav2Vec2FeatureExtractor's "
             f"output by up to {difference}, expected under 1e-4: the extractor's normalisation is exactly that "
             f"formula, with this utterance's own mean and variance and the 1e-7 inside the square root")


# =====================================================================================================================
# Exercise 2: explore_hubert.py
# =====================================================================================================================

HUBERT = "explore_hubert.py"
TINY_WIDTH = 32  # the tiny preset's hidden size: the same CNN (same frames), a toy transformer
# (what, the file or None for the sample, samples at 16 kHz): around the frame boundaries, and unseen files
EXERCISE2_FILES = [
    ("the sample", None, 48_000),
    ("an unseen 16,400-sample clip", "noise_16400", 16_400),  # (16400 - 400) / 320 = 50 exactly: 51 frames
    ("an unseen 400-sample clip", "noise_400", 400),  # exactly one window: 1 frame
    ("an unseen 720-sample clip", "noise_720", 720),  # one window and one stride: 2 frames
    ("an unseen 10 s clip", "noise_160000", 160_000),
    ("an unseen 1.70 s, 44.1 kHz stereo file", "stereo_44k_short", 27_200),
]


def hubert_tiny_run(runs: Runs, unseen) -> tuple[dict, Path]:
    """One run of the exercise over every file, with --model tiny and a figure."""
    files = [str(ASSETS / "test.wav") if name is None else str(unseen(name)) for _, name, _ in EXERCISE2_FILES]
    _, result, folder = runs("explore_hubert", *files, "--model", "tiny", "--plot", "embeddings.png")
    return result, folder


def hubert_files(result: dict) -> list[tuple[str, int, dict]]:
    [files] = need(result, "files", exercise=HUBERT)
    if len(files) != len(EXERCISE2_FILES):
        fail(f"exercises/{HUBERT} was given {len(EXERCISE2_FILES)} files and returned results for {len(files)}: "
             f"main() returns one entry in 'files' per file it encodes")
    keys = ("input_shape", "output_shape", "frames", "predicted_frames", "reduction", "ms_per_frame", "dim")
    for file in files:
        need(file, *keys, exercise=HUBERT)
    return [(what, n, file) for (what, _, n), file in zip(EXERCISE2_FILES, files)]


@pytest.mark.exercise2
@pytest.mark.slow  # the full-size HuBERT-XLarge: about 4 GB of memory, run once and shared with test_exercises.py
@pytest.mark.checkpoint("the script ran at full size: [1, 48000] in, [1, 149, 1280] out")
def test_explore_hubert_full_size():
    try:
        _, result = run_exercise("exercises/explore_hubert.py", "assets/test.wav", "--weights", "random")
    except BaseException as err:  # noqa: BLE001
        fail(f"python exercises/{HUBERT} assets/test.wav --weights random stopped with {type(err).__name__}: {err}")
    [files] = need(result, "files", exercise=HUBERT)
    [file] = files
    input_shape, output_shape = tuple(file["input_shape"]), tuple(file["output_shape"])
    if input_shape != (1, 48_000):
        fail(f"HuBERT-XLarge on the sample: input {list(input_shape)}, expected [1, 48000]: 3.00 s at 16 kHz, "
             f"as a batch of one")
    if output_shape != (1, 149, 1280):
        fail(f"HuBERT-XLarge on the sample: output {list(output_shape)}, expected [1, 149, 1280]: "
             f"{frame_formula(48_000)} frames (one per 320-sample stride after a 400-sample window), each a "
             f"1280-dimensional vector (HuBERT-XLarge's hidden size)")


def fail_on(problems: list[tuple[str, str]]) -> None:
    """One message for several files: the first problem in full, with its concept; the others in short."""
    if problems:
        others = [short for _, short in problems[1:]]
        fail(problems[0][0] + (f". Also wrong: {'; '.join(others)}" if others else ""))


@pytest.mark.exercise2
@pytest.mark.checkpoint("[1, N] in, [1, frames, dim] out, frames = floor((N - 400) / 320) + 1")
def test_explore_hubert_shapes(runs, unseen):
    result, _ = hubert_tiny_run(runs, unseen)
    problems = []
    for what, n, file in hubert_files(result):
        given = list(file["input_shape"])
        if len(given) != 2 or given[0] != 1 or abs(given[-1] - n) > 1:
            problems.append((f"{what}: input {given}, expected [1, {n}]: 16 kHz samples as a batch of one (files "
                             f"at other rates are resampled when loading, stereo is averaged)",
                             f"{what}: input {given}, expected [1, {n}]"))
            continue
        n = given[-1]
        frames = expected_frames(n)
        output = list(file["output_shape"])
        if output != [1, frames, TINY_WIDTH]:
            got = f"got {output[1]}" if len(output) == 3 else f"got shape {output}"
            problems.append((f"{what}: output {output}, expected [1, {frames}, {TINY_WIDTH}]. HuBERT gives one "
                             f"frame per 320 samples after a 400-sample window: {frame_formula(n)}, {got}; each "
                             f"frame is a vector of the model's hidden size ({TINY_WIDTH} for --model tiny, 1280 "
                             f"for HuBERT-XLarge)",
                             f"{what}: output {output}, expected [1, {frames}, {TINY_WIDTH}]"))
        elif file["frames"] != frames or file["dim"] != TINY_WIDTH:
            problems.append((f"{what}: reports {file['frames']} frames of {file['dim']} dimensions, but its output "
                             f"is [1, {frames}, {TINY_WIDTH}]: the counts are the output's shape",
                             f"{what}: reports {file['frames']} frames of {file['dim']} dimensions"))
    fail_on(problems)


@pytest.mark.exercise2
@pytest.mark.checkpoint("the actual frame count equals the predicted one")
def test_explore_hubert_predicted_frames(runs, unseen):
    result, _ = hubert_tiny_run(runs, unseen)
    problems = []
    for what, _, file in hubert_files(result):
        n = list(file["input_shape"])[-1]
        frames = expected_frames(n)
        actual, predicted = file["frames"], file["predicted_frames"]
        if predicted != frames or actual != predicted:
            problems.append((f"{what} ({n} samples): {actual} actual frames, {predicted} predicted, expected both "
                             f"{frames}. HuBERT gives one frame per 320 samples after a 400-sample window: "
                             f"{frame_formula(n)}, got {predicted} predicted (the stride is 5 x 2 x 2 x 2 x 2 x 2 x "
                             f"2 = 320 samples, 20 ms; the window 400 samples, 25 ms)",
                             f"{what} ({n} samples): {actual} actual, {predicted} predicted, expected {frames}"))
    fail_on(problems)


@pytest.mark.exercise2
@pytest.mark.checkpoint("the ~320x reduction: one frame per 320 samples (20 ms)")
def test_explore_hubert_reduction(runs, unseen):
    result, _ = hubert_tiny_run(runs, unseen)
    problems = []
    for what, _, file in hubert_files(result):
        n = list(file["input_shape"])[-1]
        frames = expected_frames(n)
        reduction, ms = n / frames, 1000 * n / RATE / frames
        if not (math.isclose(file["reduction"], reduction, rel_tol=1e-3)
                and math.isclose(file["ms_per_frame"], ms, rel_tol=1e-3)):
            got = f"{file['reduction']:.1f}x fewer time steps and {file['ms_per_frame']:.1f} ms per frame"
            problems.append((f"{what}: {got}, expected {n} samples / {frames} frames = {reduction:.1f}x and "
                             f"{1000 * n / RATE:.1f} ms / {frames} = {ms:.1f} ms: one frame per 320-sample stride "
                             f"(20 ms at 16 kHz), each computed from a 400-sample (25 ms) window, so the time axis "
                             f"shrinks about 320x",
                             f"{what}: {got}, expected {reduction:.1f}x and {ms:.1f} ms"))
    fail_on(problems)


@pytest.mark.exercise2
@pytest.mark.checkpoint("the run says which weights it used")
def test_explore_hubert_weights(runs, unseen):
    result, _ = hubert_tiny_run(runs, unseen)
    kind, description = need(result, "weights", "weights_description", exercise=HUBERT)
    if kind != "random":
        fail(f"--model tiny has no published weights, so the run must use random ones; it reports weights "
             f"{kind!r}. Without pretrained weights the shapes are real but the statistics are an untrained "
             f"network's")
    if not isinstance(description, str) or not description.strip():
        fail(f"the run returns weights_description {description!r}: it should say in words which weights were used")
    for what, _, file in hubert_files(result):
        stats = [file.get(key) for key in ("mean", "std", "min", "max")]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in stats) or not (
                stats[2] <= stats[0] <= stats[3] and stats[1] > 0):
            fail(f"{what}: mean, std, min, max of the embeddings are {stats}: finite numbers with "
                 f"min <= mean <= max and std > 0, even for random weights")


@pytest.mark.exercise2
@pytest.mark.checkpoint("the embeddings figure exists (--plot)")
def test_explore_hubert_figure(runs, unseen):
    result, folder = hubert_tiny_run(runs, unseen)
    problem = png_problem(folder / "embeddings.png")
    if problem:
        fail(f"--plot embeddings.png should save a heat map of the first file's frames there; {problem} "
             f"(main returned plot {result.get('plot')!r})")


# =====================================================================================================================
# Exercise 3: count_params.py
# =====================================================================================================================

COUNT = "count_params.py"
XLARGE_LAYERS, XLARGE_WIDTH, XLARGE_BASE = 48, 1280, 962_497_408
QWEN3_8B_LAYERS, QWEN3_8B_BASE = 36, 8_190_735_360
LORA_RANK = 8


def lora(rank: int, matrices, layers: int) -> int:
    """LoRA adds A (r x in) and B (out x r) per adapted matrix: r x (in + out), in every layer."""
    return layers * sum(rank * (i + o) for i, o in matrices)


ENCODER_ADAPTERS = lora(LORA_RANK, [(XLARGE_WIDTH, XLARGE_WIDTH)] * 2, XLARGE_LAYERS)  # q_proj, k_proj: 1,966,080
DECODER_ADAPTERS = lora(LORA_RANK, [(4096, 4096), (4096, 1024)], QWEN3_8B_LAYERS)  # q_proj, v_proj: 3,833,856
STACK = 5
PROJECTOR = 2 * (STACK * XLARGE_WIDTH) * 8192 + 8192 * 4096 + STACK * XLARGE_WIDTH + 4096  # 138,422,528
PROJECTOR_WORDS = (f"the projector stacks 5 frames (5 x 20 ms = 100 ms per step): 5 x 1280 = 6400 inputs, "
                   f"6400 -> 8192 -> 4096 SwiGLU (gate and up 6400 x 8192, down 8192 x 4096) with RMSNorm "
                   f"before (6400) and after (4096): 2 x 6400 x 8192 + 8192 x 4096 + 6400 + 4096 = {PROJECTOR:,}")
COMPONENTS = ("encoder", "projector", "decoder")


def count_run(runs: Runs, *args: str) -> dict:
    _, result, _ = runs("count_params", *args)
    for part in (*COMPONENTS, "overall"):
        [counts] = need(result, part, exercise=COUNT)
        need(counts, "total", "trainable", "frozen", exercise=COUNT)
    return result


def default_config():
    from src.asr_config import ASRConfig

    return ASRConfig()


@pytest.mark.exercise3
@pytest.mark.checkpoint("the script ran and listed the encoder, the projector and the decoder; the counts add up")
def test_count_params_counts_add_up(runs):
    result = count_run(runs)
    for part in (*COMPONENTS, "overall"):
        c = result[part]
        if c["trainable"] + c["frozen"] != c["total"]:
            fail(f"{part}: trainable {c['trainable']:,} + frozen {c['frozen']:,} = {c['trainable'] + c['frozen']:,}, "
                 f"but total {c['total']:,}: every parameter is either trained or frozen")
        percent = c.get("trainable_percent")
        if percent is not None and not math.isclose(percent, 100 * c["trainable"] / c["total"], abs_tol=0.005):
            fail(f"{part}: trainable % {percent:.2f}, expected 100 x {c['trainable']:,} / {c['total']:,} = "
                 f"{100 * c['trainable'] / c['total']:.2f}")
    for key in ("total", "trainable", "frozen"):
        parts = sum(result[part][key] for part in COMPONENTS)
        if parts != result["overall"][key]:
            fail(f"overall {key} {result['overall'][key]:,}, but encoder + projector + decoder = {parts:,}: the "
                 f"model is exactly these three components")


@pytest.mark.exercise3
@pytest.mark.checkpoint("1,966,080 trainable in the encoder: LoRA r=8 on q_proj and k_proj")
def test_count_params_encoder_adapters(runs):
    result = count_run(runs)
    [adapted] = need(result, "adapted_modules", exercise=COUNT)
    got = sorted(adapted.get("encoder", []))
    defaults = sorted(default_config().encoder_lora_targets)
    concept = (f"LoRA adds r x (in + out) = 8 x (1280 + 1280) = 20,480 parameters per adapted matrix; "
               f"2 matrices (q_proj, k_proj) x 48 layers = {ENCODER_ADAPTERS:,}")
    if got != ["k_proj", "q_proj"]:
        fail(f"the encoder's adapters sit on {got}, expected on q_proj and k_proj of every attention layer: "
             f"{concept}")
    if defaults != ["k_proj", "q_proj"]:
        fail(f"the default model (ASRConfig() in src/asr_config.py) puts the encoder's LoRA on {defaults}, "
             f"expected q_proj and k_proj (what this exercise counts): {concept}")
    encoder = result["encoder"]
    if encoder["trainable"] != ENCODER_ADAPTERS:
        fail(f"encoder trainable {encoder['trainable']:,}, expected {ENCODER_ADAPTERS:,}: {concept}")
    if encoder["frozen"] != XLARGE_BASE:
        fail(f"encoder frozen {encoder['frozen']:,}, expected {XLARGE_BASE:,}: all of HuBERT-XLarge's own "
             f"weights stay frozen; only the adapters train")


@pytest.mark.exercise3
@pytest.mark.checkpoint("138,422,528 trainable in the projector: 5 frames stacked, 6400 -> 8192 -> 4096")
def test_count_params_projector(runs):
    import torch

    from src.asr_modeling import AudioProjector

    result = count_run(runs)
    stack, shape = need(result, "projector_stack", "projector_shape", exercise=COUNT)
    if stack != STACK:
        fail(f"projector_stack {stack}, expected 5: {PROJECTOR_WORDS}; 149 frames (3 s) become ceil(149 / 5) = "
             f"30 steps, got ceil(149 / {stack}) = {math.ceil(149 / stack)}")
    if tuple(shape) != (6400, 8192, 4096):
        fail(f"projector shape {tuple(shape)}, expected (6400, 8192, 4096): {PROJECTOR_WORDS}")
    projector = result["projector"]
    if (projector["total"], projector["trainable"]) != (PROJECTOR, PROJECTOR):
        fail(f"projector total {projector['total']:,} and trainable {projector['trainable']:,}, expected "
             f"{PROJECTOR:,} both: {PROJECTOR_WORDS}; it is new, so all of it trains")
    # The stacking itself, on a toy projector of the same class: 149 frames -> 30 steps of 5 frames.
    toy = AudioProjector(encoder_dim=4, decoder_dim=6, stack=stack, hidden_size=8)
    with torch.no_grad():
        steps, mask = toy(torch.randn(1, 149, 4), torch.ones(1, 149, dtype=torch.bool))
    if tuple(steps.shape) != (1, 30, 6):
        fail(f"AudioProjector (stack {stack}) turned 149 frames into {steps.shape[1]} steps, expected "
             f"ceil(149 / 5) = 30: {PROJECTOR_WORDS}")


@pytest.mark.exercise3
@pytest.mark.checkpoint("3,833,856 trainable in the decoder: LoRA r=8 on q_proj and v_proj")
def test_count_params_decoder_adapters(runs):
    result = count_run(runs)
    [adapted] = need(result, "adapted_modules", exercise=COUNT)
    got = sorted(adapted.get("decoder", []))
    defaults = sorted(default_config().decoder_lora_targets)
    concept = (f"in Qwen3-8B q_proj is 4096 -> 4096 and v_proj 4096 -> 1024 (8 key/value heads of 128), so "
               f"r = 8 adds 8 x (4096 + 4096) + 8 x (4096 + 1024) = 106,496 per layer; x 36 layers = "
               f"{DECODER_ADAPTERS:,}")
    if got != ["q_proj", "v_proj"] or defaults != ["q_proj", "v_proj"]:
        fail(f"the decoder's adapters sit on {got} (the default ASRConfig: {defaults}), expected q_proj and "
             f"v_proj: {concept}")
    decoder = result["decoder"]
    if decoder["trainable"] != DECODER_ADAPTERS:
        fail(f"decoder trainable {decoder['trainable']:,}, expected {DECODER_ADAPTERS:,}: {concept}")


@pytest.mark.exercise3
@pytest.mark.checkpoint("the projector is fully trainable; encoder and decoder learn only through adapters")
def test_count_params_what_trains(runs):
    result = count_run(runs)
    projector = result["projector"]
    if projector["frozen"] != 0:
        fail(f"projector: {projector['frozen']:,} frozen, expected 0: the projector is new (no pretrained "
             f"weights exist for it), so every one of its parameters trains")
    for part, base in (("encoder", XLARGE_BASE), ("decoder", QWEN3_8B_BASE)):
        c = result[part]
        if c["frozen"] != base or c["trainable"] >= c["total"] / 100:
            fail(f"{part}: {c['frozen']:,} frozen and {c['trainable']:,} trainable, expected its pretrained "
                 f"{base:,} frozen and under 1 % trainable: the pretrained model stays frozen and learns only "
                 f"through small LoRA adapters")
    overall = result["overall"]
    if f"{100 * overall['trainable'] / overall['total']:.2f}" != "1.55":
        fail(f"overall {100 * overall['trainable'] / overall['total']:.2f} % trainable, expected 1.55 % "
             f"({ENCODER_ADAPTERS + PROJECTOR + DECODER_ADAPTERS:,} of 9,297,455,232): almost all of it the "
             f"projector")


@pytest.mark.exercise3
@pytest.mark.checkpoint("138,944,768 trainable with SmolLM3-3B and decoder LoRA r=64")
def test_count_params_smollm3(runs):
    result = count_run(runs, "--decoder", "smollm3-3b", "--decoder-lora-rank", "64")
    decoder_adapters = lora(64, [(2048, 2048), (2048, 512)], 36)  # 15,335,424
    projector = 2 * (STACK * XLARGE_WIDTH) * 8192 + 8192 * 2048 + STACK * XLARGE_WIDTH + 2048  # 121,643,264
    expected = ENCODER_ADAPTERS + projector + decoder_adapters  # 138,944,768
    got = result["overall"]["trainable"]
    if got != expected:
        fail(f"--decoder smollm3-3b --decoder-lora-rank 64: {got:,} trainable, expected {expected:,} = encoder "
             f"adapters {ENCODER_ADAPTERS:,} + projector {projector:,} (5 x 1280 = 6400 -> 8192 -> 2048, SmolLM3 "
             f"is 2048 wide) + decoder adapters 36 x 64 x ((2048 + 2048) + (2048 + 512)) = {decoder_adapters:,}; "
             f"got encoder {result['encoder']['trainable']:,}, projector {result['projector']['trainable']:,}, "
             f"decoder {result['decoder']['trainable']:,}")


# =====================================================================================================================
# Bonus: hidden_units.py
# =====================================================================================================================

UNITS = "hidden_units.py"
HOP = 160  # samples (10 ms) between MFCC frames: 100 per second, twice HuBERT's rate


def units_run(runs: Runs, *args: str) -> list[dict]:
    _, result, _ = runs("hidden_units", *args)
    [files] = need(result, "files", exercise=UNITS)
    return files


@pytest.mark.bonus
@pytest.mark.checkpoint("the sample: 298 MFCC frames at 100 Hz, 149 HuBERT frames, one 50 Hz label per HuBERT frame")
def test_hidden_units_frames(runs):
    [sample] = units_run(runs)
    samples, mfcc, hubert, labels = need(sample, "samples", "mfcc_frames", "hubert_frames", "labels_50hz",
                                         exercise=UNITS)
    if mfcc != (samples - WINDOW) // HOP + 1:
        fail(f"the sample: {mfcc} MFCC frames, expected floor(({samples} - {WINDOW}) / {HOP}) + 1 = "
             f"{(samples - WINDOW) // HOP + 1}: one 25 ms window every 10 ms (100 Hz), with no padding")
    if hubert != expected_frames(samples):
        fail(f"the sample: {hubert} HuBERT frames, expected {frame_formula(samples)}: HuBERT makes one frame "
             f"every 320 samples (50 Hz)")
    if labels != hubert:
        fail(f"the sample: {labels} labels at 50 Hz for {hubert} HuBERT frames: the 50 Hz model learns every "
             f"second 100 Hz unit (units[::2]), one per HuBERT frame")


@pytest.mark.bonus
@pytest.mark.checkpoint("an unseen 11 s, 44.1 kHz stereo file gives 549 HuBERT frames")
def test_hidden_units_unseen_file(runs, unseen):
    [clip] = units_run(runs, str(unseen("stereo_44k_11s")))
    samples, hubert = need(clip, "samples", "hubert_frames", exercise=UNITS)
    if samples != 176_000:
        fail(f"an unseen 11 s, 44.1 kHz stereo file: {samples} samples, expected 11 s x 16,000 = 176,000: "
             f"loading down-mixes to mono and resamples to 16 kHz")
    if hubert != 549:
        fail(f"an unseen 11 s file: {hubert} HuBERT frames, expected {frame_formula(176_000)}")


@pytest.mark.bonus
@pytest.mark.checkpoint("every frame gets a unit, at most --clusters distinct ones")
def test_hidden_units_are_cluster_ids(runs):
    [sample] = units_run(runs, "--clusters", "20")
    units, mfcc, distinct = need(sample, "units", "mfcc_frames", "distinct_units", exercise=UNITS)
    if len(units) != mfcc:
        fail(f"the sample: {len(units)} units for {mfcc} MFCC frames: k-means gives every frame the id of its "
             f"nearest cluster centre")
    if not set(units) <= set(range(20)) or distinct != len(set(units)):
        fail(f"the sample with --clusters 20: unit ids {sorted(set(units))[:5]}..., {distinct} said distinct: "
             f"a unit is a cluster id from 0 to 19, and there are at most 20")


@pytest.mark.bonus
@pytest.mark.checkpoint("the silent stretches fall into one or two units")
def test_hidden_units_silence(runs):
    [sample] = units_run(runs)
    units, silent = need(sample, "units", "silent", exercise=UNITS)
    silent_units = [unit for unit, quiet in zip(units, silent) if quiet]
    if not silent_units:
        fail("the sample: no frame was found silent, but test.wav ends with half a second of silence")
    share = max(silent_units.count(unit) for unit in set(silent_units)) / len(silent_units)
    if share < 0.8:
        fail(f"the sample: the most common unit covers only {share:.0%} of the silent frames: similar frames "
             f"(silence looks alike) should share a cluster, found without any label")


@pytest.mark.bonus
@pytest.mark.checkpoint("the same seed gives the same units")
def test_hidden_units_seeded(runs):
    [first], [second] = units_run(runs), units_run(runs, "--seed", "0")
    if need(first, "units", exercise=UNITS) != need(second, "units", exercise=UNITS):
        fail("the sample, run twice with seed 0, gave different units: k-means starts from random centres, so "
             "fix its random_state (the seed) to make the units reproducible")
