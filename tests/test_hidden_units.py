"""The bonus exercise, exercises/hidden_units.py: HuBERT's first-round targets (k-means units of 39-dim MFCCs)
computed from the audio itself. Offline and model-free. These are the instructors' tests (exact output too);
the graded checkpoints of the bonus are in tests/test_checkpoints.py.

What is checked is what the lecture says: 298 MFCC frames and 149 HuBERT frames for the 3-second sample,
every second unit lines up with a HuBERT frame, k-means finds the silence without being told, the same
seed gives the same units, any format, rate or channel count loads, long audio prints a bounded amount,
and bad input ends in one line on stderr with exit status 2."""

import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import soundfile as sf

import conftest
from conftest import ROOT, assert_fails_cleanly, load_exercise, run_exercise, student_folder
from src.audio import predicted_frames


hidden_units = load_exercise("hidden_units")
SCRIPT = "hidden_units.py"
FIGURE_SIZE = (1210, 660)  # (width, height): figsize (11, 6) at 110 dpi

# The default run's complete stdout (the lecture's expected-output block for exercises/hidden_units.py).
GOLDEN = """\
Bonus exercise: the hidden units HuBERT first learned from
Features: 39 per frame (13 MFCCs + 13 deltas + 13 delta-deltas), 25 ms windows every 10 ms (100 Hz)
k-means:  25 clusters, seed 0, fitted on 298 frames from 1 file
HuBERT:   its first round used 100 clusters of these features, fitted on 960 hours of LibriSpeech

assets/test.wav
  samples:         48000 (3.00 s at 16000 Hz)
  MFCC frames:     298 at 100 Hz = floor((48000 - 400) / 160) + 1
  HuBERT frames:   149 at 50 Hz = floor((48000 - 400) / 320) + 1
  50 Hz labels:    149, every second unit (units[::2]): one per HuBERT frame, over the same 25 ms
  distinct units:  25 of 25
  mean run length: 4.0 frames (40 ms): 74 runs of one unit
  units at 100 Hz (unit x frames in a row):
    1x4 12x2 6x2 23x2 8x9 7x2 13x2 22x3 5x2 11x2 5x1 22x1 2x5 5x1 0x2 18x3 3x12 17x2 15x2 21x3 5x6
    0x2 18x2 10x9 1x4 12x2 6x2 23x2 4x16 21x2 11x5 5x1 19x2 14x10 6x2 16x5 9x2 1x1 23x1 12x3 20x1
    2x3 24x11 1x3 12x1 6x5 20x3 2x1 22x4 5x2 11x5 5x2 1x3 12x2 6x2 23x2 18x2 3x4 17x2 1x4 12x2 6x2
    23x1 20x1 13x11 7x8 13x3 12x1 1x3 12x6 16x5 9x2 6x7 1x43
  labels at 50 Hz, one per HuBERT frame (unit x frames in a row):
    1x2 12x1 6x1 23x1 8x5 7x1 13x1 22x1 5x1 11x1 5x1 2x3 0x1 18x2 3x6 17x1 15x1 21x1 5x3 0x1 18x1
    10x5 1x2 12x1 6x1 23x1 4x8 21x1 11x2 5x1 19x1 14x5 6x1 16x2 9x1 1x1 12x2 2x2 24x5 1x2 6x3 20x1
    2x1 22x2 5x1 11x2 5x1 1x2 12x1 6x1 23x1 18x1 3x2 17x1 1x2 12x1 6x1 20x1 13x5 7x4 13x2 1x2 12x3
    16x2 9x1 6x4 1x21
  silence:         61 frames at least 40 dB under the loudest, in 7 stretches; longest 2.56-3.00 s
  silence units:   unit 1 (61 frames)
"""


def mfcc_frames(samples: int) -> int:
    """25 ms windows every 10 ms with no padding: floor((N - 400) / 160) + 1."""
    return (samples - 400) // 160 + 1


def expand(runs):
    return [unit for unit, count in runs for _ in range(count)]


def assert_consistent(file: dict, clusters: int) -> None:
    """What holds for every file: frame counts, 50 Hz labels, runs, the numbers the lines print."""
    n = file["samples"]
    assert file["mfcc_frames"] == len(file["units"]) == mfcc_frames(n)
    assert file["hubert_frames"] == predicted_frames(n)
    assert file["labels_50hz"] == len(file["units_50hz"]) == file["hubert_frames"]  # always equal, see below
    assert file["units_50hz"] == file["units"][::2]
    assert expand(file["runs"]) == file["units"]
    assert all(a != b for (a, _), (b, _) in zip(file["runs"], file["runs"][1:]))  # runs are maximal
    assert file["mean_run_length"] == pytest.approx(file["mfcc_frames"] / len(file["runs"]))
    assert file["distinct_units"] == len(set(file["units"])) <= clusters
    assert all(0 <= unit < clusters for unit in file["units"])
    assert len(file["silent"]) == file["mfcc_frames"] and sum(file["silent"]) == file["silent_frames"]
    assert sum(file["silent_units"].values()) == file["silent_frames"]


# ----- the 3-second sample -------------------------------------------------------------------------------------

def test_the_sample_gives_298_mfcc_frames_and_149_labels_one_per_hubert_frame():
    out, result = run_exercise(f"exercises/{SCRIPT}")
    [file] = result["files"]
    assert (result["clusters"], result["clusters_fitted"], result["seed"]) == (25, 25, 0)
    assert file["samples"] == 48_000 and file["sample_rate"] == 16_000
    assert file["mfcc_frames"] == 298  # 1 + (48,000 - 400) // 160
    assert file["hubert_frames"] == 149  # 1 + (48,000 - 400) // 320: Exercise 2's count
    assert file["labels_50hz"] == 149  # every second of 298 units
    assert_consistent(file, 25)
    assert result["total_frames"] == result["training_frames"] == 298
    assert "MFCC frames:     298 at 100 Hz" in out and "HuBERT frames:   149 at 50 Hz" in out


def test_the_default_run_prints_the_golden_output():
    """The lecture shows this block; if it changes, update the lecture's expected-output block too."""
    out, _ = run_exercise(f"exercises/{SCRIPT}")
    assert out == GOLDEN


def test_k_means_finds_the_silence_without_being_told():
    """The frames 40 dB under the loudest (the pause at the end and between words) fall into one or two
    units, and those units are hardly used while someone speaks."""
    _, result = run_exercise(f"exercises/{SCRIPT}")
    [file] = result["files"]
    units, silent = np.array(file["units"]), np.array(file["silent"])
    start, end = max(file["silent_stretches"], key=lambda s: s[1] - s[0])
    assert 2.5 < start < 2.6 and end == pytest.approx(3.0, abs=0.01)  # speech ends at about 2.55 s
    main_units = list(file["silent_units"])[:2]
    assert sum(file["silent_units"][u] for u in main_units) >= 0.9 * file["silent_frames"]
    assert np.isin(units[silent], main_units).mean() >= 0.9
    assert silent[np.isin(units, main_units)].mean() >= 0.8  # the silence units mean silence


@pytest.mark.parametrize("samples", [400, 401, 559, 560, 48_000, 480_239, 480_240, 480_400])
def test_mfcc_39_frame_count_and_50hz_labels_match_hubert(samples):
    """floor(floor((N - 400) / 160) / 2) == floor((N - 400) / 320): every second 10 ms frame starts where a
    HuBERT frame starts (sample 320 j) and covers the same 400 samples. Also across the 30 s blocks."""
    wave = np.random.default_rng(samples).uniform(-0.5, 0.5, samples).astype(np.float32)
    features = hidden_units.mfcc_39(wave)
    assert features.shape == (mfcc_frames(samples), 39)
    assert np.isfinite(features).all()
    assert len(range(0, features.shape[0], 2)) == predicted_frames(samples)
    assert hidden_units.silent_frames(wave).shape == (mfcc_frames(samples),)


def test_mfcc_39_in_blocks_equals_one_pass():
    """Long audio is turned into MFCCs 30 s at a time; the frames are those one pass would give."""
    import librosa

    wave = np.random.default_rng(0).uniform(-0.5, 0.5, 30 * 16_000 + 2_345).astype(np.float32)
    mel = librosa.feature.melspectrogram(y=librosa.effects.preemphasis(wave, coef=0.97), sr=16_000, n_fft=400,
                                         hop_length=160, center=False, n_mels=23, fmin=20, htk=True)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None), n_mfcc=13)
    np.testing.assert_allclose(hidden_units.mfcc_39(wave)[:, :13], (mfcc * hidden_units.KALDI_LIFTER[:, None]).T,
                               rtol=1e-5, atol=1e-3)


def test_deltas_are_the_regression_deltas_fairseq_uses():
    """torchaudio.functional.compute_deltas (fairseq's choice): sum_n n (c[t+n] - c[t-n]) / (2 sum_n n^2),
    n = 1, 2, edges repeated. Checked on the delta columns of a real clip."""
    features = hidden_units.mfcc_39(np.random.default_rng(1).uniform(-0.5, 0.5, 8_000).astype(np.float32))

    def deltas(c):  # c [frames, 13]
        padded = np.pad(c, ((2, 2), (0, 0)), mode="edge")
        t = np.arange(len(c)) + 2
        return (padded[t + 1] - padded[t - 1] + 2 * (padded[t + 2] - padded[t - 2])) / 10

    static = features[:, :13]
    np.testing.assert_allclose(features[:, 13:26], deltas(static), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(features[:, 26:], deltas(deltas(static)), rtol=1e-4, atol=1e-3)


def test_run_lengths():
    assert hidden_units.run_lengths([4, 4, 4, 1, 1, 14]) == [(4, 3), (1, 2), (14, 1)]
    assert hidden_units.run_lengths([7]) == [(7, 1)]
    assert hidden_units.run_lengths([]) == []
    assert hidden_units.runs_text([(4, 3), (1, 2)]) == "    4x3 1x2"


# ----- the same seed, the same units -----------------------------------------------------------------------------

def run_main(*args: str) -> tuple[str, dict]:
    """main(args) afresh (not cached), with warnings turned into errors: a clean run warns about nothing."""
    import contextlib
    import io

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with contextlib.redirect_stdout(io.StringIO()) as out:
            result = hidden_units.main(list(args))
    return out.getvalue(), result


def test_same_output_twice(test_wav):
    first, second = run_main(str(test_wav)), run_main(str(test_wav))
    assert first[0] == second[0]
    assert first[1]["files"][0]["units"] == second[1]["files"][0]["units"]


def test_same_units_whatever_the_thread_count(test_wav):
    """k-means runs on one thread whatever the machine offers, so its sums, and units, never change."""
    from threadpoolctl import threadpool_limits

    features = [hidden_units.mfcc_39(hidden_units.load_audio(test_wav).samples)]
    reference = hidden_units.fit_units(features, 25, 0).cluster_centers_
    with threadpool_limits(2):
        assert np.array_equal(hidden_units.fit_units(features, 25, 0).cluster_centers_, reference)


def test_another_seed_gives_other_ids_but_still_finds_the_silence(test_wav):
    _, result = run_main(str(test_wav), "--seed", "1")
    [file] = result["files"]
    assert_consistent(file, 25)
    assert max(file["silent_units"].values()) >= 0.9 * file["silent_frames"]


# ----- formats, rates, channels, several files -------------------------------------------------------------------

def speech_like(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Syllables of harmonic sound and bursts of noise, with pauses: something k-means can find units in."""
    rng = np.random.default_rng(seed)
    wave = np.zeros(int(seconds * rate), dtype=np.float32)
    start = int(0.2 * rate)
    while start < len(wave) - rate // 2:
        length = int(rng.uniform(0.15, 0.4) * rate)
        t = np.arange(length) / rate
        pitch = rng.uniform(90, 220)
        voiced = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 12))
        sound = voiced if rng.random() < 0.7 else rng.normal(0, 1, length)
        wave[start: start + length] = 0.2 * sound * np.hanning(length)
        start += length + int(rng.uniform(0.05, 0.3) * rate)
    return wave


def test_an_11_second_44k_stereo_flac_gives_549_hubert_frames(tmp_path, capsys):
    left = speech_like(11, 44_100)
    stereo = np.stack([left, 0.5 * np.roll(left, 220)], axis=1)  # right: quieter, 5 ms later
    sf.write(tmp_path / "long.flac", stereo, 44_100, format="FLAC", subtype="PCM_16")
    assert sf.info(str(tmp_path / "long.flac")).frames == 485_100

    result = hidden_units.main([str(tmp_path / "long.flac")])
    [file] = result["files"]
    assert (file["original_sample_rate"], file["original_channels"]) == (44_100, 2)
    assert file["samples"] == 176_000  # 11 s at 16 kHz
    assert file["mfcc_frames"] == 1_098  # 1 + 175,600 // 160
    assert file["hubert_frames"] == file["labels_50hz"] == 549  # 1 + 175,600 // 320
    assert_consistent(file, 25)
    out = capsys.readouterr().out
    assert "loaded from:     44100 Hz, 2 channels -> 16000 Hz mono" in out
    assert "HuBERT frames:   549 at 50 Hz = floor((176000 - 400) / 320) + 1" in out
    assert hidden_units.main([str(tmp_path / "long.flac")])["files"][0]["units"] == file["units"]


def test_an_8k_mp3(tmp_path):
    if not sf.check_format("MP3", "MPEG_LAYER_III"):
        pytest.skip(f"this libsndfile ({sf.__libsndfile_version__}) cannot write MP3")
    sf.write(tmp_path / "phone.mp3", speech_like(3, 8_000), 8_000, format="MP3", subtype="MPEG_LAYER_III")
    frames = sf.info(str(tmp_path / "phone.mp3")).frames

    _, result = run_main(str(tmp_path / "phone.mp3"))
    [file] = result["files"]
    assert (file["original_sample_rate"], file["original_channels"]) == (8_000, 1)
    assert file["samples"] == frames * 2  # 8 kHz -> 16 kHz
    assert_consistent(file, 25)


def test_several_files_share_one_k_means(test_wav, stereo_wav):
    out, result = run_exercise(f"exercises/{SCRIPT}", "--clusters", "50", "assets/test.wav",
                               "assets/test_44k_stereo.wav")
    first, second = result["files"]
    assert (result["clusters"], result["clusters_fitted"]) == (50, 50)
    assert result["total_frames"] == result["training_frames"] == 298 + 448
    assert (first["samples"], first["hubert_frames"]) == (48_000, 149)
    assert (second["samples"], second["mfcc_frames"], second["hubert_frames"]) == (72_000, 448, 224)
    for file in (first, second):
        assert_consistent(file, 50)
    # One model for both: the same unit stands for silence in both files.
    assert list(first["silent_units"])[0] == list(second["silent_units"])[0]
    assert "fitted on 746 frames from 2 files" in out
    assert out.count("\nassets/") == 2


def test_a_silent_file_gives_one_unit_and_says_why(tmp_path):
    sf.write(tmp_path / "silent.wav", np.zeros(16_000, dtype=np.float32), 16_000)
    out, result = run_main(str(tmp_path / "silent.wav"))
    [file] = result["files"]
    assert (result["clusters_fitted"], file["distinct_units"], file["units"]) == (1, 1, [0] * 98)
    assert file["silent_frames"] == 98 and file["silent_units"] == {0: 98}
    assert "note: only 1 distinct frame to cluster" in out and "1 cluster instead of 25" in out
    assert "nan" not in out.lower()


def test_no_silence_is_said_so(tmp_path):
    sf.write(tmp_path / "noise.wav", np.random.default_rng(0).uniform(-0.5, 0.5, 16_000).astype(np.float32),
             16_000)
    out, result = run_main(str(tmp_path / "noise.wav"), "--clusters", "5")
    assert result["files"][0]["silent_frames"] == 0 and result["files"][0]["silent_units"] == {}
    assert "silence:         none" in out


# ----- long audio: bounded work, bounded output ------------------------------------------------------------------

@pytest.mark.slow
def test_ten_minutes_prints_a_bounded_amount(tmp_path):
    sample, _ = sf.read(str(ROOT / "assets" / "test.wav"), dtype="float32")
    rng = np.random.default_rng(0)
    takes = [sample * rng.uniform(0.3, 1.0) + rng.normal(0, 1e-3, len(sample)).astype(np.float32)
             for _ in range(200)]  # 200 x 3 s = 10 minutes
    sf.write(tmp_path / "lecture.wav", np.concatenate(takes), 16_000, subtype="PCM_16")

    start = time.perf_counter()
    out, result = run_main(str(tmp_path / "lecture.wav"), "--plot", str(tmp_path / "lecture.png"))
    elapsed = time.perf_counter() - start
    [file] = result["files"]
    assert file["samples"] == 9_600_000
    assert (file["mfcc_frames"], file["hubert_frames"]) == (59_998, 29_999)
    assert result["training_frames"] == hidden_units.MAX_TRAINING_FRAMES < result["total_frames"]
    assert_consistent(file, 25)
    lines = out.splitlines()
    assert len(lines) <= 35  # as many as for a short file: 6 lines of units at each rate, then a count
    assert max(len(line) for line in lines if "lecture.png" not in line and "lecture.wav" not in line) <= 110
    assert "more runs" in out
    assert "fitted on 10,000 of 59,998 frames (a seeded sample)" in out
    assert (tmp_path / "lecture.png").stat().st_size > 10_000
    assert elapsed < 120, f"10 minutes of audio took {elapsed:.0f} s"


# ----- the figure -----------------------------------------------------------------------------------------------

def run_script(*args: str, cwd) -> subprocess.CompletedProcess:
    """``python exercises/hidden_units.py args`` from ``cwd``, offline."""
    return conftest.run_script(SCRIPT, *args, cwd=cwd)


@pytest.mark.slow  # a whole process that imports torch: seconds
def test_plot_writes_one_png_and_nothing_else(tmp_path):
    import matplotlib.image

    result = run_script("--plot", cwd=student_folder(tmp_path))  # as a student runs it: the sample, hidden_units.png
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(GOLDEN)
    assert result.stdout.endswith("Saved hidden_units.png (spectrogram with the units of assets/test.wav below it)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assets", "hidden_units.png"]
    pixels = matplotlib.image.imread(tmp_path / "hidden_units.png")  # [height, width, channels]
    assert (pixels.shape[1], pixels.shape[0]) == FIGURE_SIZE
    assert pixels[..., :3].std() > 0.1
    assert len(np.unique((pixels[..., :3] * 255).round().reshape(-1, 3), axis=0)) > 50


def test_plot_path_option(tmp_path, test_wav):
    _, result = run_main(str(test_wav), "--plot", str(tmp_path / "units.png"))
    assert result["plot"] == tmp_path / "units.png"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.png"]


# ----- bad input: one line, exit status 2, no file left ----------------------------------------------------------

def noise(samples: int) -> np.ndarray:
    return np.random.default_rng(0).uniform(-0.5, 0.5, samples).astype(np.float32)


# case: (make it in a folder and return the arguments, what the error line must say)
BAD_INPUT = {
    "missing": (lambda d: ["missing.wav"], "missing.wav: file not found"),
    "directory": (lambda d: (d / "recordings").mkdir() or ["recordings"], "recordings: is a directory"),
    "not-audio": (lambda d: (d / "notes.wav").write_text("my notes\n") and ["notes.wav"],
                  "notes.wav: not a readable audio file"),
    "empty-file": (lambda d: (d / "empty.wav").touch() or ["empty.wav"], "empty.wav: the file is empty (0 bytes)"),
    "nan": (lambda d: sf.write(d / "nan.wav", np.full(16_000, np.nan, np.float32), 16_000, subtype="FLOAT")
            or ["nan.wav"], "nan.wav: contains NaN or infinite samples"),
    "too-short": (lambda d: sf.write(d / "short.wav", noise(399), 16_000) or ["short.wav"],
                  "short.wav: 399 samples is too short: one 25 ms MFCC window needs 400 samples"),
    "one-good-one-short": (lambda d: sf.write(d / "short.wav", noise(399), 16_000)
                           or [ROOT / "assets" / "test.wav", "short.wav"], "short.wav: 399 samples is too short"),
    "fewer-frames-than-clusters": (lambda d: sf.write(d / "clip.wav", noise(1_000), 16_000) or ["clip.wav"],
                                   "clip.wav: 4 MFCC frames, fewer than --clusters 25; lower --clusters to 4"),
    "more-clusters-than-frames": (lambda d: ["--clusters", "1000", ROOT / "assets" / "test.wav"],
                                  "298 MFCC frames, fewer than --clusters 1000; lower --clusters to 298"),
    "zero-clusters": (lambda d: ["--clusters", "0"], "argument --clusters: must be 1 or more, got 0"),
    "negative-clusters": (lambda d: ["--clusters", "-3"], "argument --clusters: must be 1 or more, got -3"),
    "fractional-clusters": (lambda d: ["--clusters", "2.5"],
                            "argument --clusters: must be a whole number, got '2.5'"),
    "negative-seed": (lambda d: ["--seed", "-1"], "argument --seed: must be from 0 to 4294967295, got -1"),
    "plot-missing-folder": (lambda d: ["--plot", "no-such-folder/units.png"],
                            "no-such-folder/units.png: folder no-such-folder does not exist"),
    "plot-directory": (lambda d: (d / "figures").mkdir() or ["--plot", "figures"], "figures: is a directory"),
    "plot-not-an-image": (lambda d: ["--plot", "units.txt"], "units.txt: unsupported image type"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input(tmp_path, run_inline, case):
    make, message = BAD_INPUT[case]
    assert_fails_cleanly(run_inline, SCRIPT, make(tmp_path), tmp_path, message)


@pytest.mark.parametrize("case", ["not-audio", "fractional-clusters", "plot-missing-folder", "too-short"])
def test_bad_input_script(tmp_path, case):
    """The same, as a real process."""
    make, message = BAD_INPUT[case]
    assert_fails_cleanly(conftest.run_script, SCRIPT, make(tmp_path), tmp_path, message)


def test_a_bad_plot_path_fails_before_any_work(tmp_path, run_inline, monkeypatch):
    """The path is checked before the audio is read: nothing is computed for a figure that cannot be saved."""
    monkeypatch.setattr(hidden_units, "load_audio", lambda *a, **k: pytest.fail("audio loaded before the check"))
    assert_fails_cleanly(run_inline, SCRIPT, ["--plot", "no-such-folder/units.png"], tmp_path, "does not exist")
