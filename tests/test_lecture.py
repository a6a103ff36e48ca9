"""The lecture tells the truth: its expected-output blocks are what the exercises print now, its code
blocks are verbatim excerpts of the files they come from, its figures are the ones the code computes,
its measured times and memory are those in benchmarks/RESULTS.md, and every link, image and file:line
reference resolves to what it names."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from conftest import ROOT, run_exercise

CLASSES = ROOT / "classes"
LECTURE = CLASSES / "2-audio-processing-and-encoders.md"
MARKDOWN = sorted(CLASSES.glob("*.md")) + [ROOT / "README.md", ROOT / "assets" / "README.md"]
EXERCISES = {"exercises/explore_audio.py": "explore", "exercises/explore_hubert.py": "encode",
             "exercises/count_params.py": "count"}  # each exercise and the teaching function it opens with

BLOCK = re.compile(r"<!-- expected-output: (?P<command>[^>]+?) -->\s*\n```text\n(?P<output>.*?)```", re.S)
PENDING_BLOCK = re.compile(r"<!-- expected-output-pending: (?P<command>[^>]+?) -->")
EXCERPT = re.compile(r"<!-- excerpt: (?P<path>[^\s>]+) -->[ \t]*\n(?P<indent>[ \t]*)```python\n(?P<code>.*?)\n"
                     r"(?P=indent)```", re.S)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<target>[^)\s]+)\)")
FILE_LINE = re.compile(r"`((?:src|exercises|tests|benchmarks)/[\w/.-]+\.py):(\d+)(?:-(\d+))?`")
# "`AudioProjector` (`src/asr_modeling.py:30-59`)": a name in backticks, then its citation in parentheses.
NAMED_CITATION = re.compile(r"`(?P<name>[A-Za-z_][\w.]*)`\s+\((?P<citation>"
                            r"`(?:src|exercises|tests|benchmarks)/[\w/.-]+\.py:\d+(?:-\d+)?`)\)")
MEASURED = re.compile(r"(?P<number>\d[\d,]*(?:\.\d+)?)\s*(?:s|GB)?<!-- measured: (?P<key>[\w.]+) -->")
MEASURED_MARK = re.compile(r"<!-- measured: ([\w.]+) -->")
# Statistics of embeddings depend on floating-point details of the machine: compared with a tolerance.
TOLERANT_LINE = re.compile(r"^\s*(mean / std|min / max):")
DEVICE_LINE = re.compile(r"^Device:\s+(cpu|cuda|mps)$")  # the lecture's run was on a CPU; a Mac picks mps
NUMBER = re.compile(r"-?\d+\.\d+")



def lecture_text() -> str:
    return LECTURE.read_text().replace("\u202f", " ").replace("\u00a0", " ")


# ----- expected output --------------------------------------------------------------------------------------
def expected_blocks():
    text = LECTURE.read_text()
    return [pytest.param(m["command"].split(), m["output"], id=m["command"]) for m in BLOCK.finditer(text)]


def test_lecture_has_the_expected_output_blocks():
    commands = [" ".join(block.values[0]) for block in expected_blocks()]
    for command in (*EXERCISES, "exercises/explore_audio.py --through-rate 8000"):
        assert command in commands, f"no expected-output block for {command}"


def test_pending_output_blocks_only_for_scripts_not_yet_here():
    """A placeholder block is allowed only while its script is missing; once merged, fill it from a run."""
    for match in PENDING_BLOCK.finditer(LECTURE.read_text()):
        script = match["command"].split()[0]
        assert not (ROOT / script).exists(), f"{script} exists: replace the pending block with a real run"


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


# ----- code excerpts ----------------------------------------------------------------------------------------
def excerpts():
    found = []
    for match in EXCERPT.finditer(LECTURE.read_text()):
        indent = match["indent"]
        lines = []
        for line in match["code"].split("\n"):
            assert not line.strip() or line.startswith(indent), f"{match['path']}: line not indented as the fence"
            lines.append(line[len(indent):].rstrip())
        found.append((match["path"], lines))
    return found


def test_code_excerpts_are_verbatim_and_contiguous():
    assert excerpts(), "the lecture should show code from the exercises"
    for path, lines in excerpts():
        source = [line.rstrip() for line in (ROOT / path).read_text().splitlines()]
        starts = [i for i in range(len(source) - len(lines) + 1) if source[i: i + len(lines)] == lines]
        assert starts, f"a code block marked as an excerpt of {path} is not a contiguous copy of its lines:\n" + \
            "\n".join(lines)


def test_every_exercise_shows_its_teaching_function():
    shown = {}
    for path, lines in excerpts():
        shown.setdefault(path, []).extend(lines)
    for path, function in EXERCISES.items():
        assert any(line.startswith(f"def {function}(") for line in shown.get(path, [])), \
            f"show `{function}` from {path} as an excerpt"


def test_every_marked_excerpt_is_a_python_block():
    text = LECTURE.read_text()
    assert text.count("<!-- excerpt:") == len(excerpts()), "an excerpt marker is not followed by a ```python block"


# ----- links, images and citations --------------------------------------------------------------------------
@pytest.mark.parametrize("markdown", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(markdown):
    for target in LINK.findall(markdown.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (markdown.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{markdown.name}: broken link {target}"


@pytest.mark.parametrize("markdown", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_images_resolve_and_have_alt_text(markdown):
    for image in IMAGE.finditer(markdown.read_text()):
        assert len(image["alt"].split()) >= 5, f"{markdown.name}: describe {image['target']} in its alt text"
        assert (markdown.parent / image["target"]).is_file(), f"{markdown.name}: missing image {image['target']}"


def github_anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_in_page_links_point_at_headings():
    text = LECTURE.read_text()
    anchors = {github_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}
    for target in LINK.findall(text):
        if target.startswith("#"):
            assert target[1:] in anchors, f"no heading for the link {target}"


def test_file_line_references_resolve():
    references = [m for md in MARKDOWN for m in FILE_LINE.finditer(md.read_text())]
    assert references, "the lecture should cite source lines"
    for match in references:
        path, start, end = ROOT / match[1], int(match[2]), int(match[3] or match[2])
        assert path.is_file(), match[0]
        assert 1 <= start <= end <= len(path.read_text().splitlines()), match[0]


def definition_lines(path: Path, dotted: str) -> tuple[int, int]:
    """First line (decorators included) and last line of a module-level class, function or assignment, or of
    a method (``AudioEncoder.forward``)."""
    scope, node = ast.parse(path.read_text()).body, None
    for part in dotted.split("."):
        node = next((n for n in scope if part in defined_names(n)), None)
        assert node is not None, f"{path.relative_to(ROOT)} defines no `{dotted}`"
        scope = getattr(node, "body", [])
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]), node.end_lineno


def defined_names(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return {t.id for t in targets if isinstance(t, ast.Name)}


@pytest.mark.parametrize("markdown", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_citations_cover_what_they_name(markdown):
    """`name` (`path:A-B`): lines A-B hold the whole definition, plus at most blank or comment lines."""
    for match in NAMED_CITATION.finditer(markdown.read_text()):
        cited = FILE_LINE.fullmatch(match["citation"])
        path, start, end = ROOT / cited[1], int(cited[2]), int(cited[3] or cited[2])
        first, last = definition_lines(path, match["name"])
        lines = path.read_text().splitlines()
        assert start <= first and last <= end, f"{match[0]}: `{match['name']}` is lines {first}-{last}"
        extra = lines[start - 1: first - 1] + lines[last:end]
        assert all(not line.strip() or line.strip().startswith("#") for line in extra), \
            f"{match[0]}: cite `{match['name']}` as {cited[1]}:{first}-{last}"


def test_lecture_cites_source_lines_only_next_to_what_they_name():
    text = LECTURE.read_text()
    named = {m.start("citation") for m in NAMED_CITATION.finditer(text)}
    for match in FILE_LINE.finditer(text):
        assert match.start() in named, f"write the name before {match[0]}, as `name` ({match[0]})"


def test_audio_projector_citation_is_its_real_line_range():
    from src import asr_modeling

    lines, start = inspect.getsourcelines(asr_modeling.AudioProjector)
    citation = f"`src/asr_modeling.py:{start}-{start + len(lines) - 1}`"
    assert citation in LECTURE.read_text(), f"cite AudioProjector as {citation}"


# ----- shape of the page ------------------------------------------------------------------------------------
def section(text: str, start: str, end: str) -> str:
    return text[text.index(start): text.index(end, text.index(start))]


def test_each_lecture_section_opens_with_its_figure():
    part1 = section(LECTURE.read_text(), "\n# Part 1", "\n# Part 2")
    sections = re.split(r"^## ", part1, flags=re.M)[1:]
    assert len(sections) >= 5
    for body in sections:
        heading, rest = body.split("\n", 1)
        assert rest.strip().startswith("!["), f"section '{heading}' should open with its figure"


def test_check_your_understanding_answers_are_folded():
    questions = section(LECTURE.read_text(), "## Check your understanding", "\n## Homework")
    asked = re.findall(r"^\d+\. \*\*", questions, re.M)
    assert asked and len(asked) == questions.count("<details><summary>Answer</summary>") == \
        questions.count("</details>"), "every question needs its answer inside <details>"


def test_homework_links_its_page():
    homework = section(LECTURE.read_text(), "## Homework", "\n## Further reading")
    assert "](homework-2.md)" in homework


# ----- measured figures -------------------------------------------------------------------------------------
# `<!-- measured: KEY -->` follows every time or memory figure in the prose; KEY names a row of
# benchmarks/RESULTS.md (its section number and metric). When the benchmark is rerun, this test names every
# sentence whose figure no longer matches.
MEASURED_KEYS = {
    "count_params.wall": ("1", "whole process, wall"),
    "count_params.peak_rss": ("1", "whole process, peak RSS"),
    "explore_hubert.xlarge.wall": ("2", "whole process, wall"),
    "explore_hubert.xlarge.peak_rss": ("2", "whole process, peak RSS"),
    "explore_hubert.imports": ("2", "phase: start-up, imports, audio"),
    "explore_hubert.bf16.peak_rss": ("8", "bfloat16: whole process, peak RSS"),
    "explore_hubert.seconds_per_audio_minute": ("5", "explore_hubert: encoding seconds per audio-minute"),
    "explore_audio.10min.wall": ("5", "explore_audio 10 min: whole process, wall"),
}


def benchmark_results() -> dict[tuple[str, str], float]:
    """(section number, metric) -> the figure in the 'ours' column of benchmarks/RESULTS.md."""
    results, number = {}, None
    for line in (ROOT / "benchmarks" / "RESULTS.md").read_text().splitlines():
        heading = re.match(r"^## (\d+)\. ", line)
        if heading:
            number = heading[1]
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if number and len(cells) >= 2 and re.match(r"^\d[\d,]*(\.\d+)?( \w+)?$", cells[1]):
            results[(number, cells[0])] = float(cells[1].split()[0].replace(",", ""))
    return results


def measured_row(results, key):
    number, metric = MEASURED_KEYS[key]
    rows = [value for (n, m), value in results.items() if n == number and m.startswith(metric)]
    assert len(rows) == 1, f"benchmarks/RESULTS.md has no single row '{metric}' in section {number}"
    return rows[0]


@pytest.mark.parametrize("markdown", [LECTURE, ROOT / "README.md"], ids=lambda p: p.name)
def test_measured_figures_are_the_benchmarked_ones(markdown):
    text, results = markdown.read_text(), benchmark_results()
    marks = MEASURED_MARK.findall(text)
    figures = list(MEASURED.finditer(text))
    assert len(figures) == len(marks), f"{markdown.name}: a measured mark does not follow a number"
    for figure in figures:
        assert figure["key"] in MEASURED_KEYS, f"unknown measured key {figure['key']}"
        stated = figure["number"].replace(",", "")
        digits = len(stated.split(".")[1]) if "." in stated else 0
        measured = measured_row(results, figure["key"])
        assert float(stated) == round(measured, digits), \
            f"{markdown.name}: {figure['key']} says {stated}, benchmarks/RESULTS.md {measured}"


def test_readme_and_lecture_quote_the_same_measurements():
    lecture = {m["key"] for m in MEASURED.finditer(LECTURE.read_text())}
    readme = {m["key"] for m in MEASURED.finditer((ROOT / "README.md").read_text())}
    assert readme and readme <= lecture, f"README quotes {readme - lecture} that the lecture does not"


# ----- figures in the prose ---------------------------------------------------------------------------------
def test_prose_figures_are_the_computed_ones():
    """Figures the lecture states in prose, each recomputed here from the code."""
    import numpy as np
    import soundfile as sf
    import torch
    from transformers import HubertForCTC, HubertModel

    from src.asr_config import ASRConfig
    from src.asr_modeling import ASRModel
    from src.audio import PCM16_LEVELS, SAMPLE_RATE, energy_share_above, load_audio, predicted_frames, resample
    from src.loading import resolve_encoder
    from src.lora import parameter_summary

    with torch.device("meta"):
        default = parameter_summary(ASRModel(ASRConfig()))
        smol = parameter_summary(ASRModel(ASRConfig(decoder="smollm3-3b", decoder_lora_rank=64)))
        hubert = {}
        for name in ("hubert-base-ls960", "hubert-large-ls960-ft", "hubert-xlarge-ls960-ft"):
            config = resolve_encoder(name).config
            hubert[name] = (sum(p.numel() for p in HubertModel(config).parameters()),
                            sum(p.numel() for p in HubertForCTC(config).parameters()))
    frames = predicted_frames(3 * SAMPLE_RATE)
    xlarge = hubert["hubert-xlarge-ls960-ft"][0]

    test_wav, stereo = load_audio(ROOT / "assets" / "test.wav"), load_audio(ROOT / "assets" / "test_44k_stereo.wav")
    as_int, _ = sf.read(ROOT / "assets" / "test.wav", dtype="int16")
    assert np.array_equal(as_int / 32768, test_wav.samples), "16-bit PCM is read as integer / 32,768"
    square = np.sign(np.sin(2 * np.pi * 1000 * np.arange(44_100) / 44_100)).astype(np.float32)  # 1 s at 44.1 kHz
    overshoot = np.abs(resample(square, 44_100, SAMPLE_RATE)).max()

    from src.audio import make_feature_extractor

    batch = make_feature_extractor()([test_wav.samples, stereo.samples], sampling_rate=SAMPLE_RATE,
                                     padding="longest", return_tensors="np")
    single = make_feature_extractor()(test_wav.samples, sampling_rate=SAMPLE_RATE, padding="longest")
    assert batch["input_values"].shape == (2, 72_000) and list(batch["attention_mask"].sum(1)) == [48_000, 72_000]
    assert not batch["input_values"][0, 48_000:].any() and single["input_values"][0].shape == (48_000,)

    figures = {
        f"{PCM16_LEVELS:,}": "65,536",
        f"by {PCM16_LEVELS // 2:,}": "by 32,768",
        f"peaks of about {overshoot:.1f}": "peaks of about 1.2",
        f"{10 ** (-3 / 20):.3f}": "0.708",  # -3 dBFS, the level the sample was made at
        f"about {np.abs(stereo.samples).max():.2f}": "about 0.36",
        f"{100 * energy_share_above(test_wav.samples, SAMPLE_RATE, 4000):.1f} %": "1.2 %",
        f"{3 * SAMPLE_RATE:,}": "48,000",
        f"{frames}": "149",
        f"{predicted_frames(SAMPLE_RATE)}": "49",
        f"{min(n for n in range(2_000) if predicted_frames(n) == 2)} samples": "720 samples",
        f"{3 * SAMPLE_RATE / frames:.1f}": "322.1",
        f"{1000 * 3 / frames:.1f} ms": "20.1 ms",
        f"{frames * 1280:,}": "190,720",
        f"[2, {batch['input_values'].shape[1]}]": "[2, 72000]",
        f"{72_000 - 48_000:,} zeros": "24,000 zeros",
        f"{xlarge:,}": "962,497,408",
        f"{hubert['hubert-xlarge-ls960-ft'][1]:,}": "962,538,400",
        f"{hubert['hubert-xlarge-ls960-ft'][1] - xlarge:,}-parameter": "40,992-parameter",
        f"{hubert['hubert-large-ls960-ft'][0]:,}": "315,438,720",
        f"{hubert['hubert-large-ls960-ft'][1]:,}": "315,471,520",
        f"{hubert['hubert-base-ls960'][0]:,}": "94,371,712",
        f"{xlarge * 4 / 1e9:.2f} GB": "3.85 GB",  # float32 weights
        f"{xlarge * 2 / 1e9:.1f} GB": "1.9 GB",  # bfloat16 weights
        f"{default['encoder'].trainable // 96:,}": "20,480",  # one adapted matrix: 48 layers x q, k
        f"{default['encoder'].frozen:,}": "962,497,408",
        f"{default['encoder'].trainable:,}": "1,966,080",
        f"{default['encoder'].trainable_percent:.2f} %": "0.20 %",
        f"{default['encoder'].total:,}": "964,463,488",
        f"{default['projector'].total:,}": "138,422,528",
        f"{default['decoder'].trainable // 36:,}": "106,496",
        f"{default['decoder'].trainable:,}": "3,833,856",
        f"{default['decoder'].frozen:,}": "8,190,735,360",
        f"{default['overall'].total:,}": "9,297,455,232",
        f"{default['overall'].trainable:,}": "144,222,464",
        f"{default['overall'].trainable_percent:.2f} %": "1.55 %",
        f"{smol['overall'].trainable:,}": "138,944,768",
        f"{smol['decoder'].trainable:,}": "15,335,424",
        f"{smol['projector'].total:,}": "121,643,264",
    }
    text = lecture_text()
    for computed, spec in figures.items():
        assert computed == spec, f"the code gives {computed}, the class specification {spec}"
        assert computed in text or computed.replace(" %", "%") in text, f"the lecture never states {computed}"
