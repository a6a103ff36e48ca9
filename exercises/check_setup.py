"""Before class: can this machine run the exercises? One table, with the fix under every problem.

The checks, in order: Python, the packages, the device, the Hugging Face hub (one bounded request), the
memory exercise 2 needs (float32 and half precision), the disk for the weights, and whether HuBERT's
pretrained weights are in your Hugging Face cache. ✓ fine; ⚠ the exercises run, but read the line under
it; ✗ something blocks: do what the line under it says, then run this again.

    poetry run python exercises/check_setup.py              # the checks, in seconds
    poetry run python exercises/check_setup.py --download   # also download HuBERT-XLarge (3.9 GB) and load it once

Download the weights at home, the day before: a classroom downloading 3.9 GB each over one Wi-Fi does not
start on time. Exit status 0 when the exercises can run (weights that are not downloaded yet are only a
warning: exercise 2 then runs with random weights), 2 when something blocks.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import NamedTuple

try:
    import src  # noqa: F401 - installed by `poetry install`
except ImportError:  # run by a Python without the project installed: still check it, from this checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from src.cli import ArgumentParser, pick_device, progress, run
from src.errors import UserError
from src.hub import (CONVERT_COMMAND, HubError, HubOfflineError, cache_dir, cached_model, download_size,
                     fetch_model, human_size)
from src.presets import ENCODER_PRESETS, find_encoder_preset

PROJECT = "tiny-audio-class2"
DEFAULT_MODEL = "hubert-xlarge-ls960-ft"
ROOT = Path(__file__).resolve().parents[1]
PYTHON_FIX = ("`poetry python install 3.13 && poetry env use 3.13`, then `poetry install`, and run this again "
              "with `poetry run python exercises/check_setup.py`")

# Memory, as benchmarks/run.py measured it (benchmarks/RESULTS.md; tests/test_check_setup.py compares):
EXERCISE2_PEAK = 4.87e9  # case 3: explore_hubert.py with HuBERT-XLarge's pretrained float32 weights
XLARGE_PARAMETERS = 962_497_408  # HuBERT-XLarge: 962,497,408 x 4 bytes = 3.85 GB of float32 weights
NOT_WEIGHTS = EXERCISE2_PEAK - 4 * XLARGE_PARAMETERS  # 1.0 GB: Python, torch, transformers, the forward pass
OTHERS_PEAK = 1.07e9  # case 5: explore_audio.py on 10 minutes of audio; count_params.py: 0.95 GB (case 1)
GPU_SPARE = 1e9  # on a CUDA GPU, room beside the weights for a 30 s window's activations (an allowance)
DISK_SPARE = 1e9  # free disk to keep beside a download


def main(argv: list[str] | None = None) -> dict:
    """Run the checks, one table row each, and say whether the exercises can run."""
    args = parse_args(argv)
    setup = Setup.for_model(args.model, download=args.download, ask_hub=not args.no_hub)
    table = Table()
    print(f"Checking this machine for the class 2 exercises (encoder: {args.model})\n")
    for name, check in CHECKS:
        table.add(name, checked(check, setup))
    return table.verdict(setup)


# ----- the checks: each returns ok / warn / fail / skip (or None: no row) ------------------------------------
def check_python(setup: Setup) -> Result:
    version = ".".join(map(str, sys.version_info[:3]))
    return python_result(version, project_requirements()[0])


def check_packages(setup: Setup) -> Result:
    _, requirements, source = project_requirements()
    found, missing, outside = [], [], []
    for requirement in requirements:
        name, spec = parse_requirement(requirement)
        if name is None:
            continue
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
            continue
        found.append(f"{name} {version}")
        if spec and not version_in(version, spec):
            outside.append(f"{name} {version} (needs {spec})")
    problems = ([f"{PROJECT} is not installed in this Python ({sys.executable})"] if source != "metadata" else []) \
        + ([f"missing: {', '.join(missing)}"] if missing else []) \
        + ([f"outside pyproject.toml's range: {', '.join(outside)}"] if outside else [])
    if problems:
        return fail("; ".join(problems), "`poetry install` (the versions in poetry.lock), then run this again with "
                                         "`poetry run python exercises/check_setup.py`")
    return ok(", ".join(found))


def check_device(setup: Setup) -> Result:
    import torch

    setup.device = device = pick_device("auto")  # what the exercises' --device auto picks
    if device.type == "cuda":
        free, total = torch.cuda.mem_get_info()
        setup.gpu_free = free
        setup.half = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        return ok(f"cuda: {torch.cuda.get_device_name()}, {gb(total)} ({gb(free)} free); half precision: "
                  f"{setup.half}")
    if device.type == "mps":
        setup.half = "float16"
        return ok("mps: the Apple silicon GPU, sharing the memory below; half precision: float16; if an "
                  "operation is missing on MPS, run the exercise with `--device cpu` or set "
                  "PYTORCH_ENABLE_MPS_FALLBACK=1")
    setup.half = "bfloat16"
    return ok(f"cpu ({os.cpu_count()} cores): no CUDA GPU or Apple MPS, and the exercises need none")


def check_hub(setup: Setup) -> Result:
    if setup.hub_id is None:
        return skip(f"not needed: {setup.model} {setup.why_no_hub()}")
    if not setup.ask_hub:
        return skip("not checked (--no-hub)")
    from huggingface_hub import constants

    started = time.monotonic()
    try:
        setup.download_bytes = download_size(setup.hub_id, on_progress=progress)  # src/hub.py: bounded
    except HubOfflineError as err:
        setup.hub_error = err
        return warn("not asked: HF_HUB_OFFLINE is set, so only your Hugging Face cache is used",
                    "unset HF_HUB_OFFLINE when you want to download (once the weights are cached, offline is fine)")
    except HubError as err:
        setup.hub_error = err
        return warn(err.cause, err.fix)
    setup.hub_answered = True
    return ok(f"{constants.ENDPOINT} answered in {time.monotonic() - started:.1f} s; {setup.hub_id} has "
              f"{gb(setup.download_bytes)} of safetensors weights and config")


def check_memory(setup: Setup) -> Result:
    import psutil

    parameters = setup.parameters()
    if parameters is None:
        return skip(f"not checked: the size of {setup.model} is unknown ({setup.unknown_size})")
    needs = {"float32": NOT_WEIGHTS + 4 * parameters, setup.half: NOT_WEIGHTS + 2 * parameters}
    available = psutil.virtual_memory().available
    result = memory_result(available, needs, setup.model)
    setup.dtype = fitting(available, needs)
    setup.report.update(parameters=parameters, needs=needs, available=available)
    return result


def check_gpu_memory(setup: Setup) -> Result | None:
    if setup.gpu_free is None or setup.parameters() is None:
        return None  # no CUDA GPU: no row
    import torch

    needs = {"float32": 4 * setup.parameters() + GPU_SPARE, setup.half: 2 * setup.parameters() + GPU_SPARE}
    on_gpu = fitting(setup.gpu_free, needs)
    if on_gpu is None:
        setup.device = torch.device("cpu")  # what the fix says: the Loading check runs on the CPU
    elif setup.dtype is not None and on_gpu != "float32":
        setup.dtype = on_gpu  # the Loading check uses what fits both
    return gpu_memory_result(setup.gpu_free, needs)


def check_disk(setup: Setup) -> Result:
    folder = cache_dir()
    existing = next(parent for parent in (folder, *folder.parents) if parent.exists())
    free = shutil.disk_usage(existing).free
    text = f"{gb(free)} free at {folder}"
    if setup.cached_weights() is not None or setup.hub_id is None:
        return ok(f"{text}; no download needed")
    need = setup.download_bytes or setup.estimated_download()
    if need is None:
        return ok(f"{text}; the size of the download is not known yet")
    text += f"; the weights need {setup.download_text()}"
    fix = "free some space, or set HF_HOME to a folder on a larger disk (the cache is then in that folder)"
    if free < need:
        return fail(text, fix) if setup.download else warn(text, fix + "; exercise 2 runs with random weights")
    return ok(text) if free >= need + DISK_SPARE else warn(f"{text}, leaving less than {gb(DISK_SPARE)}", fix)


def check_weights(setup: Setup) -> Result:
    if setup.hub_id is None:
        return check_local_weights(setup)
    snapshot = setup.cached_weights()
    if snapshot is not None:
        return ok(f"{setup.hub_id} is in your Hugging Face cache ({gb(folder_size(snapshot))}, {snapshot})")
    if setup.download:
        return download(setup)
    size = f" ({setup.download_text()})" if setup.download_text() else ""
    partial = sum(f.stat().st_size for f in setup.cache_folder().glob("blobs/*.incomplete"))
    return warn(f"{setup.hub_id} is not in your Hugging Face cache ({cache_dir()}): exercise 2 would use "
                f"random weights" + (f"; {gb(partial)} of an earlier download is kept" if partial else ""),
                f"`poetry run python exercises/check_setup.py{setup.model_option()} --download` downloads it"
                f"{size} and checks that it loads; meanwhile the exercises run with random weights")


def check_loading(setup: Setup) -> Result | None:
    if not setup.download or (setup.hub_id is None and setup.folder is None):
        return None  # no row without --download, nor for a model that has no pretrained weights
    if setup.hub_id is not None and setup.cached_weights() is None:
        return skip("not tried: the weights are not downloaded (see above)")
    if setup.dtype is None:
        return skip("not tried: not enough memory to load it (see Memory)")
    import torch

    from src.audio import SAMPLE_RATE, predicted_frames
    from src.encoder import load_encoder

    started = time.perf_counter()
    try:
        encoder, _ = load_encoder(setup.model, weights="pretrained", dtype=getattr(torch, setup.dtype),
                                  on_progress=progress)
        encoder = encoder.to(setup.device)
        loaded = time.perf_counter() - started
        with torch.inference_mode():
            hidden, _ = encoder(torch.zeros(1, SAMPLE_RATE, device=setup.device))  # 1 s of silence -> [1, 49, H]
    except UserError as err:
        return fail(str(err), "run `--download` again; if this repeats, delete the model's folder in "
                              f"{cache_dir()} and download it afresh")
    except RuntimeError as err:  # an operation the device lacks, or its memory ran out
        message = " ".join(str(err).split())[:200]
        return fail(f"loading or running it on {setup.device.type} failed: {message}",
                    "run the exercises with `--device cpu`" + (" or set PYTORCH_ENABLE_MPS_FALLBACK=1"
                                                                if setup.device.type == "mps" else ""))
    expected = (1, predicted_frames(SAMPLE_RATE), encoder.hubert.config.hidden_size)
    shape = tuple(hidden.shape)
    if shape != expected or not torch.isfinite(hidden).all():
        return fail(f"1 s of silence gave {list(shape)} (expected {list(expected)}) or values that are not finite",
                    "delete the model's folder in your Hugging Face cache and run `--download` again")
    setup.report["loaded_shape"] = shape
    return ok(f"loads in {loaded:.1f} s ({setup.dtype}, {setup.device.type}); 1 s of silence -> {list(shape)}")


CHECKS = [("Python", check_python), ("Packages", check_packages), ("Device", check_device), ("Hub", check_hub),
          ("Memory", check_memory), ("GPU memory", check_gpu_memory), ("Disk", check_disk),
          ("Weights", check_weights), ("Loading", check_loading)]


# ----- the verdicts, as pure functions of what was measured --------------------------------------------------
def python_result(version: str, supported: str | None) -> Result:
    """✓ when ``version`` ("3.13.1") is in the ``supported`` range (">=3.11,<3.15"), else ✗ with the fix."""
    where = f"{version} ({sys.executable})"
    if supported is None:
        return warn(f"{where}; the supported range is unknown (no pyproject.toml)", PYTHON_FIX)
    if version_in(version, supported):
        return ok(f"{where}; the course supports {supported}")
    return fail(f"{where} is outside the course's range {supported}", PYTHON_FIX)


def fitting(available: float, needs: dict[str, float]) -> str | None:
    """The first precision in ``needs`` (float32, then half) that fits into ``available`` bytes, or None."""
    return next((dtype for dtype, need in needs.items() if need <= available), None)


def memory_result(available: float, needs: dict[str, float], model: str) -> Result:
    """✓ when float32 fits, ⚠ (use half precision) when only half precision does, ✗ when neither does."""
    half = list(needs)[1]
    text = (f"{gb(available)} available; exercise 2 with {model} needs {gb(needs['float32'])} in float32, "
            f"{gb(needs[half])} in {half} (exercises 1 and 3: about {gb(OTHERS_PEAK)})")
    dtype = fitting(available, needs)
    if dtype == "float32":
        return ok(text)
    if dtype is not None:
        return warn(text, f"run exercise 2 with `--dtype {half}` (its weights then take half the memory)")
    names = list(ENCODER_PRESETS)  # largest first
    smaller = names[names.index(model) + 1:] if model in names else ["tiny"]
    fix = f"close other programs to free {gb(needs[half] - available)} more"
    if smaller:
        fix += f", or run exercise 2 with a smaller model: {' or '.join(f'`--model {name}`' for name in smaller)}"
    return fail(text, fix)


def gpu_memory_result(free: float, needs: dict[str, float]) -> Result:
    """Like `memory_result`, for a CUDA GPU's free memory; when neither fits, ⚠: run on the CPU."""
    half = list(needs)[1]
    text = f"{gb(free)} free on the GPU; exercise 2 needs {gb(needs['float32'])} in float32, {gb(needs[half])} in {half}"
    dtype = fitting(free, needs)
    if dtype == "float32":
        return ok(text)
    if dtype is not None:
        return warn(text, f"run exercise 2 with `--dtype {half}`")
    return warn(text, "run exercise 2 with `--device cpu`, or stop what else uses the GPU")


# ----- plumbing: the model, the requirements, the table ------------------------------------------------------
class Result(NamedTuple):
    status: str  # "ok", "warn" (runs, but read the fix), "fail" (blocks) or "skip" (not checked)
    detail: str
    fix: str = ""


def ok(detail: str) -> Result:
    return Result("ok", detail)


def warn(detail: str, fix: str) -> Result:
    return Result("warn", detail, fix)


def fail(detail: str, fix: str) -> Result:
    return Result("fail", detail, fix)


def skip(detail: str) -> Result:
    return Result("skip", detail)


def checked(check, setup: Setup) -> Result | None:
    """``check(setup)``; a package it needs that is missing makes it a skipped row (Packages says why)."""
    try:
        return check(setup)
    except ImportError as err:
        return skip(f"not checked: {err.name or err} cannot be imported (see Packages)")


class Setup:
    """The model being checked for, the options, and what the checks found so far (for the checks after them)."""

    def __init__(self, model: str, hub_id: str | None, folder: Path | None, download: bool, ask_hub: bool):
        self.model, self.hub_id, self.folder = model, hub_id, folder
        self.download, self.ask_hub = download, ask_hub
        self.device = None  # torch.device: what --device auto picks (Device)
        self.half = "bfloat16"  # the half precision the device supports (Device)
        self.gpu_free: int | None = None  # free CUDA memory in bytes (Device)
        self.hub_answered, self.hub_error = False, None  # (Hub)
        self.download_bytes: int | None = None  # what a download would fetch, as the hub says (Hub)
        self.dtype: str | None = "float32"  # the precision that fits in memory; None: none does (Memory)
        self.report: dict = {}  # figures for main's return value
        self._parameters: int | None | bool = False  # not counted yet
        self.unknown_size = ""  # why the parameters could not be counted

    @classmethod
    def for_model(cls, name: str, download: bool, ask_hub: bool) -> Setup:
        """A preset, a hub id or a local folder, told apart without torch; anything else is a usage error."""
        preset, path = find_encoder_preset(name), Path(name).expanduser()
        if preset is not None:
            return cls(name, preset.hub_id, None, download, ask_hub)
        if path.is_dir():
            return cls(name, None, path, download, ask_hub)
        if name.count("/") == 1 and not path.exists():
            return cls(name, name, None, download, ask_hub)
        raise UserError(f"--model {name}: unknown encoder; use a preset ({', '.join(ENCODER_PRESETS)}), a hub id "
                        "(org/name) or a local folder with config.json and model.safetensors")

    def why_no_hub(self) -> str:
        return "is a local folder" if self.folder is not None else "has no pretrained weights (random only)"

    def model_option(self) -> str:
        return "" if self.model == DEFAULT_MODEL else f" --model {self.model}"

    def cache_folder(self) -> Path:
        return cache_dir() / ("models--" + (self.hub_id or "").replace("/", "--"))

    def cached_weights(self) -> Path | None:
        return cached_model(self.hub_id) if self.hub_id is not None else None

    def estimated_download(self) -> int | None:
        """The float32 weights' bytes, computed from the parameter count (the hub's own figure is better)."""
        return 4 * self.parameters() if self.parameters() else None

    def download_text(self) -> str:
        if self.download_bytes:
            return gb(self.download_bytes)
        return f"about {gb(self.estimated_download())}" if self.estimated_download() else ""

    def parameters(self) -> int | None:
        """The encoder's parameter count, from its configuration (a meta-device build: shapes, no memory).
        None when a hub id's config.json is neither cached nor reachable."""
        if self._parameters is False:
            self._parameters = self._count()
        return self._parameters

    def _count(self) -> int | None:
        import torch
        from transformers import HubertModel

        from src.errors import ModelNotFoundError
        from src.loading import resolve_encoder

        if self.hub_id is not None and find_encoder_preset(self.model) is None and not self.hub_answered:
            from huggingface_hub import try_to_load_from_cache

            if not isinstance(try_to_load_from_cache(self.hub_id, "config.json"), str):
                self.unknown_size = "its config.json is not in your Hugging Face cache, and the hub was not reached"
                return None  # asking the hub for it here would wait again on a hub that did not answer
        try:
            config = resolve_encoder(self.model).config
        except ModelNotFoundError as err:
            self.unknown_size = str(err)
            return None
        with torch.device("meta"):
            return sum(p.numel() for p in HubertModel(config).parameters())


class Table:
    """Prints each row as it comes: mark, name, detail, and the fix on its own line under a ⚠ or ✗."""

    MARKS = {"ok": "✓", "warn": "⚠", "fail": "✗", "skip": "-"}
    ASCII_MARKS = {"ok": "ok", "warn": "!!", "fail": "XX", "skip": "--"}  # for a console that cannot print ✓
    WIDTH = 100

    def __init__(self):
        self.rows: list[dict] = []
        encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
        try:
            "".join(self.MARKS.values()).encode(encoding)
            self.marks = self.MARKS
        except (UnicodeEncodeError, LookupError):
            self.marks = self.ASCII_MARKS

    def add(self, name: str, result: Result | None) -> None:
        if result is None:
            return
        self.rows.append({"name": name, **result._asdict()})
        indent = " " * 15
        lines = textwrap.wrap(result.detail, self.WIDTH - len(indent), break_long_words=False, break_on_hyphens=False)
        print(f"{self.marks[result.status]:>3} {name:<10} {lines[0] if lines else ''}")
        for line in lines[1:]:
            print(indent + line)
        if result.fix:
            for i, line in enumerate(textwrap.wrap(f"fix: {result.fix}", self.WIDTH - len(indent) - 2,
                                                   break_long_words=False, break_on_hyphens=False)):
                print(indent + ("" if i == 0 else "     ") + line)
        sys.stdout.flush()

    def verdict(self, setup: Setup) -> dict:
        failed = [row["name"] for row in self.rows if row["status"] == "fail"]
        warnings = sum(row["status"] == "warn" for row in self.rows)
        report = {"model": setup.model, "rows": self.rows, "ready": not failed, "exit_status": 2 if failed else 0,
                  "device": getattr(setup.device, "type", None), "dtype": setup.dtype, **setup.report}
        if failed:
            print(f"\nNot ready: fix the {self.marks['fail']} rows above.")
            raise NotReadyError(f"not ready for class: {', '.join(failed)} (the fixes are above)", report)
        print("\nReady for class." + (f" Read the {self.marks['warn']} lines above." if warnings else ""))
        return report


class NotReadyError(UserError):
    """Something blocks the exercises; ``report`` is what `main` would have returned."""

    def __init__(self, message: str, report: dict):
        super().__init__(message)
        self.report = report


def gb(count: float) -> str:
    """Bytes in GB (10^9) with two decimals, as benchmarks/RESULTS.md gives them; small files as the hub does."""
    return f"{count / 1e9:.2f} GB" if count >= 1e8 else human_size(count)


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())  # follows the cache's links


def check_local_weights(setup: Setup) -> Result:
    if setup.folder is None:
        return skip(f"not needed: {setup.model} {setup.why_no_hub()}")
    if any(setup.folder.glob("*.safetensors")):
        return ok(f"{setup.folder} holds safetensors weights")
    if any(setup.folder.glob("pytorch_model*.bin")):
        return warn(f"{setup.folder} holds only pytorch_model.bin, a pickle this course does not load",
                    f"convert it once: `{CONVERT_COMMAND} {setup.folder} <new folder>`")
    return warn(f"no model.safetensors in {setup.folder}: exercise 2 would use random weights",
                "save the model there with save_pretrained(folder), which writes model.safetensors")


def download(setup: Setup) -> Result:
    if setup.hub_error is not None:  # the hub did not answer a moment ago: no second wait
        return fail(f"not downloaded: {setup.hub_error.cause}", setup.hub_error.fix)
    started = time.monotonic()
    try:
        snapshot = fetch_model(setup.hub_id)  # src/hub.py: progress on stderr, resumable
    except HubError as err:
        return fail(f"the download failed: {err.cause}", err.fix)
    return ok(f"downloaded {setup.hub_id} ({gb(folder_size(snapshot))}) in {time.monotonic() - started:.0f} s "
              f"into {snapshot}")


def project_requirements() -> tuple[str | None, list[str], str]:
    """(requires-python, the dependencies, where they were read: "metadata" of the installed package, else
    "pyproject.toml" of this checkout, which is all a Python without `poetry install` has)."""
    try:
        metadata = importlib.metadata.metadata(PROJECT)
        return metadata["Requires-Python"], metadata.get_all("Requires-Dist") or [], "metadata"
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None, [], "nowhere"
    python = re.search(r'^requires-python\s*=\s*"([^"]+)"', text, re.M)
    block = re.search(r"^dependencies\s*=\s*\[(.*?)^\]", text, re.M | re.S)
    return (python[1] if python else None), re.findall(r'^\s*"([^"]+)"', block[1] if block else "", re.M), \
        "pyproject.toml"


def parse_requirement(text: str) -> tuple[str | None, str]:
    """``"torch (>=2.4,<2.11)"`` or ``"torch>=2.4,<2.11"`` -> ("torch", ">=2.4,<2.11"); (None, "") for an extra's."""
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*\(?([^;()]*)\)?\s*(?:;(.*))?", text)
    if match is None or (match[3] and "extra" in match[3]):
        return None, ""
    return match[1], match[2].replace(" ", "")


def version_in(version: str, spec: str) -> bool:
    """Is ``version`` in ``spec`` (">=3.11,<3.15")? packaging's answer, or plain release numbers without it."""
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:  # a bare Python: compare the release numbers (2.10.0+cu128 -> 2, 10, 0)
        def release(text: str) -> tuple[int, ...]:
            found = re.match(r"\d+(\.\d+)*", text.strip())
            return tuple(int(part) for part in found[0].split(".")) if found else ()

        ours = release(version)
        for clause in filter(None, spec.split(",")):
            op, bound = re.fullmatch(r"\s*(~=|==|!=|>=|<=|>|<)?\s*(.*)", clause).groups()
            other = release(bound)
            width = max(len(ours), len(other))
            a, b = ours + (0,) * (width - len(ours)), other + (0,) * (width - len(other))
            if not {"~=": a >= b, ">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "!=": a != b}.get(op, a == b):
                return False
        return True
    return SpecifierSet(spec).contains(version, prereleases=True)



def parse_args(argv: list[str] | None):
    parser = ArgumentParser(prog="check_setup.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"the encoder exercise 2 will use: a preset ({', '.join(ENCODER_PRESETS)}), hub id, or "
                             "local folder")
    parser.add_argument("--download", action="store_true",
                        help="download the encoder's pretrained weights into your Hugging Face cache (with "
                             "progress; an interrupted download continues next time) and check that they load")
    parser.add_argument("--no-hub", action="store_true", help="do not ask the Hugging Face hub anything")
    return parser.parse_args(argv)


if __name__ == "__main__":
    run(main)
