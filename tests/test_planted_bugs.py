"""The checkpoint tests catch the mistakes they are there for: each typical bug, planted in a copy of the
repository, makes a checkpoint fail with a message that names the concept.

For each bug: copy the repository into a temporary folder, make one exact textual replacement (the pattern
must occur exactly once, so this test breaks loudly when the code it plants into moves), run that
exercise's checkpoints there in a fresh pytest process, and expect a failure, the checkpoint's name in the
grade summary's "failed:" list, and the concept's words in the failure message. Marked slow: each run starts
Python, torch and the exercise (about 15-40 s).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

SKIP = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".work", "outputs")


def copy_repo(destination: Path) -> Path:
    """The repository's files (not .git, the virtual environment or caches) under ``destination``."""
    shutil.copytree(ROOT, destination, ignore=SKIP)
    return destination


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m pytest args`` in ``folder``, importing that folder's ``src``, offline, on one thread."""
    env = {**os.environ, "PYTHONPATH": str(folder), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)


def grade_line(output: str, title: str) -> str:
    """The grade summary's line for ``title`` ("Exercise 1"), or ''."""
    summary = output.split("Grade summary", 1)[-1]
    return next((line for line in summary.splitlines() if line.startswith(f"{title} (")), "")


@dataclass
class Plant:
    bug: str
    file: str
    pattern: str
    replacement: str
    exercise: int
    checkpoint: str  # the checkpoint that must fail
    words: str  # the concept, as the failure message must say it


PLANTS = [
    Plant("left channel instead of the average", "src/audio.py",
          "samples = data.mean(axis=1)", "samples = data[:, 0]",
          1, "stereo is down-mixed to the average of its channels",
          "got the left channel alone. A down-mix averages the channels"),
    Plant("no resampling", "src/audio.py",
          "    if original_rate != sample_rate:\n", "    if False:\n",
          1, "another sampling rate is resampled to 16 kHz",
          "not resampled, so at 16 kHz they would last"),
    Plant("normalisation without the epsilon", "src/audio.py",
          "np.sqrt(samples.var() + NORMALISE_EPSILON)", "np.sqrt(samples.var())",
          1, "silence normalises to zeros, not NaN (the 1e-7 epsilon)",
          "it is the epsilon 1e-7 inside sqrt(var + 1e-7) that keeps the division finite"),
    Plant("frame stride 321", "src/audio.py",
          "HUBERT_STRIDE = math.prod(HUBERT_CONV_STRIDE)", "HUBERT_STRIDE = 321",
          2, "the actual frame count equals the predicted one",
          "HuBERT gives one frame per 320 samples after a 400-sample window: floor((16400 - 400) / 320) + 1 = 51, "
          "got 50 predicted"),
    Plant("a wrong stride in the CNN's configuration", "src/presets.py",
          "HUBERT_CONV_STRIDE = (5, 2, 2, 2, 2, 2, 2)", "HUBERT_CONV_STRIDE = (5, 2, 2, 2, 2, 2, 3)",
          2, "[1, N] in, [1, frames, dim] out, frames = floor((N - 400) / 320) + 1",
          "HuBERT gives one frame per 320 samples after a 400-sample window: floor((48000 - 400) / 320) + 1 = 149, "
          "got 100"),
    Plant("encoder LoRA on v_proj instead of q_proj, k_proj", "src/asr_config.py",
          'encoder_lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj"])',
          'encoder_lora_targets: list[str] = field(default_factory=lambda: ["v_proj"])',
          3, "1,966,080 trainable in the encoder: LoRA r=8 on q_proj and k_proj",
          "the encoder's adapters sit on ['v_proj'], expected on q_proj and k_proj"),
    Plant("projector stacking 4 frames", "src/asr_config.py",
          "projector_stack: int = 5", "projector_stack: int = 4",
          3, "138,422,528 trainable in the projector: 5 frames stacked, 6400 -> 8192 -> 4096",
          "projector_stack 4, expected 5: the projector stacks 5 frames"),
]


def plant(folder: Path, bug: Plant) -> None:
    path = folder / bug.file
    text = path.read_text()
    found = text.count(bug.pattern)
    assert found == 1, (f"{bug.file} holds {bug.pattern!r} {found} times, not once: the code this bug is planted "
                        f"into has changed; update PLANTS")
    path.write_text(text.replace(bug.pattern, bug.replacement))


def test_every_pattern_is_in_the_code_once():
    """Quick (not slow): the planted bugs still find their targets, so the slow proof cannot rot unnoticed."""
    for bug in PLANTS:
        assert (ROOT / bug.file).read_text().count(bug.pattern) == 1, (bug.bug, bug.file, bug.pattern)


@pytest.mark.slow
@pytest.mark.parametrize("bug", PLANTS, ids=[re.sub(r"\W+", "-", bug.bug) for bug in PLANTS])
def test_a_planted_bug_fails_its_checkpoint(bug, tmp_path):
    folder = copy_repo(tmp_path / "repo")
    plant(folder, bug)
    result = run_pytest(folder, "tests/test_checkpoints.py", "-q", "-m", f"exercise{bug.exercise} and not slow")
    output = result.stdout + result.stderr
    line = grade_line(output, f"Exercise {bug.exercise}")
    print(output)  # shown when this test fails: the whole run, messages and grade summary
    assert result.returncode == 1, f"{bug.bug}: expected the checkpoints to fail (exit 1), got {result.returncode}"
    assert line, f"{bug.bug}: no grade summary line for Exercise {bug.exercise}"
    assert bug.checkpoint in line.split("; failed: ", 1)[-1], f"{bug.bug}: {bug.checkpoint!r} should fail: {line}"
    assert bug.words in output, f"{bug.bug}: the failure should teach {bug.words!r}"
