"""The three exercises measure what the lecture says, in-process through ``main(argv)`` and once each as the
script a student runs. All offline: HuBERT gets random weights, and `--model tiny` wherever the full size is
not the point."""

import math
import re
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import ROOT, load_exercise, run_exercise, run_script, student_folder

explore_audio = load_exercise("explore_audio")
explore_hubert = load_exercise("explore_hubert")
count_params = load_exercise("count_params")

AUDIO_FIGURE_SIZE = (1210, 880)  # (width, height): figsize (11, 8) at 110 dpi
HUBERT_FIGURE_SIZE = (1430, 550)  # figsize (13, 5) at 110 dpi


def assert_success(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def assert_good_png(path, size: tuple[int, int]) -> None:
    """The file decodes as a PNG of ``size`` (width, height) with a real picture in it, not a blank canvas."""
    import matplotlib.image

    pixels = matplotlib.image.imread(path)  # [height, width, channels] floats in [0, 1]
    assert (pixels.shape[1], pixels.shape[0]) == size
    rgb = pixels[..., :3]
    assert rgb.std() > 0.1
    assert len(np.unique((rgb * 255).round().reshape(-1, 3), axis=0)) > 50  # axes, text, colour maps


# ----- exercise 1: explore_audio.py ---------------------------------------------------------------------------

def test_explore_audio_on_the_sample(test_wav, capsys):
    result = explore_audio.main([str(test_wav), "--no-plot"])
    assert result["shape"] == (48_000,)
    assert result["sample_rate"] == result["original_sample_rate"] == 16_000
    assert result["original_channels"] == 1
    assert f"{result['duration']:.2f}" == "3.00"
    assert result["normalized_shape"] == (1, 48_000)
    assert abs(result["mean"]) < 1e-4 and abs(result["std"] - 1) < 1e-3
    assert not result["silent"]
    assert result["output"] is None
    out = capsys.readouterr().out
    assert "resampled" not in out and "down-mixed" not in out  # test.wav is already 16 kHz mono
    assert "Saved" not in out


@pytest.mark.slow
def test_explore_audio_script_saves_its_figure_in_the_working_directory(tmp_path):
    result = run_script("explore_audio.py", cwd=student_folder(tmp_path))  # the sample, audio_processing.png
    assert_success(result)
    assert result.stderr == ""
    for line in ("Exercise 1: loaded assets/test.wav", "sample rate:  16000 Hz", "duration:     3.00 s",
                 "shape:        (48000,)", "normalised shape: [1, 48000]", "mean:             0.0000",
                 "std:              1.0000", "Saved audio_processing.png"):
        assert line in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assets", "audio_processing.png"]  # no temporary file
    figure = tmp_path / "audio_processing.png"
    assert_good_png(figure, AUDIO_FIGURE_SIZE)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(figure.stat().st_mode) == 0o666 & ~umask  # like any new file, not mkstemp's 0600


def test_explore_audio_resamples_and_down_mixes_the_stereo_clip(stereo_wav, capsys):
    result = explore_audio.main([str(stereo_wav), "--no-plot"])
    assert (result["original_sample_rate"], result["original_channels"]) == (44_100, 2)
    assert result["shape"] == (72_000,)  # 198,450 frames * 16,000 / 44,100
    assert f"{result['duration']:.2f}" == "4.50"
    out = capsys.readouterr().out
    assert "note: resampled from 44100 Hz to 16000 Hz" in out
    assert "note: down-mixed 2 channels to mono" in out
    assert "shape:        (72000,)" in out


FORMATS = {"flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS"), "mp3": ("MP3", "MPEG_LAYER_III")}
# Channel c holds a 440 Hz sine of amplitude AMPLITUDES[c]; their average, 0.4 (0.5 for mono), is what a
# correct down-mix keeps. Taking one channel (0.6, 0.8) or summing them (0.8, 1.6) would show.
AMPLITUDES = {1: [0.5], 2: [0.6, 0.2], 4: [0.8, 0.4, 0.2, 0.2]}
FRAMES = 12_345  # a length that no rate divides, so the resampled length is a real check


@pytest.mark.parametrize("channels", [1, 2, 4])
@pytest.mark.parametrize("rate", [8_000, 22_050, 44_100, 48_000])
@pytest.mark.parametrize("extension", FORMATS)
def test_formats_rates_and_channels_load_as_16k_mono(tmp_path, capsys, extension, rate, channels):
    container, subtype = FORMATS[extension]
    if extension == "mp3" and channels > 2:
        pytest.skip("MP3 holds at most 2 channels: libsndfile cannot write a 4-channel MP3")
    if not sf.check_format(container, subtype):
        pytest.skip(f"this libsndfile ({sf.__libsndfile_version__}) cannot write {container}/{subtype}")
    t = np.arange(FRAMES) / rate
    wave = np.stack([a * np.sin(2 * np.pi * 440 * t) for a in AMPLITUDES[channels]], axis=1)
    path = tmp_path / f"clip.{extension}"
    sf.write(path, wave.astype(np.float32), rate, format=container, subtype=subtype)
    assert sf.info(str(path)).frames == FRAMES  # libsndfile decodes lossy formats gaplessly too

    result = explore_audio.main([str(path), "--no-plot"])

    assert result["shape"] == (math.ceil(FRAMES * 16_000 / rate),)  # librosa.resample's length (fix=True)
    assert (result["original_sample_rate"], result["original_channels"]) == (rate, channels)
    peak = max(abs(result["min"]), abs(result["max"]))
    assert peak == pytest.approx(np.mean(AMPLITUDES[channels]), abs=0.06)  # lossy codecs overshoot a little
    out = capsys.readouterr().out
    assert (f"resampled from {rate} Hz to 16000 Hz" in out) == (rate != 16_000)
    assert (f"down-mixed {channels} channels to mono" in out) == (channels > 1)


# ----- exercise 2: explore_hubert.py --------------------------------------------------------------------------

@pytest.mark.slow
def test_explore_hubert_full_size_xlarge():
    """The default, HuBERT-XLarge at full size, with random weights: the shapes are the published ones.
    conftest caches the run, so any other test asking for the same command shares it."""
    out, result = run_exercise("exercises/explore_hubert.py", "assets/test.wav", "--weights", "random")
    assert (result["model"], result["weights"]) == ("hubert-xlarge-ls960-ft", "random")
    [file] = result["files"]
    assert file["input_shape"] == (1, 48_000)
    assert file["output_shape"] == (1, 149, 1280)
    assert file["frames"] == file["predicted_frames"] == 149
    assert f"{file['reduction']:.1f}" == "322.1"
    assert f"{file['ms_per_frame']:.1f}" == "20.1"
    assert file["dim"] == 1280
    assert all(math.isfinite(file[k]) for k in ("mean", "std", "min", "max"))
    assert file["std"] > 0
    for text in ("48 layers, hidden size 1280", "[1, 149, 1280]", "322.1x", "20.1 ms",
                 "RANDOM weights (seed 0) in the published hubert-xlarge-ls960-ft architecture"):
        assert text in out


def test_explore_hubert_several_files_and_a_figure(test_wav, stereo_wav, tmp_path, capsys):
    figure = tmp_path / "embeddings.png"
    result = explore_hubert.main(["--model", "tiny", str(test_wav), str(stereo_wav), "--plot", str(figure)])
    mono, stereo = result["files"]
    assert (mono["input_shape"], mono["output_shape"]) == ((1, 48_000), (1, 149, 32))
    assert mono["frames"] == mono["predicted_frames"] == 149
    assert (stereo["input_shape"], stereo["output_shape"]) == ((1, 72_000), (1, 224, 32))
    assert stereo["frames"] == stereo["predicted_frames"] == (72_000 - 400) // 320 + 1 == 224
    assert result["plot"] == figure
    assert_good_png(figure, HUBERT_FIGURE_SIZE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["embeddings.png"]
    out = capsys.readouterr().out
    assert "loaded from:     44100 Hz, 2 channels -> 16000 Hz mono" in out
    assert "frames:          224 actual, 224 predicted by floor((72000 - 400) / 320) + 1" in out


@pytest.mark.slow
def test_explore_hubert_script_on_the_sample(tmp_path):
    result = run_script("explore_hubert.py", "--model", "tiny", cwd=student_folder(tmp_path))  # the sample
    assert_success(result)
    for text in ("input:           [1, 48000] (3.00 s at 16000 Hz)", "output:          [1, 149, 32]",
                 "149 actual, 149 predicted", "322.1x fewer time steps", "per embedding:   20.1 ms of audio",
                 "Weights:  RANDOM weights (seed 0) in the tiny architecture"):
        assert text in result.stdout
    assert "\nassets/test.wav\n" in result.stdout  # the path as the student would type it
    # stderr holds progress only: no warning (tiny has no pretrained weights to miss), no error
    assert [line.split()[0] for line in result.stderr.splitlines()] == ["Building", "Encoding"]
    assert not any(tmp_path.glob("*.png"))  # no --plot, no figure


@pytest.mark.parametrize("samples", [70 * 16_000, 2 * 480_000 + 400], ids=["70s", "last-window-400-samples"])
def test_long_audio_in_windows_gives_every_frame(tmp_path, capsys, samples):
    path = tmp_path / "long.wav"
    sf.write(path, np.random.default_rng(0).uniform(-0.5, 0.5, samples).astype(np.float32), 16_000)
    expected = (samples - 400) // 320 + 1  # 3,499 and 3,001

    [windowed] = explore_hubert.main(["--model", "tiny", str(path), "--window-seconds", "30"])["files"]
    assert windowed["frames"] == windowed["predicted_frames"] == expected
    assert windowed["output_shape"] == (1, expected, 32)
    assert "in 3 windows of 30.00 s" in capsys.readouterr().err

    [whole] = explore_hubert.main(["--model", "tiny", str(path), "--window-seconds", "100"])["files"]
    assert whole["frames"] == expected
    assert " windows of " not in capsys.readouterr().err


def test_windowed_statistics_of_short_audio_equal_one_pass(test_wav):
    """Audio shorter than a window: the streamed statistics are those of one forward pass over all of it."""
    import torch

    from src.audio import load_audio, make_feature_extractor
    from src.encoder import load_encoder

    args = ["--model", "tiny", str(test_wav), "--window-seconds", "30", "--device", "cpu"]
    [file] = explore_hubert.main(args)["files"]
    encoder, _ = load_encoder("tiny", weights="random", seed=0)
    inputs = make_feature_extractor()(load_audio(test_wav).samples, sampling_rate=16_000, return_tensors="pt")
    with torch.inference_mode():
        frames, _ = encoder(inputs.input_values)
    assert frames.shape == (1, file["frames"], 32)
    expected = {"mean": frames.mean(), "std": frames.std(correction=0), "min": frames.min(), "max": frames.max()}
    for key, value in expected.items():
        assert file[key] == pytest.approx(value.item(), abs=1e-5), key


def test_auto_weights_warn_when_the_pretrained_ones_are_missing(tmp_path, capsys, test_wav):
    """A model directory with config.json and no weights: ``auto`` falls back to random weights and says so."""
    from src.loading import resolve_encoder

    resolve_encoder("tiny").config.save_pretrained(tmp_path)  # writes config.json only
    result = explore_hubert.main(["--model", str(tmp_path), "--weights", "auto", str(test_wav)])
    assert result["weights"] == "random"
    captured = capsys.readouterr()
    assert f"warning: no pretrained weights for {tmp_path}" in captured.err
    assert "RANDOM weights (seed 0)" in captured.err
    assert "Weights:  RANDOM weights (seed 0)" in captured.out


# ----- exercise 3: count_params.py ----------------------------------------------------------------------------

DEFAULT_TABLE = {  # component: (total, trainable, frozen, trainable %)
    "encoder": (964_463_488, 1_966_080, 962_497_408, "0.20"),
    "projector": (138_422_528, 138_422_528, 0, "100.00"),
    "decoder": (8_194_569_216, 3_833_856, 8_190_735_360, "0.05"),
    "overall": (9_297_455_232, 144_222_464, 9_153_232_768, "1.55"),
}


def test_count_params_default_figures():
    result = count_params.main([])
    for component, (total, trainable, frozen, percent) in DEFAULT_TABLE.items():
        got = result[component]
        assert (got["total"], got["trainable"], got["frozen"]) == (total, trainable, frozen), component
        assert f"{got['trainable_percent']:.2f}" == percent, component


def test_count_params_smollm3_with_rank_64():
    result = count_params.main(["--decoder", "smollm3-3b", "--decoder-lora-rank", "64"])
    assert result["overall"]["trainable"] == 138_944_768
    assert result["decoder"]["trainable"] == 15_335_424


@pytest.mark.slow
def test_count_params_script_prints_the_table(tmp_path):
    result = run_script("count_params.py", cwd=tmp_path)
    assert_success(result)
    assert result.stderr == ""
    rows = {line.split()[0]: line.split()[-4:] for line in result.stdout.splitlines()
            if line.split() and line.split()[0] in DEFAULT_TABLE}
    assert rows == {component: [f"{total:,}", f"{trainable:,}", f"{frozen:,}", f"{percent}%"]
                    for component, (total, trainable, frozen, percent) in DEFAULT_TABLE.items()}


def test_count_params_defaults_are_asrconfigs(capsys):
    """count_params has no defaults of its own: what --help names as the default is ASRConfig's value."""
    from src.asr_config import ASRConfig

    with pytest.raises(SystemExit):
        count_params.parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    shown = re.findall(r"--([\w-]+) \S+ .*?\(default: ASRConfig's, ([^)]+)\)", help_text)
    config = ASRConfig()
    assert len(shown) == 6, help_text
    for option, value in shown:
        actual = getattr(config, option.replace("-", "_"))
        assert value == (",".join(actual) if isinstance(actual, list) else str(actual)), option
