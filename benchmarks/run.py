"""Tiny Audio class 2 benchmarks: every case in one process tree, one child process per measurement.

    poetry run python benchmarks/run.py                    # all cases -> benchmarks/RESULTS.md
    poetry run python benchmarks/run.py --case 2 --case 6  # a subset -> benchmarks/.work/RESULTS-partial.md
    poetry run python benchmarks/run.py --repeat 3         # each figure is the median of 3 runs
    poetry run python benchmarks/run.py --list             # what each case measures

Wall time is measured by this parent from just before the child starts to its reap; peak RSS is the
child's ``ru_maxrss`` from ``os.wait4`` (its own peak, or its largest waited-for descendant's). Scratch
files (generated audio, the local checkpoint, figures, logs of every child) go to benchmarks/.work/.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import struct
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (BENCH_DIR, GB, REPO, WORK, ChildResult, loadavg, machine_info, median,  # noqa: E402
                     run_child)

PY = sys.executable
XLARGE_PARAMS = 962_497_408  # HubertModel parameters of hubert-xlarge-ls960-ft (count_params.py: encoder, frozen)
WEIGHT_BYTES = XLARGE_PARAMS * 4  # fp32: 3.85 GB
CHECKPOINT = WORK / "hubert-xlarge"
EXERCISES = REPO / "exercises"


# ----- results ---------------------------------------------------------------------------------------------
@dataclass
class Row:
    metric: str
    ours: str
    baseline: str = "-"
    ratio: str = "-"
    target: str = "-"
    status: str = "info"  # PASS, FAIL, info or ERROR


@dataclass
class CaseResult:
    number: int
    title: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # markdown lines
    raw: dict = field(default_factory=dict)
    seconds: float = 0.0
    load: str = ""  # load average at the case's start and end: how busy the machine was


class CaseError(RuntimeError):
    pass


def secs(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f} s"


def gb(value_bytes: float | None, digits: int = 2) -> str:
    """Decimal GB; small figures in MB."""
    if value_bytes is None:
        return "-"
    return f"{value_bytes / 1e6:.0f} MB" if abs(value_bytes) < 0.1 * GB else f"{value_bytes / GB:.{digits}f} GB"


def kib_bytes(kib: int | None) -> float | None:
    return None if kib is None else kib * 1024


def ratio(ours: float | None, baseline: float | None) -> str:
    """ours / baseline; "-" when either is missing or the baseline is too small to divide by (< 0.05)."""
    return "-" if ours is None or not baseline or baseline < 0.05 else f"{ours / baseline:.2f}"


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else "PASS" if ok else "FAIL"


# ----- running children --------------------------------------------------------------------------------------
class Context:
    def __init__(self, args):
        self.repeat = args.repeat
        self.echo = args.echo
        self.long_minutes = args.long_minutes
        self.help_runs = args.help_runs
        self.timeout = args.timeout
        self.children: list[ChildResult] = []

    def child(self, cmd: list, label: str, *, check: bool = True, timeout: float | None = None,
              env: dict | None = None) -> ChildResult:
        shown = " ".join(str(c).replace(str(REPO) + "/", "") for c in cmd).replace(PY, "python")
        print(f"  [{time.strftime('%H:%M:%S')}] {label}: {shown}", file=sys.stderr, flush=True)
        result = run_child(cmd, label, timeout_s=timeout or self.timeout, echo=self.echo, env=env)
        print(f"      rc={result.rc} wall={result.wall_s:.2f} s peak RSS={result.peak_gb:.2f} GB "
              f"(load {loadavg()})", file=sys.stderr, flush=True)
        self.children.append(result)
        if check and not result.ok:
            why = "timed out" if result.timed_out else f"exit status {result.rc}"
            raise CaseError(f"`{shown}` failed ({why}); log: {result.log.relative_to(REPO)}\n{result.tail()}")
        return result

    def pairs(self, ours: tuple[list, str], baseline: tuple[list, str]) -> tuple[list[ChildResult], list[ChildResult]]:
        """Run ours and the baseline ``repeat`` times, alternating which goes first."""
        ours_runs, base_runs = [], []
        for rep in range(self.repeat):
            order = [("ours", ours), ("baseline", baseline)]
            for kind, (cmd, label) in order if rep % 2 == 0 else reversed(order):
                run = self.child(cmd, f"{label}-{kind}-{rep + 1}")
                (ours_runs if kind == "ours" else base_runs).append(run)
        return ours_runs, base_runs


def make_clip(ctx: Context, seconds: float, name: str) -> Path:
    path = WORK / name
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        ctx.child([PY, BENCH_DIR / "probes" / "make_audio.py", path, seconds], f"make-{path.stem}")
    return path


def marker(run: ChildResult, pattern: str):
    line = run.first(pattern)
    return line


def stage_table(runs_by_name: dict[str, list[ChildResult]], stages: dict[str, dict[str, str]]) -> list[str]:
    """RSS and peak-so-far at each progress line, for each program (medians over repeats)."""
    names = list(runs_by_name)
    out = ["| stage | " + " | ".join(f"{n}: RSS | {n}: peak so far | {n}: at (s)" for n in names) + " |",
           "|---|" + "---|---|---|" * len(names)]
    for stage, patterns in stages.items():
        cells = []
        for name in names:
            pattern = patterns.get(name)
            if pattern == "END":
                peak = median([kib_bytes(r.maxrss_kib) for r in runs_by_name[name]])
                cells += ["-", gb(peak), secs(median([r.wall_s for r in runs_by_name[name]]), 1)]
                continue
            found = [marker(r, pattern) for r in runs_by_name[name]] if pattern else []
            found = [f for f in found if f is not None]
            cells += [gb(median([kib_bytes(f.rss_kib) for f in found])),
                      gb(median([kib_bytes(f.hwm_kib) for f in found])),
                      secs(median([f.t for f in found]), 1)] if found else ["-", "-", "-"]
        out.append(f"| {stage} | " + " | ".join(cells) + " |")
    return out


# ----- case 1 ------------------------------------------------------------------------------------------------
def case_count(ctx: Context) -> CaseResult:
    result = CaseResult(1, "Counting the full model (count_params.py, meta device)")
    ours, base = ctx.pairs(([PY, EXERCISES / "count_params.py"], "case1-count_params"),
                           ([PY, BENCH_DIR / "baselines" / "count_encoder_plain.py"], "case1-baseline"))
    ours_wall, base_wall = median([r.wall_s for r in ours]), median([r.wall_s for r in base])
    ours_rss = median([kib_bytes(r.maxrss_kib) for r in ours])
    base_rss = median([kib_bytes(r.maxrss_kib) for r in base])

    def numbers(text: str) -> list[int]:
        return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]{4,}", text)]

    enc_line = marker(ours[0], r"^encoder ")
    overall_line = marker(ours[0], r"^overall ")
    base_line = marker(base[0], r"total ")
    ours_enc = numbers(enc_line.text)[:2] if enc_line else None
    base_enc = numbers(base_line.text)[:2] if base_line else None
    overall = numbers(overall_line.text)[0] if overall_line else None

    result.rows += [
        Row("whole process, wall", secs(ours_wall), secs(base_wall), ratio(ours_wall, base_wall), "<= 10 s",
            verdict(ours_wall <= 10)),
        Row("whole process, peak RSS", gb(ours_rss), gb(base_rss), ratio(ours_rss, base_rss), "<= 1.5 GB",
            verdict(ours_rss <= 1.5 * GB)),
        Row("encoder parameters (total / trainable)",
            " / ".join(f"{n:,}" for n in ours_enc) if ours_enc else "?",
            " / ".join(f"{n:,}" for n in base_enc) if base_enc else "?", "-", "identical",
            verdict(ours_enc == base_enc if ours_enc and base_enc else None)),
    ]

    # Where the time goes: the same command once more under -X importtime (a separate, slightly slower run).
    timed = ctx.child([PY, "-X", "importtime", EXERCISES / "count_params.py"], "case1-count_params-importtime")
    top = {}
    for line in timed.lines:
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line.text)  # top-level: no indentation
        if m and line.stream == "err":
            top[m.group(2)] = int(m.group(1)) / 1e6
    imports = sum(top.values())
    heavy = [kv for kv in sorted(top.items(), key=lambda kv: -kv[1])[:6] if kv[1] >= 0.02]
    result.rows.append(Row("of which imports (separate run, -X importtime)", secs(imports), "-", "-", "-", "info"))
    result.rows.append(Row("of which shutdown (last output line -> exit)", secs(median([exit_s(r) for r in ours])),
                           secs(median([exit_s(r) for r in base])), "-", "-", "info"))
    result.details += [
        f"Baseline: `benchmarks/baselines/count_encoder_plain.py` materialises the **encoder alone** "
        "(`HubertModel(HubertConfig(...XLarge...))`, fp32, random init) and wraps it with `get_peft_model` "
        "(LoRA r=8 on q_proj, k_proj) before counting; it prints the same encoder counts as ours.",
        "",
        f"In the `-X importtime` run ({secs(timed.wall_s)} wall) the top-level imports took {secs(imports)}; "
        "the heaviest: " + ", ".join(f"`{name}` {value:.2f} s" for name, value in heavy) + ". The rest of the "
        "wall time is interpreter start-up, building the model on the meta device, peft wrapping, printing and "
        "the interpreter's shutdown (row above).",
        "",
        "**Why the whole model cannot be materialised here:** "
        + (f"it has {overall:,} parameters; in fp32 (4 bytes each, what `from_config` / random init produce "
           f"and what the CPU computes in) that is {gb(overall * 4, 1)} for the weights alone, more than this "
           f"machine's {machine_info()['ram']} of RAM (swap: {machine_info()['swap']}), before any activation, gradient or "
           "optimizer state. Even in bf16 the weights would take "
           f"{gb(overall * 2, 1)}. Counting on the meta device needs only the shapes, so it costs "
           f"{gb(ours_rss)} instead." if overall else "could not parse the overall count."),
    ]
    result.raw = {"ours": [asdict_light(r) for r in ours], "baseline": [asdict_light(r) for r in base],
                  "imports_s": imports, "imports_top": heavy, "overall_params": overall}
    return result


def exit_s(run: ChildResult) -> float | None:
    """From the last line the child printed to its reap: mostly interpreter shutdown."""
    return run.wall_s - run.lines[-1].t if run.lines else None


def asdict_light(run: ChildResult) -> dict:
    return {"cmd": run.cmd, "rc": run.rc, "wall_s": round(run.wall_s, 3), "maxrss_kib": run.maxrss_kib,
            "user_s": round(run.user_s, 2), "sys_s": round(run.sys_s, 2), "log": str(run.log)}


# ----- case 2 ------------------------------------------------------------------------------------------------
HUBERT_STAGES = {
    "after imports (+ audio loaded)": {"ours": r"^Building ", "baseline": r"^\[bench\] imported"},
    "after build (weights in memory)": {"ours": r"ready in ", "baseline": r"^\[bench\] model ready"},
    "before forward (features ready)": {"ours": r"^Encoding ", "baseline": r"^\[bench\] encoding"},
    "end of run (whole-run peak)": {"ours": "END", "baseline": "END"},
}


def case_random(ctx: Context) -> CaseResult:
    result = CaseResult(2, "HuBERT-XLarge, random weights, on assets/test.wav (explore_hubert.py --weights random)")
    ours, base = ctx.pairs(([PY, EXERCISES / "explore_hubert.py", "--weights", "random"], "case2-explore_hubert"),
                           ([PY, BENCH_DIR / "baselines" / "hubert_random_plain.py", REPO / "assets" / "test.wav"],
                            "case2-baseline"))
    ours_wall, base_wall = median([r.wall_s for r in ours]), median([r.wall_s for r in base])
    ours_rss = median([kib_bytes(r.maxrss_kib) for r in ours])
    base_rss = median([kib_bytes(r.maxrss_kib) for r in base])
    limit = 1.15 * WEIGHT_BYTES
    result.rows += [
        Row("whole process, wall", secs(ours_wall), secs(base_wall), ratio(ours_wall, base_wall),
            "ratio <= 0.6", verdict(ours_wall / base_wall <= 0.6)),
        Row("whole process, peak RSS", gb(ours_rss), gb(base_rss), ratio(ours_rss, base_rss),
            f"<= 1.15 x weights = {gb(limit)}", verdict(ours_rss <= limit)),
    ]
    result.rows += phase_rows(ours, base)
    result.details += [
        f"fp32 weight bytes: {XLARGE_PARAMS:,} x 4 = {gb(WEIGHT_BYTES)}. Baseline: "
        "`benchmarks/baselines/hubert_random_plain.py` (`HubertModel(config).eval()`, `Wav2Vec2FeatureExtractor`, "
        "forward under `torch.no_grad()`; audio read with soundfile).",
        "",
        "Where the memory goes: the child's RSS and peak RSS (VmRSS / VmHWM from /proc) read by the parent "
        "when each progress line arrived; 'at' is seconds since the process started.",
        "",
        *stage_table({"ours": ours, "baseline": base}, HUBERT_STAGES),
    ]
    result.rows.append(Row("of which shutdown (last output line -> exit)", secs(median([exit_s(r) for r in ours])),
                           secs(median([exit_s(r) for r in base])), "-", "-", "info"))
    cpu = median([r.user_s + r.sys_s for r in ours]), median([r.user_s + r.sys_s for r in base])
    result.rows.append(Row("whole process, CPU time (user + sys; less sensitive to a busy machine)",
                           secs(cpu[0]), secs(cpu[1]), ratio(*cpu), "-", "info"))
    probe = ctx.child([PY, BENCH_DIR / "probes" / "import_rss.py"], "case2-import-rss", check=False)
    try:
        imports = json.loads(probe.stdout().strip().splitlines()[-1])
    except (ValueError, IndexError):
        imports = None
    if imports:
        previous = 0.0
        result.details += [
            "", "What the imports alone cost (`benchmarks/probes/import_rss.py`: the modules that "
            "`from transformers import HubertModel` pulls in, imported one after another in a fresh process):",
            "", "| import | RSS after | added | seconds since start |", "|---|---:|---:|---:|"]
        for step in imports["steps"]:
            result.details.append(f"| `{step['module']}` | {step['rss_mb']:.0f} MB | {step['rss_mb'] - previous:+.0f} MB "
                                  f"| {step['seconds']:.2f} |")
            previous = step["rss_mb"]
        result.details += ["", "Resident memory after those imports, by mapping: " + ", ".join(
            f"{name} {mb:.0f} MB" for name, mb in sorted(imports["mappings"].items(), key=lambda kv: -kv[1])) + "."]
    o = ours[len(ours) // 2]
    b_imp, b_ready, b_enc = (marker(o, p) for p in (r"^Building ", r"ready in ", r"^Encoding "))
    if b_imp and b_ready and b_enc:
        result.details += [
            "",
            f"Ours, one run: imports + interpreter {gb(kib_bytes(b_imp.rss_kib))}; the build adds "
            f"{gb(kib_bytes(b_ready.rss_kib - b_imp.rss_kib))} resident (weights {gb(WEIGHT_BYTES)}) with a "
            f"transient {gb(kib_bytes(b_ready.hwm_kib - b_ready.rss_kib))} above that during the build; "
            f"the forward pass peaks {gb(kib_bytes(o.maxrss_kib - b_enc.rss_kib))} above the RSS before it.",
        ]
    result.raw = {"ours": [asdict_light(r) for r in ours], "baseline": [asdict_light(r) for r in base]}
    return result


PHASES = {  # (ours, baseline) progress lines that start each phase; a phase ends where the next one starts
    "imports + start-up (start -> 'Building' / '[bench] imported')": (None, None),
    "build / load ('Building' -> 'ready in')": (r"^Building ", r"^\[bench\] imported"),
    "features ('ready in' -> 'Encoding')": (r"ready in ", r"^\[bench\] model ready"),
    "forward, report and exit ('Encoding' -> exit)": (r"^Encoding ", r"^\[bench\] encoding"),
}


def phase_rows(ours: list[ChildResult], base: list[ChildResult]) -> list[Row]:
    """Wall time per phase, from the parent's timestamps of each program's progress lines (medians)."""
    def phases(run: ChildResult, which: int) -> list[float | None]:
        starts = [0.0] + [getattr(marker(run, p[which]), "t", None) for p in list(PHASES.values())[1:]]
        ends = starts[1:] + [run.wall_s]
        return [None if a is None or b is None else b - a for a, b in zip(starts, ends)]

    rows = []
    for index, name in enumerate(PHASES):
        o = median([phases(r, 0)[index] for r in ours])
        b = median([phases(r, 1)[index] for r in base])
        rows.append(Row(f"phase: {name}", secs(o), secs(b), ratio(o, b), "-", "info"))
    return rows


def _float(line, pattern: str) -> float | None:
    if line is None:
        return None
    m = re.search(pattern, line.text)
    return float(m.group(1)) if m else None


# ----- case 3 ------------------------------------------------------------------------------------------------
def _checkpoint_ready() -> bool:
    return ((CHECKPOINT / "config.json").is_file() and (CHECKPOINT / "preprocessor_config.json").is_file()
            and any(CHECKPOINT.glob("*.safetensors")))


def case_pretrained(ctx: Context) -> CaseResult:
    result = CaseResult(3, "HuBERT-XLarge from a local safetensors checkpoint (explore_hubert.py --weights pretrained)")
    if not _checkpoint_ready():
        shutil.rmtree(CHECKPOINT, ignore_errors=True)
        saved = ctx.child([PY, BENCH_DIR / "probes" / "save_checkpoint.py", CHECKPOINT], "case3-save-checkpoint")
        result.details.append(f"Checkpoint written by `benchmarks/probes/save_checkpoint.py` in {secs(saved.wall_s)}.")
    files = sorted(CHECKPOINT.glob("*.safetensors"))
    size = sum(f.stat().st_size for f in files)
    read_started = time.perf_counter()
    for f in files:  # the same warm page cache for every run, whoever goes first
        with open(f, "rb") as handle:
            while handle.read(1 << 20):  # small reads: the parent's RSS is every child's floor
                pass
    warm_s = time.perf_counter() - read_started

    ours, base = ctx.pairs(
        ([PY, EXERCISES / "explore_hubert.py", "--model", CHECKPOINT, "--weights", "pretrained"],
         "case3-explore_hubert"),
        ([PY, BENCH_DIR / "baselines" / "hubert_pretrained_plain.py", CHECKPOINT, REPO / "assets" / "test.wav"],
         "case3-baseline"))
    for run in ours:
        if not run.first(r"pretrained weights from"):
            raise CaseError(f"explore_hubert did not report pretrained weights; log: {run.log}")
    load = median([_float(marker(r, r"ready in"), r"ready in ([\d.]+) s") for r in ours])
    load_seen = median([marker(r, r"ready in").t - marker(r, r"^Building ").t for r in ours
                        if marker(r, r"ready in") and marker(r, r"^Building ")])
    base_load = median([_float(marker(r, r"model ready in"), r"ready in ([\d.]+) s") for r in base])
    ours_wall, base_wall = median([r.wall_s for r in ours]), median([r.wall_s for r in base])
    ours_rss = median([kib_bytes(r.maxrss_kib) for r in ours])
    base_rss = median([kib_bytes(r.maxrss_kib) for r in base])
    result.rows += [
        Row("model load (in-child 'ready in' figure)", secs(load, 1), secs(base_load), ratio(load, base_load),
            "<= 3 s", verdict(load <= 3.0 if load is not None else None)),
        Row("model load (parent-observed 'Building' -> 'ready in')", secs(load_seen), "-", "-", "-", "info"),
        Row("whole process, wall", secs(ours_wall), secs(base_wall), ratio(ours_wall, base_wall), "ratio <= 1.0",
            verdict(ours_wall <= base_wall)),
        Row("whole process, peak RSS", gb(ours_rss), gb(base_rss), ratio(ours_rss, base_rss), "-", "info"),
        *phase_rows(ours, base),
    ]
    result.details += [
        f"Checkpoint: `{CHECKPOINT.relative_to(REPO)}` ({len(files)} safetensors file(s), {gb(size)}), HuBERT-XLarge "
        "random weights saved with `save_pretrained`, plus preprocessor_config.json. Before the runs the parent "
        f"read it once ({secs(warm_s)}), so every run finds it in the page cache (a warm cache, as on a second run "
        "of the exercise; a cold read from disk adds the disk's time to both programs).",
        "",
        "What is timed as the load: ours, `load_encoder(...)` + `.to(device)` as printed by explore_hubert.py "
        "(`ready in X s`, one decimal), cross-checked by the parent's timestamps of the 'Building' and 'ready in' "
        "lines; the baseline, `AutoModel.from_pretrained(dir)` + `.eval()` timed inside the child "
        "(`benchmarks/baselines/hubert_pretrained_plain.py`).",
        "",
        "Note: `from_pretrained` memory-maps model.safetensors, so at 'ready in' the weights are not resident yet "
        "(see the RSS after the build below): the 3.85 GB are paged in (from the page cache) during the first "
        "forward pass. The load figure is therefore mostly the time to map the file and set up the modules; "
        "the 'forward' phase carries the cost of touching every weight once.",
        "",
        *stage_table({"ours": ours, "baseline": base}, HUBERT_STAGES),
    ]
    result.raw = {"ours": [asdict_light(r) for r in ours], "baseline": [asdict_light(r) for r in base],
                  "checkpoint_bytes": size}
    return result


# ----- case 4 ------------------------------------------------------------------------------------------------
def case_flops(ctx: Context) -> CaseResult:
    result = CaseResult(4, "Forward efficiency: achieved GFLOP/s on a 30 s clip vs fp32 matmul")
    clip = make_clip(ctx, 30.0, "clip_30s.wav")
    check = ctx.child([PY, BENCH_DIR / "probes" / "check_flops.py", "tiny", "48123"], "case4-check-flops")
    checked = json.loads(check.stdout().strip().splitlines()[-1])
    run = ctx.child([PY, BENCH_DIR / "probes" / "forward_flops.py", clip, "--profile", "--reps", ctx.repeat],
                    "case4-forward-flops")
    data = json.loads(run.stdout().strip().splitlines()[-1])
    flops = data["flops"]
    ceiling = max(data["mm_gflops_before"] + data["mm_gflops_after"])
    ceiling_median = median(data["mm_gflops_before"] + data["mm_gflops_after"])
    efficiency = data["gflops"] / ceiling
    result.rows += [
        Row("encoder FLOPs for the clip (formula)", f"{flops['total'] / 1e12:.3f} TFLOP"),
        Row("forward time (after one warm-up)", secs(data["forward_s"])),
        Row("achieved", f"{data['gflops']:.1f} GFLOP/s"),
        Row("fp32 torch.mm 4096^2 in the same process (best / median)",
            f"{ceiling:.1f} / {ceiling_median:.1f} GFLOP/s"),
        Row("achieved / best matmul", f"{100 * efficiency:.1f} %", "-", "-", ">= 70 %", verdict(efficiency >= 0.70)),
        Row("cross-check: the warm-up pass (first call, under the profiler)",
            f"{secs(data['warmup_s'])}, {flops['total'] / data['warmup_s'] / 1e9:.1f} GFLOP/s, "
            f"{100 * flops['total'] / data['warmup_s'] / 1e9 / ceiling:.1f} %"),
        Row("formula vs torch.utils.flop_counter (tiny HuBERT: convs + linears)",
            "agree" if checked["agree"] else "DISAGREE", "-", "-", "exact", verdict(checked["agree"])),
    ]
    frames = flops["frames"]
    result.details += [
        f"Clip: `{clip.relative_to(REPO)}` ({data['seconds']:.1f} s, {data['samples']:,} samples, {data['windows']} "
        f"window(s) of explore_hubert's `encode_in_windows`, {data['frames']} frames). "
        f"Probe: `benchmarks/probes/forward_flops.py` builds the encoder with `src.build.load_encoder` (random "
        f"weights), runs one warm-up pass (under torch.profiler), then times {len(data['forward_all_s'])} "
        f"pass(es) of the exercise's own `encode_in_windows` (median; all: "
        f"{', '.join(f'{t:.2f}' for t in data['forward_all_s'])} s); {data['threads']} torch threads. "
        f"Matmul ceiling measured before and after the timed pass: "
        f"{', '.join(f'{x:.0f}' for x in data['mm_gflops_before'] + data['mm_gflops_after'])} GFLOP/s.",
        "",
        "FLOPs by part (`benchmarks/flops.py: hubert_encoder_flops`, 2 FLOPs per multiply-add, T = "
        f"{frames} frames per window):",
        "",
        "| part | GFLOP | share |",
        "|---|---:|---:|",
        *[f"| {k} | {v / 1e9:,.1f} | {100 * v / flops['total']:.1f} % |" for k, v in flops.items()
          if k not in ("total", "frames")],
        f"| **total** | **{flops['total'] / 1e9:,.1f}** | 100 % |",
    ]
    if data["categories"]:
        part_flops = {
            "matmul (Linear: projections, feed-forward)": flops["feature_projection"] + flops["qkvo"]
            + flops["feed_forward"],
            "attention (softmax(QK^T)V)": flops["attention"],
            "convolutions (CNN, position conv)": flops["cnn"] + flops["position_conv"],
        }
        total_time = sum(data["categories"].values())
        result.details += [
            "",
            f"Profile of the warm-up pass (torch.profiler, self CPU time, {secs(data['warmup_s'])} wall including "
            "profiler overhead), grouped by the formula's parts:",
            "",
            "| kind of op | self time | share | GFLOP/s achieved | vs best matmul |",
            "|---|---:|---:|---:|---:|",
        ]
        for category, seconds in data["categories"].items():
            rate = part_flops.get(category, 0) / seconds / 1e9 if seconds and category in part_flops else None
            result.details.append(
                f"| {category} | {secs(seconds)} | {100 * seconds / total_time:.1f} % | "
                f"{'-' if rate is None else f'{rate:.1f}'} | {'-' if rate is None else f'{100 * rate / ceiling:.0f} %'} |")
        result.details += ["", "Top ops by self CPU time:", "", "| op | calls | self time | share |",
                           "|---|---:|---:|---:|"]
        result.details += [f"| `{row['name']}` | {row['calls']} | {secs(row['self_s'])} | {row['percent']:.1f} % |"
                           for row in data["profile"]]
    result.raw = {"probe": data, "check": checked, "child": asdict_light(run)}
    return result


# ----- case 5 ------------------------------------------------------------------------------------------------
def png_size(path: Path) -> tuple[int, int] | None:
    with open(path, "rb") as handle:
        head = handle.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def case_long(ctx: Context) -> CaseResult:
    minutes = ctx.long_minutes
    result = CaseResult(5, f"Long audio: a {minutes:g}-minute clip (explore_hubert.py, explore_audio.py)")
    short = make_clip(ctx, 60.0, "clip_1min.wav")
    long = make_clip(ctx, minutes * 60.0, f"clip_{minutes:g}min.wav")

    def encode_s(run: ChildResult) -> float | None:
        line = marker(run, r"^Encoding ")
        return run.wall_s - line.t if line else None

    short_runs, long_runs, audio_runs = [], [], []
    figure = WORK / f"explore_audio_{minutes:g}min.png"
    for rep in range(ctx.repeat):
        short_runs.append(ctx.child([PY, EXERCISES / "explore_hubert.py", "--weights", "random", short],
                                    f"case5-explore_hubert-1min-{rep + 1}"))
        long_runs.append(ctx.child([PY, EXERCISES / "explore_hubert.py", "--weights", "random", long],
                                   f"case5-explore_hubert-{minutes:g}min-{rep + 1}", timeout=max(ctx.timeout, 3600)))
        audio_runs.append(ctx.child([PY, EXERCISES / "explore_audio.py", long, "-o", figure],
                                    f"case5-explore_audio-{minutes:g}min-{rep + 1}"))
    per_min_short = median([encode_s(r) for r in short_runs]) / 1.0
    per_min_long = median([encode_s(r) for r in long_runs]) / minutes
    long_rss = median([kib_bytes(r.maxrss_kib) for r in long_runs])
    short_rss = median([kib_bytes(r.maxrss_kib) for r in short_runs])
    audio_wall = median([r.wall_s for r in audio_runs])
    audio_rss = median([kib_bytes(r.maxrss_kib) for r in audio_runs])
    limit = WEIGHT_BYTES + 2 * GB
    dims = png_size(figure) if figure.exists() else None
    windows_seen = [len(r.all(r"^  window \d+/")) for r in long_runs]
    result.rows += [
        Row(f"explore_hubert {minutes:g} min: peak RSS", gb(long_rss), f"1 min: {gb(short_rss)}", "-",
            f"<= weights + 2 GB = {gb(limit)}", verdict(long_rss <= limit)),
        Row("explore_hubert: encoding seconds per audio-minute", secs(per_min_long, 1),
            f"1 min: {secs(per_min_short, 1)}", ratio(per_min_long, per_min_short),
            "ratio <= 1.3", verdict(per_min_long / per_min_short <= 1.3)),
        Row(f"explore_hubert {minutes:g} min: whole process, wall", secs(median([r.wall_s for r in long_runs]), 1),
            f"1 min: {secs(median([r.wall_s for r in short_runs]), 1)}", "-", "-", "info"),
        Row(f"explore_audio {minutes:g} min: whole process, wall", secs(audio_wall), "-", "-", "<= 10 s",
            verdict(audio_wall <= 10)),
        Row(f"explore_audio {minutes:g} min: peak RSS", gb(audio_rss)),
        Row("explore_audio figure", f"{dims[0]} x {dims[1]} px, {figure.stat().st_size / 1e3:.0f} kB"
            if dims else "missing", "-", "-", "legible (inspect it)", "info"),
    ]
    result.details += [
        f"Clips: `{short.relative_to(REPO)}` and `{long.relative_to(REPO)}`, assets/test.wav repeated with varying "
        f"gain (`benchmarks/probes/make_audio.py`). Encoding time = the parent's time from explore_hubert's "
        f"'Encoding ...' line to the process's exit (all windows, the statistics and the report; the model build "
        f"before it is excluded); {windows_seen[0] if windows_seen else '?'} windows of 30 s for the long clip.",
        "",
        f"Figure: `{figure.relative_to(REPO)}` (not committed).",
    ]
    long_windows = long_runs[0].all(r"^  window \d+/")
    if len(long_windows) > 2:
        gaps = [b.t - a.t for a, b in zip(long_windows, long_windows[1:])]
        rss = [kib_bytes(w.rss_kib) for w in long_windows]
        result.details += [
            "",
            f"Per-window time in the {minutes:g}-minute run (gap between successive 'window i/n' lines): "
            f"min {min(gaps):.1f} s, median {median(gaps):.1f} s, max {max(gaps):.1f} s. RSS at the window lines: "
            f"first {gb(rss[0])}, last {gb(rss[-1])}, highest {gb(max(r for r in rss if r))} (flat = bounded).",
        ]
    result.raw = {"short": [asdict_light(r) for r in short_runs], "long": [asdict_light(r) for r in long_runs],
                  "audio": [asdict_light(r) for r in audio_runs], "png": dims}
    return result


# ----- case 6 ------------------------------------------------------------------------------------------------
def case_startup(ctx: Context) -> CaseResult:
    result = CaseResult(6, "Start-up: python exercises/<name>.py --help (the venv's python, no poetry)")
    scripts = sorted(EXERCISES.glob("*.py"))
    result.details += ["| script | median wall | all runs | peak RSS | heavy packages imported by --help |",
                       "|---|---:|---|---:|---|"]
    for script in scripts:
        runs = [ctx.child([PY, script, "--help"], f"case6-{script.stem}-{i + 1}")
                for i in range(ctx.help_runs * ctx.repeat)]
        probe = ctx.child([PY, BENCH_DIR / "probes" / "help_imports.py", script], f"case6-{script.stem}-imports",
                          check=False)
        try:
            heavy = json.loads(probe.stdout().strip().splitlines()[-1])
        except (ValueError, IndexError):
            heavy = ["?"]
        wall = median([r.wall_s for r in runs])
        rss = median([kib_bytes(r.maxrss_kib) for r in runs])
        result.rows.append(Row(f"{script.name} --help, median of {len(runs)}", secs(wall), "-", "-", "<= 1 s",
                               verdict(wall <= 1.0)))
        result.details.append(f"| `{script.name}` | {secs(wall)} | {', '.join(f'{r.wall_s:.2f}' for r in runs)} | "
                              f"{gb(rss, 3)} | {', '.join(heavy) or 'none'} |")
    return result


# ----- case 7 ------------------------------------------------------------------------------------------------
def case_tests(ctx: Context) -> CaseResult:
    result = CaseResult(7, "The test suite: poetry run pytest -q")
    poetry = shutil.which("poetry")
    # --durations only adds a table of the slowest tests to the report (no effect on what runs).
    cmd = ([poetry, "run", "pytest", "-q"] if poetry else [PY, "-m", "pytest", "-q"]) + ["--durations=12"]
    runs = [ctx.child(cmd, f"case7-pytest-{rep + 1}", check=False, timeout=max(ctx.timeout, 1800))
            for rep in range(ctx.repeat)]
    wall = median([r.wall_s for r in runs])
    rss = median([kib_bytes(r.maxrss_kib) for r in runs])
    summaries = []
    for run in runs:
        line = None
        for candidate in run.lines:
            if re.search(r"\d+ (passed|failed|error|errors|skipped|deselected)", candidate.text) and " in " in candidate.text:
                line = candidate.text.strip("= ")
        summaries.append(line or f"(no summary line; rc={run.rc})")
    all_passed = all(r.rc == 0 for r in runs)
    result.rows += [
        Row("wall time", secs(wall, 1), "-", "-", "< 120 s, all tests passing", verdict(wall < 120 and all_passed)),
        Row("peak RSS (largest process in the tree)", gb(rss)),
        Row("outcome", "; ".join(f"rc={r.rc}: {s}" for r, s in zip(runs, summaries))),
    ]
    result.details.append(f"Command: `{' '.join('poetry' if c == poetry else str(c) for c in cmd)}` in the "
                          f"repository root (logs: `{runs[0].log.relative_to(REPO)}`).")
    slowest = [line.text.strip() for line in runs[-1].lines
               if re.match(r"^\d+\.\d+s (call|setup|teardown) ", line.text.strip())]
    if slowest:
        result.details += ["", "Slowest tests (last run, pytest --durations):", "", "```text", *slowest, "```"]
    if not all_passed:
        failed = [line.text for line in runs[-1].lines if line.text.startswith(("FAILED", "ERROR"))]
        result.details += ["", "Failures in the last run:", "", *[f"- `{f}`" for f in failed[:15]]]
    return result


CASES = {
    1: ("count_params.py on the meta device vs materialising the encoder", case_count),
    2: ("explore_hubert.py --weights random vs HubertModel(config) + forward", case_random),
    3: ("explore_hubert.py from a local safetensors checkpoint vs AutoModel.from_pretrained", case_pretrained),
    4: ("achieved forward GFLOP/s on 30 s vs fp32 matmul GFLOP/s", case_flops),
    5: ("10-minute audio: bounded memory, linear cost; explore_audio.py speed and figure", case_long),
    6: ("--help start-up time of every exercise", case_startup),
    7: ("poetry run pytest -q wall time", case_tests),
}


# ----- report ------------------------------------------------------------------------------------------------
def write_report(path: Path, results: list[CaseResult], machine: dict, extra: dict, argv: list[str]) -> None:
    command = shlex.join(["poetry", "run", "python", "benchmarks/run.py", *argv])
    lines = [
        "# Benchmark results",
        "",
        f"Written by `{command}` ({extra['duration']}). Every figure below comes from that one run of "
        "`benchmarks/run.py` on the machine described here; ratios compare ours and the baseline measured in "
        "the same run. Do not edit by hand: rerun the harness (see benchmarks/README.md).",
        "",
        *([f"> **Note:** {extra['note']}", ""] if extra.get("note") else []),
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in machine.items()],
        f"| load average (1 / 5 / 15 min) | at start {extra['load_start']}; at end {extra['load_end']} |",
        f"| repeats | {extra['repeat']} (figures are medians over the repeats) |",
        f"| harness RSS at child start | {extra['floor']} (children are started with fork, not vfork, so a "
        "child's ru_maxrss can include at most this much of the parent; it matters only for the --help figures) |",
        "",
        "Wall time: from just before the child process starts to its reap, measured by the parent. Peak RSS: "
        "the child's `ru_maxrss` from `os.wait4` (KiB, reported in GB = 10^9 bytes). Children run without "
        "PYTHONDONTWRITEBYTECODE, with compiled bytecode and the page cache warm (a first-ever run is slower).",
        "",
        "## Summary",
        "",
        "| case | metric | ours | baseline | ours / baseline | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in results:
        for row in case.rows:
            if row.status != "info":
                lines.append(f"| {case.number} | {row.metric} | {row.ours} | {row.baseline} | {row.ratio} | "
                             f"{row.target} | **{row.status}** |")
    for case in results:
        lines += ["", f"## {case.number}. {case.title}", "", f"Case run time {secs(case.seconds, 0)}; load average (1 / 5 / 15 min) {case.load}.", "",
                  "| metric | ours | baseline | ours / baseline | target | result |", "|---|---|---|---|---|---|"]
        lines += [f"| {r.metric} | {r.ours} | {r.baseline} | {r.ratio} | {r.target} | {r.status} |" for r in case.rows]
        if case.details:
            lines += ["", *case.details]
    path.write_text("\n".join(lines) + "\n")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--case", type=int, action="append", choices=sorted(CASES),
                        help="run only this case (repeat the option for several); default: all")
    parser.add_argument("--repeat", type=int, default=1, help="run each measurement K times, report the median")
    parser.add_argument("--long-minutes", type=float, default=10.0,
                        help="length of case 5's long clip (the target is stated for 10)")
    parser.add_argument("--help-runs", type=int, default=7, help="case 6: --help runs per script (x --repeat)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds before a child is killed")
    parser.add_argument("--output", type=Path, default=None,
                        help="report path (default: benchmarks/RESULTS.md for a full run, "
                             "benchmarks/.work/RESULTS-partial.md with --case)")
    parser.add_argument("--echo", action="store_true", help="stream every child's output to stderr")
    parser.add_argument("--note", default=None, help="a line to print at the top of the report")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.list:
        for number, (text, _) in CASES.items():
            print(f"{number}. {text}")
        return 0
    if args.repeat < 1:
        raise SystemExit("--repeat must be 1 or more")
    selected = sorted(set(args.case or CASES))
    output = args.output or (BENCH_DIR / "RESULTS.md" if not args.case else WORK / "RESULTS-partial.md")
    WORK.mkdir(parents=True, exist_ok=True)
    ctx = Context(args)
    started, load_start = time.perf_counter(), loadavg()
    machine = machine_info()
    print(f"benchmarks: cases {selected}, repeat {args.repeat} -> {output}", file=sys.stderr)
    env = ctx.child([PY, BENCH_DIR / "probes" / "env_info.py"], "env-info")  # also warms imports and bytecode
    stack = json.loads(env.stdout().strip().splitlines()[-1])
    machine["torch"] = f"{stack['torch']} ({stack['torch_threads']} threads, CPU capability "\
                       f"{stack['cpu_capability']}, MKL {'yes' if stack['mkl'] else 'no'})"
    machine["transformers"], machine["peft"] = stack["transformers"], stack["peft"]

    results = []
    for number in selected:
        text, function = CASES[number]
        print(f"\ncase {number}: {text}", file=sys.stderr, flush=True)
        case_started, case_load = time.perf_counter(), loadavg()
        try:
            case = function(ctx)
        except CaseError as err:
            case = CaseResult(number, text, [Row("error", "see details", status="ERROR")],
                              ["```text", str(err), "```"])
        case.seconds = time.perf_counter() - case_started
        case.load = f"{case_load} at the start, {loadavg()} at the end"
        results.append(case)
        for row in case.rows:
            print(f"  {row.status:>5}  {row.metric}: {row.ours} (baseline {row.baseline}, ratio {row.ratio}, "
                  f"target {row.target})", file=sys.stderr, flush=True)

    minutes = (time.perf_counter() - started) / 60
    floors = [c.floor_kib for c in ctx.children if c.floor_kib]
    extra = {"duration": f"{minutes:.1f} min", "load_start": load_start, "load_end": loadavg(),
             "floor": f"{min(floors) / 1024:.0f} to {max(floors) / 1024:.0f} MiB" if floors else "?",
             "repeat": args.repeat, "note": args.note}
    argv = sys.argv[1:]
    write_report(output, results, machine, extra, argv)
    (WORK / "results.json").write_text(json.dumps(
        {"machine": machine, **extra, "argv": argv,
         "cases": [{"number": c.number, "title": c.title, "rows": [asdict(r) for r in c.rows],
                    "seconds": c.seconds, "raw": c.raw} for c in results]}, indent=1, default=str))
    print(f"\nwrote {output.relative_to(REPO) if output.is_relative_to(REPO) else output} "
          f"({minutes:.1f} min)", file=sys.stderr)
    return 1 if any(r.status in ("FAIL", "ERROR") for c in results for r in c.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
