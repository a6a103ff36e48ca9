"""The package installs, imports from anywhere and reports the version written in pyproject.toml."""

import subprocess
import sys
import tomllib
from pathlib import Path

import src

ROOT = Path(__file__).resolve().parents[1]


def test_version_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert src.__version__ == pyproject["project"]["version"]


def test_imports_from_any_working_directory(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", "import src, sys; print(src.__version__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip() == src.__version__
