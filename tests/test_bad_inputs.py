"""Bad input never ends in a traceback: the script exits with status 2 and one line on stderr,
``<script>: error: <what is wrong, and where>``, and leaves no file (figure or temporary) behind.
Input that is odd but valid (silence, audio too short for HuBERT) runs and says what it is.

Every case runs at least once as a real process. Cases that fail only after torch and transformers are
imported (seconds per process) otherwise run in-process through `src.cli.run`, the scripts' entry point."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import assert_fails_cleanly, files_in, run_script



def noise(samples: int = 16_000) -> np.ndarray:
    return np.random.default_rng(0).uniform(-0.5, 0.5, samples).astype(np.float32)


def with_sample(value: float) -> np.ndarray:
    samples = noise()
    samples[1234] = value
    return samples


# ----- audio files that cannot be used ---------------------------------------------------------------------

# case: (make it in a folder and return the path to pass, what the error line must say)
BAD_AUDIO = {
    "missing": (lambda d: "missing.wav", "missing.wav: file not found"),
    "directory": (lambda d: (d / "recordings").mkdir() or "recordings", "recordings: is a directory"),
    "not-audio": (lambda d: (d / "notes.wav").write_text("my lecture notes\n") and "notes.wav",
                  "notes.wav: not a readable audio file"),
    "empty-file": (lambda d: (d / "empty.wav").touch() or "empty.wav", "empty.wav: the file is empty (0 bytes)"),
    "header-only": (lambda d: sf.write(d / "header.wav", np.zeros(0, np.int16), 16_000) or "header.wav",
                    "header.wav: the file holds 0 samples"),
    "nan": (lambda d: sf.write(d / "nan.wav", with_sample(np.nan), 16_000, subtype="FLOAT") or "nan.wav",
            "nan.wav: contains NaN or infinite samples"),
    "inf": (lambda d: sf.write(d / "inf.wav", with_sample(-np.inf), 16_000, subtype="FLOAT") or "inf.wav",
            "inf.wav: contains NaN or infinite samples"),
}


@pytest.mark.parametrize("case", BAD_AUDIO)
def test_bad_audio_explore_hubert(tmp_path, case):
    """A real process each time: explore_hubert checks its files before importing torch."""
    make, message = BAD_AUDIO[case]
    assert_fails_cleanly(run_script, "explore_hubert.py", [make(tmp_path), "--model", "tiny", "--plot"], tmp_path,
                         message)


@pytest.mark.parametrize("case", BAD_AUDIO)
def test_bad_audio_explore_audio(tmp_path, run_inline, case):
    make, message = BAD_AUDIO[case]
    assert_fails_cleanly(run_inline, "explore_audio.py", [make(tmp_path)], tmp_path, message)  # default figure on


def test_bad_audio_explore_audio_script(tmp_path):
    make, message = BAD_AUDIO["not-audio"]
    assert_fails_cleanly(run_script, "explore_audio.py", [make(tmp_path)], tmp_path, message)


def test_header_only_wav_is_a_valid_wav_with_no_samples(tmp_path):
    BAD_AUDIO["header-only"][0](tmp_path)
    info = sf.info(str(tmp_path / "header.wav"))
    assert (info.format, info.frames, (tmp_path / "header.wav").stat().st_size) == ("WAV", 0, 44)


def test_audio_too_short_for_hubert(tmp_path):
    sf.write(tmp_path / "short.wav", noise(399), 16_000)
    assert_fails_cleanly(run_script, "explore_hubert.py", ["short.wav", "--model", "tiny", "--plot"], tmp_path,
                         "short.wav: 399 samples is too short for HuBERT, which needs at least 400 samples (25 ms")


def test_one_short_file_among_good_ones_is_reported_and_the_rest_encoded(tmp_path, run_inline):
    sf.write(tmp_path / "short.wav", noise(399), 16_000)
    sf.write(tmp_path / "good.wav", noise(16_000), 16_000)
    result = run_inline("explore_hubert.py", "good.wav", "short.wav", "--model", "tiny", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "output:          [1, 49, 32]" in result.stdout  # the good file was encoded
    assert "not encoded:     short.wav: 399 samples is too short" in result.stdout
    [error] = [line for line in result.stderr.splitlines() if "error" in line]
    assert error.startswith("explore_hubert.py: error: 1 of 2 files could not be encoded: short.wav: 399 samples")


def test_explore_audio_takes_short_audio_and_says_it_is_too_short(tmp_path, run_inline):
    sf.write(tmp_path / "short.wav", noise(399), 16_000)
    result = run_inline("explore_audio.py", "short.wav", "-o", "short.png", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert "shape:        (399,)" in result.stdout
    assert "399 samples is too short for HuBERT (it needs at least 400)" in result.stdout
    assert (tmp_path / "short.png").stat().st_size > 10_000  # waveforms, and "too short for a spectrogram"


# ----- silence: valid, and no NaN ----------------------------------------------------------------------------
@pytest.fixture
def silent_wav(tmp_path):
    sf.write(tmp_path / "silent.wav", np.zeros(16_000, dtype=np.float32), 16_000)  # 1 s of digital silence
    return tmp_path / "silent.wav"


def test_explore_audio_on_silence(silent_wav, tmp_path, run_inline):
    result = run_inline("explore_audio.py", silent_wav, "-o", "silent.png", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")  # no warning either (log of zero power, 0 / 0)
    assert "note: the audio is silent (every sample is 0)" in result.stdout
    assert "value range:  [0.0000, 0.0000]" in result.stdout
    assert "mean:             0.0000" in result.stdout
    assert "std:              0.0000" in result.stdout
    assert "normalised it stays 0: (0 - 0) / sqrt(0 + 1e-7)" in result.stdout
    assert "nan" not in result.stdout.lower()
    assert (tmp_path / "silent.png").stat().st_size > 10_000


def test_explore_hubert_on_silence(silent_wav, tmp_path, run_inline):
    result = run_inline("explore_hubert.py", silent_wav, "--model", "tiny", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "the audio is silent (all zeros); HuBERT still returns finite embeddings" in result.stdout
    assert "output:          [1, 49, 32]" in result.stdout
    stats = re.findall(r"(?:mean / std|min / max):\s+(\S+) / (\S+)", result.stdout)
    assert len(stats) == 2 and all(np.isfinite(float(value)) for pair in stats for value in pair)
    assert "nan" not in (result.stdout + result.stderr).lower()


# ----- where the figure goes ---------------------------------------------------------------------------------

OUTPUT_OPTION = {"explore_audio.py": ["-o"], "explore_hubert.py": ["--model", "tiny", "--plot"]}


@pytest.mark.parametrize("script", OUTPUT_OPTION)
@pytest.mark.parametrize("path, message", [
    ("no-such-folder/figure.png", "no-such-folder/figure.png: folder no-such-folder does not exist"),
    ("figures", "figures: is a directory; give a file name such as figures/figure.png"),
    ("figure.txt", "figure.txt: unsupported image type"),
], ids=["missing-folder", "directory", "not-an-image-type"])
def test_unwritable_output_path(tmp_path, script, path, message):
    (tmp_path / "figures").mkdir()
    assert_fails_cleanly(run_script, script, [*OUTPUT_OPTION[script], path], tmp_path, message)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write into a read-only folder")
@pytest.mark.parametrize("script", OUTPUT_OPTION)
def test_read_only_output_folder(tmp_path, script):
    (tmp_path / "locked").mkdir(mode=0o555)
    try:
        assert_fails_cleanly(run_script, script, [*OUTPUT_OPTION[script], "locked/figure.png"], tmp_path,
                             "locked/figure.png: cannot write here (permission denied)")
    finally:
        (tmp_path / "locked").chmod(0o755)


def test_a_figure_that_cannot_be_saved_leaves_no_file(tmp_path):
    """A save that fails half-way (disk full): one clear error, no temporary file, the old figure untouched."""
    from src.cli import save_figure
    from src.errors import UserError

    target = tmp_path / "figure.png"
    target.write_bytes(b"the previous figure")

    class DiskFull:
        def savefig(self, path, **kwargs):
            with open(path, "wb") as handle:
                handle.write(b"\x89PNG half an image")
            raise OSError(28, "No space left on device")

    with pytest.raises(UserError, match=re.escape("figure.png: could not save the figure (No space left on device)")):
        save_figure(DiskFull(), target)
    assert files_in(tmp_path) == {"figure.png"}
    assert target.read_bytes() == b"the previous figure"


# ----- models and option values ------------------------------------------------------------------------------

@pytest.mark.slow  # a whole process that imports torch: seconds
def test_unknown_decoder_script(tmp_path):
    assert_fails_cleanly(run_script, "count_params.py", ["--decoder", "nope"], tmp_path,
                         "unknown decoder 'nope': use a preset (qwen3-8b, qwen3-1.7b, qwen3-0.6b, smollm3-3b, tiny)")


@pytest.mark.parametrize("script, args, message", [
    ("explore_hubert.py", ["--model", "nope", "--plot"],
     "unknown encoder 'nope': use a preset (hubert-xlarge-ls960-ft, hubert-large-ls960-ft"),
    ("count_params.py", ["--encoder", "qwen3-8b"], "unknown encoder 'qwen3-8b'"),  # a decoder is no encoder
    ("count_params.py", ["--decoder-lora-targets", "nothing"],
     "LoRA target nothing matches no layer of Qwen3ForCausalLM; its linear layers are down_proj, gate_proj, "
     "k_proj, lm_head, o_proj, q_proj, up_proj, v_proj"),
    ("count_params.py", ["--encoder-lora-rank", "2000"],
     "LoRA rank 2000 is larger than q_proj can hold (1280 x 1280: rank at most 1280)"),
    ("explore_hubert.py", ["--model", "."], ".: no config.json in this folder; give a folder written by "
                                           "save_pretrained"),
], ids=["explore_hubert-model", "count_params-encoder", "count_params-lora-targets", "count_params-rank",
        "explore_hubert-folder"])
def test_unknown_model(tmp_path, run_inline, script, args, message):
    assert_fails_cleanly(run_inline, script, args, tmp_path, message)


@pytest.mark.slow  # a whole process that imports torch: seconds
def test_pretrained_weights_offline(tmp_path):
    """No network and nothing in the cache: ``--weights pretrained`` says, on one line, that the weights are
    unavailable and how to get them (no progress line first: nothing was built)."""
    result = run_script("explore_hubert.py", "--weights", "pretrained", "--plot", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""
    [error] = result.stderr.splitlines()
    assert error.startswith("explore_hubert.py: error: pretrained weights for facebook/hubert-xlarge-ls960-ft "
                            "are unavailable (offline")
    assert "run once with internet access to download facebook/hubert-xlarge-ls960-ft" in error
    assert "or pass a local directory that holds config.json and model.safetensors" in error
    assert files_in(tmp_path) == set()


INVALID_OPTIONS = [
    ("count_params.py", ["--decoder-lora-rank", "-1"], "argument --decoder-lora-rank: must be 0 or more, got -1"),
    ("count_params.py", ["--encoder-lora-rank", "two"], "argument --encoder-lora-rank: invalid"),
    ("count_params.py", ["--decoder-lora-targets", ","], "argument --decoder-lora-targets: give module names"),
    ("explore_audio.py", ["--through-rate", "44100"], "argument --through-rate: must be a rate from 1000 to 15999"),
    ("explore_hubert.py", ["--window-seconds", "0"], "argument --window-seconds: must be a finite number more than 0"),
    ("explore_hubert.py", ["--window-seconds", "-5"], "argument --window-seconds: must be a finite number"),
    ("explore_hubert.py", ["--window-seconds", "inf"], "argument --window-seconds: must be a finite number"),
    ("explore_hubert.py", ["--weights", "bogus"], "argument --weights: invalid choice: 'bogus'"),
    ("explore_hubert.py", ["--device", "quantum"], "argument --device: invalid choice: 'quantum'"),
    ("explore_hubert.py", ["--seed", "-1"], "argument --seed: must be 0 or more, got -1"),
    ("explore_audio.py", ["--colour"], "unrecognized arguments: --colour"),
]


@pytest.mark.parametrize("script, args, message", INVALID_OPTIONS,
                         ids=[f"{script} {' '.join(args)}" for script, args, _ in INVALID_OPTIONS])
def test_invalid_option_value(tmp_path, script, args, message):
    line = assert_fails_cleanly(run_script, script, args, tmp_path, message)
    assert line.endswith("(see --help)")
