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


# ----- running exercises in-process ------------------------------------------------------------------------
import contextlib  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402

_RUNS: dict[tuple[str, ...], tuple[str, object]] = {}


def load_exercise(name: str):
    """Import exercises/<name>.py as a module (the folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"exercise_{name}", ROOT / "exercises" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_exercise(script: str, *args: str) -> tuple[str, object]:
    """Run ``exercises/<script>`` via its main() in a fresh temporary working directory, as a student would
    from the repository root (arguments naming repo files are passed as absolute paths). Returns
    (stdout, main's return value). Cached: each distinct invocation runs once per test session."""
    key = (script, *args)
    if key not in _RUNS:
        argv = [str(ROOT / a) if (ROOT / a).exists() and not a.startswith("-") else a for a in args]
        module = load_exercise(Path(script).stem)
        previous = Path.cwd()
        with tempfile.TemporaryDirectory() as workdir:
            os.chdir(workdir)
            try:
                with contextlib.redirect_stdout(io.StringIO()) as out:
                    result = module.main(argv)
            finally:
                os.chdir(previous)
        _RUNS[key] = (out.getvalue(), result)
    return _RUNS[key]
