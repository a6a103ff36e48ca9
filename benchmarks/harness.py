"""Run one benchmark case as a child process and measure it from the outside.

`run_child` starts the command with ``subprocess.Popen``, reaps it with ``os.wait4`` (wall time from just
before the start to the reap, peak RSS from ``ru_maxrss``, which on Linux covers the child and every
descendant it waited for) and timestamps every line the child writes. When a line arrives the child's
current and peak RSS are read from ``/proc/<pid>/status``, so a script's own progress lines ("Building ...",
"Encoding ...") become time and memory checkpoints without changing the script; the RSS is also sampled
every ``SAMPLE_S`` seconds, so a long run's memory over time is known even where it prints nothing.

This module uses only the standard library: the parent process stays light and never imports torch.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
WORK = BENCH_DIR / ".work"
LOGS = WORK / "logs"
PYCACHE = WORK / "pycache"  # children's compiled bytecode (PYTHONPYCACHEPREFIX): warm, and outside the venv
SAMPLE_S = 0.25

GB = 1e9  # figures are reported in decimal GB (10^9 bytes), like "3.85 GB of weights"

# Linux carries the peak RSS of the memory image a process replaces at exec() into its ru_maxrss. With vfork
# (Python's default since 3.10) that image is this parent's, so every child would report at least the
# parent's *peak* RSS. A plain fork copies only the parent's *current* RSS, which stays small (~20 MB) here;
# `floor_kib` records it at every start so the report can say how low a figure can meaningfully go.
subprocess._USE_VFORK = False


@dataclass
class Line:
    t: float  # seconds since the child was started (as seen by the parent)
    stream: str  # "out" or "err"
    text: str
    rss_kib: int | None  # the child's VmRSS when the parent read the line
    hwm_kib: int | None  # the child's VmHWM (peak RSS so far) when the parent read the line


@dataclass
class ChildResult:
    label: str
    cmd: list[str]
    rc: int
    wall_s: float
    maxrss_kib: int
    user_s: float
    sys_s: float
    lines: list[Line] = field(default_factory=list)
    log: Path | None = None
    timed_out: bool = False
    floor_kib: int | None = None  # the parent's RSS when the child started: the least ru_maxrss can show
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, VmRSS KiB)

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    @property
    def peak_gb(self) -> float:
        return self.maxrss_kib * 1024 / GB

    def first(self, pattern: str) -> Line | None:
        """The first line matching the regular expression ``pattern``."""
        regex = re.compile(pattern)
        return next((line for line in self.lines if regex.search(line.text)), None)

    def stdout(self) -> str:
        return "\n".join(line.text for line in self.lines if line.stream == "out")

    def tail(self, n: int = 15) -> str:
        return "\n".join(f"[{line.stream}] {line.text}" for line in self.lines[-n:])

    def marks(self, patterns) -> list[float | None]:
        """Seconds since the start at the first line matching each pattern, then at the last line and the exit."""
        return [getattr(self.first(p), "t", None) for p in patterns] + [
            self.lines[-1].t if self.lines else None, self.wall_s]

    def phases(self, patterns) -> list[float | None]:
        """Durations between successive marks, from the start: len(patterns) + 2 phases (the last: shutdown)."""
        marks = [0.0, *self.marks(patterns)]
        return [None if a is None or b is None else b - a for a, b in zip(marks, marks[1:])]

    def memory(self, patterns) -> dict[str, int] | None:
        """Bytes of RSS at the first mark (imports), added by the next (the build) with the transient peak
        above it, and the whole run's peak above the RSS at the third (the forward pass's activations)."""
        lines = [self.first(p) for p in patterns[:3]]
        if not all(line and line.rss_kib and line.hwm_kib for line in lines):
            return None
        imports, built, before = (line.rss_kib * 1024 for line in lines)
        return {"imports": imports, "weights": built - imports, "build_transient": lines[1].hwm_kib * 1024 - built,
                "encoding": self.maxrss_kib * 1024 - before, "peak": self.maxrss_kib * 1024}


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a student has. Bytecode is cached (this build machine sets PYTHONDONTWRITEBYTECODE,
    with which every start recompiles torch's modules, ~5 s that no student pays), under benchmarks/.work so
    the shared venv is left untouched. Output is unbuffered (PYTHONUNBUFFERED=1): in a terminal stdout is
    line-buffered, so each line arrives when it is printed and its timestamp marks a point in the run."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update({"PYTHONPYCACHEPREFIX": str(PYCACHE), "PYTHONUNBUFFERED": "1"}, **(extra or {}))
    return env


def _proc_status(pid: int) -> tuple[int | None, int | None]:
    rss = hwm = None
    try:
        with open(f"/proc/{pid}/status") as status:
            for row in status:
                if row.startswith("VmRSS:"):
                    rss = int(row.split()[1])
                elif row.startswith("VmHWM:"):
                    hwm = int(row.split()[1])
    except (OSError, ValueError):
        pass
    return rss, hwm


def run_child(cmd: list[str], label: str, *, env: dict[str, str] | None = None, cwd: Path = REPO,
              timeout_s: float = 1800.0, echo: bool = False) -> ChildResult:
    """Run ``cmd`` to completion; return its wall time, peak RSS, CPU time and timestamped output lines."""
    lines: list[Line] = []
    lock = threading.Lock()
    floor, _ = _proc_status(os.getpid())
    started = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=child_env(env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def read(stream, name: str) -> None:
        for raw in iter(stream.readline, b""):
            now = time.perf_counter() - started
            rss, hwm = _proc_status(proc.pid)
            text = raw.decode("utf-8", "replace").rstrip("\n")
            for part in text.split("\r"):  # progress bars rewrite their line with \r
                if part.strip():
                    with lock:
                        lines.append(Line(now, name, part, rss, hwm))
                    if echo:
                        print(f"    | {part}", file=sys.stderr, flush=True)
        stream.close()

    readers = [threading.Thread(target=read, args=(proc.stdout, "out"), daemon=True),
               threading.Thread(target=read, args=(proc.stderr, "err"), daemon=True)]
    for reader in readers:
        reader.start()
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(SAMPLE_S):
            rss, _ = _proc_status(proc.pid)
            if rss:
                samples.append((time.perf_counter() - started, rss))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timer = threading.Timer(timeout_s, kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    timer.cancel()
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join(timeout=10)
    lines.sort(key=lambda line: line.t)

    LOGS.mkdir(parents=True, exist_ok=True)
    log = LOGS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}.log"
    with open(log, "w") as handle:
        handle.write(f"$ {' '.join(map(str, cmd))}\n# rc={proc.returncode} wall={wall:.3f}s "
                     f"maxrss={usage.ru_maxrss} KiB user={usage.ru_utime:.2f}s sys={usage.ru_stime:.2f}s\n")
        for line in lines:
            rss = f"{line.rss_kib / 1024:.0f}" if line.rss_kib else "-"
            handle.write(f"{line.t:9.3f} {line.stream} rss={rss:>6} MiB | {line.text}\n")
    return ChildResult(label, [str(c) for c in cmd], proc.returncode, wall, usage.ru_maxrss, usage.ru_utime,
                       usage.ru_stime, lines, log, timed_out.is_set(), floor, samples)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def loadavg() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _meminfo_gb(key: str = "MemTotal") -> float | None:
    try:
        with open("/proc/meminfo") as handle:
            for row in handle:
                if row.startswith(f"{key}:"):
                    return int(row.split()[1]) * 1024 / GB
    except OSError:
        pass
    return None


def _cpu_model() -> str:
    model, family, number = platform.processor() or "?", None, None
    try:
        with open("/proc/cpuinfo") as handle:
            for row in handle:
                key, _, value = row.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name" and model in ("?", "x86_64", ""):
                    model = value
                elif key == "cpu family" and family is None:
                    family = value
                elif key == "model" and number is None:
                    number = value
                elif key == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        flags = set()
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    extra = f", family {family} model {number}" if family else ""
    return f"{model}{extra} ({simd})"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info() -> dict[str, str]:
    """What the figures were measured on; the parent reads it without importing torch."""
    # The reports this harness writes do not make the measured code dirty.
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/RESULTS.md",
                 ":!benchmarks/results.json")
    ram, swap = _meminfo_gb("MemTotal"), _meminfo_gb("SwapTotal")
    return {
        "date": datetime.now(timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "ram": f"{ram:.1f} GB ({ram * GB / 2**30:.1f} GiB)" if ram else "?",
        "swap": "none" if not swap else f"{swap:.1f} GB",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_version()} ({sys.executable})",
        "torch": _version("torch"),
        "transformers": _version("transformers"),
        "peft": _version("peft"),
        "numpy": _version("numpy"),
        "commit": (_git("rev-parse", "--short", "HEAD") or "?") + (" + uncommitted changes" if dirty else ""),
    }
