"""Tests never touch the network, nor the user's own Hugging Face cache: the hub is switched off and the
cache pointed at an empty folder before anything imports huggingface_hub. CUDA is hidden so the figures
are the CPU's on every machine."""

import os
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="tiny-audio-hf-home-")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

pytest_plugins = ["grading_plugin"]

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"


@pytest.fixture(autouse=True)
def one_thread_unless_slow(request):
    """Tiny models run fastest on one thread (two OpenMP threads spin against each other on a busy 2-core
    machine, up to 10x slower); full-size runs, marked slow, keep every core."""
    if request.node.get_closest_marker("slow"):
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def test_wav() -> Path:
    return ASSETS / "test.wav"


@pytest.fixture(scope="session")
def stereo_wav() -> Path:
    return ASSETS / "test_44k_stereo.wav"


# ----- running exercises the way a student does ----------------------------------------------------------------
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

_RUNS: dict[tuple[str, ...], tuple[str, object]] = {}


def load_exercise(name: str):
    """Import exercises/<name>.py as a module (the folder is not a package). A fresh import each call."""
    spec = importlib.util.spec_from_file_location(f"exercise_{name}", ROOT / "exercises" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def student_folder(folder: Path) -> Path:
    """A working directory that looks like the repository root to a script: ``assets/`` is there."""
    if not (folder / "assets").exists():
        (folder / "assets").symlink_to(ASSETS, target_is_directory=True)
    return folder


def run_exercise(script: str, *args: str) -> tuple[str, object]:
    """Run ``exercises/<script>``'s main() in-process, from a fresh folder that holds ``assets/`` as the
    repository root does, so paths print as a student sees them. Returns (stdout, main's return value).
    Cached: each distinct invocation runs once per test session."""
    key = (script, *args)
    if key not in _RUNS:
        module = load_exercise(Path(script).stem)
        previous = Path.cwd()
        with tempfile.TemporaryDirectory() as workdir:
            os.chdir(student_folder(Path(workdir)))
            try:
                with contextlib.redirect_stdout(io.StringIO()) as out:
                    result = module.main(list(args))
            finally:
                os.chdir(previous)
        _RUNS[key] = (out.getvalue(), result)
    return _RUNS[key]


def run_script(script: str, *args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python exercises/<script> args`` as a separate process from ``cwd``, offline, with an empty Hugging
    Face cache inside ``cwd`` (``.hf-home``)."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(cwd / ".hf-home"), **(env or {})}
    return subprocess.run([sys.executable, str(ROOT / "exercises" / script), *map(str, args)], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=300)


@pytest.fixture
def run_inline(capsys, monkeypatch):
    """Like `run_script`, in this process: ``src.cli.run(main)`` with ``sys.argv`` set, as the script does.
    For cases that fail only after torch is imported, where a new process would cost seconds each."""
    from src.cli import run

    def run_inline(script: str, *args, cwd: Path) -> subprocess.CompletedProcess:
        module = load_exercise(Path(script).stem)
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", [script, *map(str, args)])
        capsys.readouterr()
        try:
            run(module.main)
            status = 0
        except SystemExit as exit_:
            status = exit_.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess([script, *args], status, out, err)

    return run_inline


def files_in(folder: Path) -> set[str]:
    """Every file and folder below ``folder``, but the empty Hugging Face cache `run_script` gives it."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.relative_to(folder).parts[0] != ".hf-home"}


def assert_fails_cleanly(runner, script: str, args: list, cwd: Path, *fragments: str) -> str:
    """Exit status 2, stderr exactly one line naming the problem, no traceback, no new file. Returns the line."""
    before = files_in(cwd)
    result = runner(script, *args, cwd=cwd)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{script}: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert files_in(cwd) == before  # no figure, no half-written temporary file
    return lines[0]
