"""exercises/check_setup.py: one table with a fix under every ⚠ and ✗; exit status 0 unless something blocks.

Offline here (HF_HUB_OFFLINE=1 and an empty Hugging Face cache, see conftest.py), under another Python when
this machine has one, with the stand-in hub for `--download` (tests/stand_in_hub.py, through test_hub.py's
fixture), and the verdicts as pure functions of made-up numbers. Not graded: it checks the machine, not the
student's work."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from collections import namedtuple
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from conftest import ROOT, load_exercise, run_script
from test_hub import BIN_ONLY, HUBERT, SHARDED, TEST_LIMITS, stand_in_hub, tiny_hubert, tiny_repos  # noqa: F401 - fixtures
from test_lecture import benchmark_results

check_setup = load_exercise("check_setup")
explore_hubert = load_exercise("explore_hubert")
GB = 1e9
XLARGE_NEEDS = {"float32": check_setup.NOT_WEIGHTS + 4 * check_setup.XLARGE_PARAMETERS,
                "bfloat16": check_setup.NOT_WEIGHTS + 2 * check_setup.XLARGE_PARAMETERS}


def run_main(*args: str) -> tuple[str, dict]:
    """main(args) in-process: (stdout, the report), also when it raises NotReadyError."""
    with redirect_stdout(io.StringIO()) as out:
        try:
            report = check_setup.main(list(args))
        except check_setup.NotReadyError as err:
            report = err.report
    return out.getvalue(), report


def rows(report: dict) -> dict[str, dict]:
    return {row["name"]: row for row in report["rows"]}


@pytest.fixture
def plenty_of_memory(monkeypatch):
    """16 GB available, whatever this machine has, so the verdicts do not depend on it."""
    import psutil

    memory = namedtuple("memory", "total available")
    monkeypatch.setattr(psutil, "virtual_memory", lambda: memory(32 * GB, 16 * GB))


# ----- offline, here --------------------------------------------------------------------------------------------
@pytest.mark.slow  # a whole process that imports torch: seconds
def test_offline_script_is_ready_with_the_weights_missing(tmp_path):
    """The student's first run before class: offline, nothing downloaded yet. Ready (exit 0); the missing weights
    are a warning with the command that downloads them."""
    result = run_script("check_setup.py", cwd=tmp_path, env={"PYTHONIOENCODING": "utf-8"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    for row in ("✓ Python", "✓ Packages", "✓ Device", "⚠ Hub", "⚠ Weights"):
        assert re.search(rf"^ +{row} ", out, re.M), f"no row '{row}' in:\n{out}"
    text = " ".join(out.split())  # the table wraps long lines
    assert "facebook/hubert-xlarge-ls960-ft is not in your Hugging Face cache" in text
    assert "fix: `poetry run python exercises/check_setup.py --download` downloads it (about 3.85 GB)" in text
    assert out.rstrip().splitlines()[-1] == "Ready for class. Read the ⚠ lines above."


def test_offline_report(plenty_of_memory):
    out, report = run_main()
    found = rows(report)
    assert [name for name in found] == ["Python", "Packages", "Device", "Hub", "Memory", "Disk", "Weights"]
    assert {name: row["status"] for name, row in found.items()} == {
        "Python": "ok", "Packages": "ok", "Device": "ok", "Hub": "warn", "Memory": "ok", "Disk": "ok",
        "Weights": "warn"}
    assert found["Hub"]["detail"].startswith("not asked: HF_HUB_OFFLINE is set")
    assert "--download" in found["Weights"]["fix"] and "random weights" in found["Weights"]["fix"]
    assert report["ready"] and report["exit_status"] == 0 and report["device"] == "cpu"
    assert report["parameters"] == check_setup.XLARGE_PARAMETERS  # counted on the meta device
    assert report["needs"] == XLARGE_NEEDS and report["dtype"] == "float32"
    assert "needs 4.87 GB in float32, 2.95 GB in bfloat16" in found["Memory"]["detail"]


def test_no_hub_asks_nothing(plenty_of_memory, monkeypatch):
    import src.hub

    def no_request(*args, **kwargs):
        raise AssertionError("--no-hub asked the hub")

    monkeypatch.setattr(check_setup, "download_size", no_request)
    monkeypatch.setattr(src.hub, "fetch_model", no_request)
    _, report = run_main("--no-hub")
    assert rows(report)["Hub"] == {"name": "Hub", "status": "skip", "detail": "not checked (--no-hub)", "fix": ""}
    assert report["ready"]


def test_a_console_that_cannot_print_the_marks(plenty_of_memory, monkeypatch):
    """Windows consoles piped to a file, old terminals: plain ASCII marks instead of ✓ ⚠ ✗."""
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    check_setup.main(["--no-hub", "--model", "tiny"])
    stdout.flush()
    out = stdout.buffer.getvalue().decode("ascii")
    assert re.search(r"^ ok Python ", out, re.M) and re.search(r"^ -- Hub ", out, re.M)
    assert out.rstrip().endswith("Ready for class.")


def test_something_blocking_is_one_line_and_exit_status_2(plenty_of_memory, monkeypatch, capsys):
    requirements = check_setup.project_requirements()
    monkeypatch.setattr(check_setup, "project_requirements", lambda: (">=3.99", *requirements[1:]))
    monkeypatch.setattr(sys, "argv", ["check_setup.py", "--no-hub", "--model", "tiny"])
    with pytest.raises(SystemExit) as stopped:
        check_setup.run(check_setup.main)
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert "✗ Python" in captured.out and "poetry python install 3.13 && poetry env use 3.13" in captured.out
    assert captured.out.rstrip().endswith("Not ready: fix the ✗ rows above.")
    assert captured.err == "check_setup.py: error: not ready for class: Python (the fixes are above)\n"


def test_on_a_cuda_gpu_or_apple_mps(plenty_of_memory, monkeypatch):
    """The GPU paths, with torch told that there is one (nothing runs on it here)."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *args: (3 * GB, 80 * GB))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *args: "a CUDA GPU")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args: False)
    _, report = run_main("--no-hub")
    found = rows(report)
    assert found["Device"]["detail"] == "cuda: a CUDA GPU, 80.00 GB (3.00 GB free); half precision: float16"
    assert found["GPU memory"]["status"] == "warn"  # 3 GB free: float16's 1.92 GB of weights + 1 GB fit
    assert found["GPU memory"]["fix"] == "run exercise 2 with `--dtype float16`"
    assert report["dtype"] == "float16" and report["ready"]

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    _, report = run_main("--no-hub")
    found = rows(report)
    assert found["Device"]["detail"].startswith("mps: the Apple silicon GPU, sharing the memory below; half "
                                                "precision: float16")
    assert "`--device cpu` or set PYTORCH_ENABLE_MPS_FALLBACK=1" in found["Device"]["detail"]
    assert "GPU memory" not in found and "float16" in found["Memory"]["detail"]


def test_unknown_model_is_a_usage_error():
    with pytest.raises(check_setup.UserError, match=r"^--model nonsense: unknown encoder; use a preset \("):
        check_setup.main(["--model", "nonsense"])


def other_python() -> str | None:
    """A Python outside the supported range on this machine (3.10, 3.9, 3.8), if there is one."""
    candidates = [shutil.which(f"python3.{minor}") for minor in (10, 9, 8)]
    candidates += sorted(str(p) for p in (Path.home() / ".pyenv" / "versions").glob("3.10*/bin/python3"))
    for candidate in filter(None, candidates):
        try:
            found = subprocess.run([candidate, "-c", "import sys; print(sys.version_info < (3, 11))"],
                                   capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if found.returncode == 0 and found.stdout.strip() == "True":
            return candidate
    return None


def test_under_an_unsupported_python(tmp_path):
    """Run by a Python the course does not support, without the project's packages: still one table, the
    Python row says how to get a supported one, and the exit status is 2."""
    python = other_python()
    if python is None:
        pytest.skip("no Python older than 3.11 on this machine")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    result = subprocess.run([python, str(ROOT / "exercises" / "check_setup.py"), "--no-hub"], cwd=tmp_path,
                            env={**environment, "PYTHONIOENCODING": "utf-8"}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(r"^ +✗ Python +3\.\d+\.\d+ .* is outside the course's range\s+>=3\.11,<3\.15", result.stdout,
                     re.M | re.S)
    assert "fix: `poetry python install 3.13 && poetry env use 3.13`, then `poetry install`" in result.stdout
    assert result.stderr.strip().startswith("check_setup.py: error: not ready for class: Python")


# ----- the verdicts, from made-up numbers ------------------------------------------------------------------------
@pytest.mark.parametrize("version, status", [("3.10.13", "fail"), ("3.11.0", "ok"), ("3.14.2", "ok"),
                                             ("3.15.0", "fail")])
@pytest.mark.parametrize("with_packaging", [True, False], ids=["packaging", "bare"])
def test_python_range(version, status, with_packaging, monkeypatch):
    if not with_packaging:  # a bare Python: the release numbers are compared without packaging
        monkeypatch.setitem(sys.modules, "packaging.specifiers", None)
    result = check_setup.python_result(version, ">=3.11,<3.15")
    assert result.status == status
    if status == "fail":
        assert f"{version} (" in result.detail and "is outside the course's range >=3.11,<3.15" in result.detail
        assert result.fix.startswith("`poetry python install 3.13 && poetry env use 3.13`, then `poetry install`")


@pytest.mark.parametrize("with_packaging", [True, False], ids=["packaging", "bare"])
def test_package_versions(with_packaging, monkeypatch):
    if not with_packaging:
        monkeypatch.setitem(sys.modules, "packaging.specifiers", None)
    assert check_setup.parse_requirement("torch (>=2.4,<2.11)") == ("torch", ">=2.4,<2.11")
    assert check_setup.parse_requirement("huggingface-hub>=1.0,<3") == ("huggingface-hub", ">=1.0,<3")
    assert check_setup.parse_requirement('pytest ; extra == "dev"') == (None, "")
    assert check_setup.version_in("2.10.0+cu128", ">=2.4,<2.11")
    assert not check_setup.version_in("2.11.0", ">=2.4,<2.11")
    assert not check_setup.version_in("4.57.1", ">=5.0,<6")


@pytest.mark.parametrize("available, status, fix", [
    (8 * GB, "ok", ""),
    (4 * GB, "warn", "run exercise 2 with `--dtype bfloat16` (its weights then take half the memory)"),
    (2 * GB, "fail", "close other programs to free 0.95 GB more, or run exercise 2 with a smaller model: "
                     "`--model hubert-large-ls960-ft` or `--model hubert-base-ls960` or `--model tiny`"),
])
def test_memory_verdict(available, status, fix):
    result = check_setup.memory_result(available, XLARGE_NEEDS, "hubert-xlarge-ls960-ft")
    assert (result.status, result.fix) == (status, fix)
    assert result.detail.startswith(f"{available / GB:.2f} GB available; exercise 2 with hubert-xlarge-ls960-ft "
                                    "needs 4.87 GB in float32, 2.95 GB in bfloat16")


def test_gpu_memory_verdict():
    needs = {"float32": 4.87 * GB, "float16": 2.94 * GB}
    assert check_setup.gpu_memory_result(6 * GB, needs).status == "ok"
    assert check_setup.gpu_memory_result(4 * GB, needs).fix == "run exercise 2 with `--dtype float16`"
    assert check_setup.gpu_memory_result(2 * GB, needs).fix.startswith("run exercise 2 with `--device cpu`")


def test_memory_figures_are_the_benchmarked_ones():
    """The needs are built from benchmarks/RESULTS.md: exercise 2's peak with HuBERT-XLarge's pretrained float32
    weights, the XLarge's parameter count, and exercise 1's peak on 10 minutes of audio."""
    results = benchmark_results()
    assert check_setup.EXERCISE2_PEAK == pytest.approx(results[("3", "whole process, peak RSS")] * GB)
    audio_10min = re.search(r"\| explore_audio: peak RSS; its figure \| ([\d.]+) GB",
                            (ROOT / "benchmarks" / "RESULTS.md").read_text())
    assert audio_10min, "benchmarks/RESULTS.md: no peak RSS of explore_audio on 10 minutes"
    assert check_setup.OTHERS_PEAK == pytest.approx(float(audio_10min[1]) * GB)
    assert f"weights must be resident ({check_setup.XLARGE_PARAMETERS * 4 / GB:.2f} GB" in \
        (ROOT / "benchmarks" / "RESULTS.md").read_text()  # 962,497,408 x 4 bytes
    assert check_setup.OTHERS_PEAK >= results[("1", "whole process, peak RSS")] * GB  # count_params.py


# ----- with the stand-in hub -------------------------------------------------------------------------------------
@pytest.mark.hub
def test_download_then_cached_then_exercise_2_offline(stand_in_hub, plenty_of_memory, monkeypatch):
    """--download fetches the weights and loads them once; the next run finds them in the cache; then
    exercise 2, offline, runs on the pretrained weights."""
    out, report = run_main("--model", HUBERT, "--download")
    found = rows(report)
    assert report["ready"], out
    assert found["Hub"]["status"] == "ok" and found["Hub"]["detail"].startswith(f"{stand_in_hub.endpoint} answered")
    assert found["Weights"]["status"] == "ok" and found["Weights"]["detail"].startswith(f"downloaded {HUBERT} (")
    assert found["Loading"]["status"] == "ok" and "1 s of silence -> [1, 49, 32]" in found["Loading"]["detail"]
    assert report["loaded_shape"] == (1, 49, 32)

    out, report = run_main("--model", HUBERT)
    assert rows(report)["Weights"]["detail"].startswith(f"{HUBERT} is in your Hugging Face cache (")
    assert "Loading" not in rows(report) and "Ready for class." in out

    stand_in_hub.stop()
    stand_in_hub.requests.clear()
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with redirect_stdout(io.StringIO()) as printed:
        result = explore_hubert.main(["--model", HUBERT])
    assert f"Weights:  pretrained weights from {HUBERT}" in printed.getvalue()
    assert result["weights"] == "pretrained" and stand_in_hub.requests == []


@pytest.mark.hub
def test_a_silent_hub_is_a_warning_in_bounded_time(stand_in_hub, plenty_of_memory):
    stand_in_hub.silent = True
    started = time.monotonic()
    out, report = run_main("--model", HUBERT)
    assert time.monotonic() - started < TEST_LIMITS.answer + 5
    found = rows(report)
    assert found["Hub"]["status"] == "warn" and "did not answer within 2 s" in found["Hub"]["detail"]
    assert "open any web page to log in" in found["Hub"]["fix"]
    assert found["Memory"]["status"] == "skip"  # the config.json of a hub id is not cached: no second wait
    assert found["Weights"]["status"] == "warn" and report["ready"]

    stand_in_hub.requests.clear()
    out, report = run_main("--model", HUBERT, "--download")  # the download is not tried after a silent hub
    assert not report["ready"] and report["exit_status"] == 2
    assert rows(report)["Weights"]["detail"].startswith("not downloaded: the Hugging Face hub at ")
    assert len(stand_in_hub.paths()) == 1  # the file list, asked once
    assert "Not ready: fix the ✗ rows above." in out


@pytest.mark.hub
def test_what_the_repository_holds(stand_in_hub, plenty_of_memory):
    """Sharded weights are counted shard by shard; pickled-only weights are a warning naming the converter."""
    _, report = run_main("--model", SHARDED)
    files = stand_in_hub.repos[SHARDED].files
    assert any(name.startswith("model-") for name in files)
    expected = check_setup.gb(sum(len(data) for data in files.values()))  # config, index, shards: all of it
    assert rows(report)["Hub"]["detail"].endswith(f"{SHARDED} has {expected} of safetensors weights and config")

    _, report = run_main("--model", BIN_ONLY)
    hub = rows(report)["Hub"]
    assert hub["status"] == "warn" and "only pytorch_model.bin" in hub["detail"]
    assert "`python tools/convert_to_safetensors.py tiny/hubert-bin hubert-bin-safetensors`" in hub["fix"]
