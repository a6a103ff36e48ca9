"""The lecture tells the truth: its expected-output blocks are what the exercises print now, its figures
are the ones the code computes, and every link and file:line reference resolves."""

import inspect
import re
from pathlib import Path

import pytest

from conftest import ROOT, run_exercise

CLASSES = ROOT / "classes"
LECTURE = CLASSES / "2-audio-processing-and-encoders.md"
MARKDOWN = sorted(CLASSES.glob("*.md")) + [ROOT / "README.md", ROOT / "assets" / "README.md"]

BLOCK = re.compile(r"<!-- expected-output: (?P<command>[^>]+?) -->\s*\n```text\n(?P<output>.*?)```", re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FILE_LINE = re.compile(r"`((?:src|exercises|tests|benchmarks)/[\w/.-]+\.py):(\d+)(?:-(\d+))?`")
# Statistics of embeddings depend on floating-point details of the machine: compared with a tolerance.
TOLERANT_LINE = re.compile(r"^\s*(mean / std|min / max):")
DEVICE_LINE = re.compile(r"^Device:\s+(cpu|cuda|mps)$")  # the lecture's run was on a CPU; a Mac picks mps
NUMBER = re.compile(r"-?\d+\.\d+")


def expected_blocks():
    text = LECTURE.read_text()
    return [pytest.param(m["command"].split(), m["output"], id=m["command"]) for m in BLOCK.finditer(text)]


def test_lecture_has_the_expected_output_blocks():
    scripts = [block.values[0][0] for block in expected_blocks()]
    for script in ("exercises/explore_audio.py", "exercises/explore_hubert.py", "exercises/count_params.py"):
        assert script in scripts, f"no expected-output block for {script}"


@pytest.mark.slow
@pytest.mark.parametrize("command, expected", expected_blocks())
def test_expected_output_matches_a_fresh_run(command, expected):
    assert (ROOT / command[0]).is_file(), command[0]
    actual, _ = run_exercise(command[0], *command[1:])
    actual_lines, expected_lines = actual.rstrip("\n").split("\n"), expected.rstrip("\n").split("\n")
    assert len(actual_lines) == len(expected_lines), f"{' '.join(command)} printed:\n{actual}"
    for got, want in zip(actual_lines, expected_lines):
        if DEVICE_LINE.match(want):
            assert DEVICE_LINE.match(got), got
        elif TOLERANT_LINE.match(want):
            assert NUMBER.sub("#", got) == NUMBER.sub("#", want)
            for g, w in zip(NUMBER.findall(got), NUMBER.findall(want)):
                assert float(g) == pytest.approx(float(w), abs=2e-3), f"{got!r} vs {want!r}"
        else:
            assert got.rstrip() == want.rstrip()


@pytest.mark.parametrize("markdown", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(markdown):
    for target in LINK.findall(markdown.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (markdown.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{markdown.name}: broken link {target}"


def test_file_line_references_resolve():
    references = [m for md in MARKDOWN for m in FILE_LINE.finditer(md.read_text())]
    assert references, "the lecture should cite source lines"
    for match in references:
        path, start, end = ROOT / match[1], int(match[2]), int(match[3] or match[2])
        assert path.is_file(), match[0]
        assert 1 <= start <= end <= len(path.read_text().splitlines()), match[0]


def test_audio_projector_citation_is_its_real_line_range():
    from src import asr_modeling

    lines, start = inspect.getsourcelines(asr_modeling.AudioProjector)
    citation = f"`src/asr_modeling.py:{start}-{start + len(lines) - 1}`"
    assert citation in LECTURE.read_text(), f"cite AudioProjector as {citation}"


def test_prose_figures_are_the_computed_ones():
    """Figures the lecture states in prose, each recomputed here from the code."""
    import torch

    from src.asr_config import ASRConfig
    from src.asr_modeling import ASRModel
    from src.audio import PCM16_LEVELS, SAMPLE_RATE, predicted_frames
    from src.lora import parameter_summary

    with torch.device("meta"):
        default = parameter_summary(ASRModel(ASRConfig()))
        smol = parameter_summary(ASRModel(ASRConfig(decoder="smollm3-3b", decoder_lora_rank=64)))
    frames = predicted_frames(3 * SAMPLE_RATE)
    figures = {
        f"{PCM16_LEVELS:,}": 65_536,
        f"{3 * SAMPLE_RATE:,}": 48_000,
        f"{frames}": 149,
        f"{predicted_frames(SAMPLE_RATE)}": 49,
        f"{3 * SAMPLE_RATE / frames:.1f}": "322.1",
        f"{1000 * 3 / frames:.1f} ms": "20.1 ms",
        f"{frames * 1280:,}": "190,720",
        f"{default['encoder'].frozen:,}": "962,497,408",
        f"{default['encoder'].trainable:,}": "1,966,080",
        f"{default['encoder'].total:,}": "964,463,488",
        f"{default['projector'].total:,}": "138,422,528",
        f"{default['decoder'].trainable:,}": "3,833,856",
        f"{default['decoder'].frozen:,}": "8,190,735,360",
        f"{default['overall'].total:,}": "9,297,455,232",
        f"{default['overall'].trainable:,}": "144,222,464",
        f"{default['overall'].trainable_percent:.2f} %": "1.55 %",
        f"{smol['overall'].trainable:,}": "138,944,768",
        f"{smol['decoder'].trainable:,}": "15,335,424",
        f"{smol['projector'].total:,}": "121,643,264",
    }
    text = LECTURE.read_text().replace("\u202f", " ").replace("\u00a0", " ")
    for computed, spec in figures.items():
        assert computed == str(spec) if isinstance(spec, str) else int(computed.replace(",", "")) == spec
        assert computed in text or computed.replace(" %", "%") in text, f"the lecture never states {computed}"
