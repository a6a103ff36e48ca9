"""Tiny Audio class 2 benchmarks: each measurement is one child process, measured from the outside.

    python benchmarks/run.py                    # all cases -> benchmarks/RESULTS.md and benchmarks/results.json
    python benchmarks/run.py --case 2 --case 8  # a subset -> benchmarks/.work/RESULTS-partial.md (and .json)
    python benchmarks/run.py --repeat 3         # each figure is the median of 3 runs
    python benchmarks/run.py --list             # what each case measures

Wall time runs from just before a child starts to its reap; peak RSS is its ``ru_maxrss``; phases come from
the parent's timestamps of the lines the program prints anyway (see benchmarks/README.md).
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
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import BENCH_DIR as BENCH, GB, REPO, WORK, ChildResult, loadavg, machine_info, median  # noqa: E402
from harness import run_child  # noqa: E402
from report import Case, gb, headline, ratio, secs, write_report  # noqa: E402

PY = sys.executable
EX = REPO / "exercises"
HUBERT = [PY, EX / "explore_hubert.py"]
TEST_WAV = REPO / "assets" / "test.wav"
XLARGE_PARAMS = 962_497_408  # HubertModel parameters of hubert-xlarge-ls960-ft (count_params.py: encoder, frozen)
WEIGHT_BYTES = XLARGE_PARAMS * 4  # fp32: 3.85 GB
CHECKPOINT = WORK / "hubert-xlarge"
# Lines each program prints anyway; the phases of a run lie between them (then: last line, exit).
OURS = (r"^(Building|Loading) ", r"^Exercise 2:", r"^Encoding ")  # explore_hubert's progress and first result
BASE = (r"^\[bench\] imported", r"^\[bench\] model ready", r"^\[bench\] encoding")  # the baselines' own
PHASES = ("start-up, imports, audio", "build / load", "set-up before encoding", "encoding and report",
          "shutdown (last line -> exit)")
HELP_RUNS = 7  # case 6: --help runs per script (x --repeat)
DTYPE_TOLERANCE = {"max_abs_diff_rel": 0.05, "min_frame_cosine": 0.99}  # half precision vs float32 (case 8)


def wall(runs):
    return median([r.wall_s for r in runs])


def peak(runs):
    return median([r.maxrss_kib * 1024 for r in runs])


class CaseError(RuntimeError):
    pass


class Bench:
    def __init__(self, args):
        self.repeat, self.echo, self.timeout, self.minutes = args.repeat, args.echo, args.timeout, args.long_minutes
        self.children = []

    def child(self, cmd, label, check=True, timeout=None) -> ChildResult:
        shown = " ".join(str(c).replace(str(REPO) + "/", "") for c in cmd).replace(PY, "python")
        print(f"  [{time.strftime('%H:%M:%S')}] {label}: {shown}", file=sys.stderr, flush=True)
        run = run_child(cmd, label, timeout_s=timeout or self.timeout, echo=self.echo)
        print(f"      rc={run.rc} wall={run.wall_s:.2f} s peak RSS={run.peak_gb:.2f} GB (load {loadavg()})",
              file=sys.stderr, flush=True)
        self.children.append(run)
        if check and not run.ok:
            why = "timed out" if run.timed_out else f"exit status {run.rc}"
            raise CaseError(f"`{shown}` failed ({why}); log: {run.log.relative_to(REPO)}\n{run.tail()}")
        return run

    def pairs(self, ours, base, label):
        """Run ours and the baseline ``repeat`` times each, alternating which goes first."""
        runs = {"ours": [], "baseline": []}
        for rep in range(self.repeat):
            order = [("ours", ours), ("baseline", base)]
            for kind, cmd in order if rep % 2 == 0 else order[::-1]:
                runs[kind].append(self.child(cmd, f"{label}-{kind}-{rep + 1}"))
        return runs["ours"], runs["baseline"]

    def runs(self, cmd, label, n=None, **kwargs):
        return [self.child(cmd, f"{label}-{i + 1}", **kwargs) for i in range(n or self.repeat)]

    def json(self, cmd, label):
        return json.loads(self.child(cmd, label).stdout().strip().splitlines()[-1])

    def clip(self, seconds, name):
        path = WORK / name
        if not path.exists():
            self.child([PY, BENCH / "probes" / "make_audio.py", path, seconds], f"make-{path.stem}")
        return path


def phase(runs, index, patterns=OURS):
    return median([r.phases(patterns)[index] for r in runs])


def compare(case, ours, base, wall_target="-", wall_ok=None, rss_target="-", rss_ok=None, prefix=""):
    """The whole-process rows: wall time and peak RSS, ours against the baseline."""
    case.row(f"{prefix}whole process, wall", secs(wall(ours)), secs(wall(base)), ratio(wall(ours), wall(base)),
             wall_target, wall_ok)
    case.row(f"{prefix}whole process, peak RSS", gb(peak(ours)), gb(peak(base)), ratio(peak(ours), peak(base)),
             rss_target, rss_ok)


def phase_rows(case, ours, base, base_patterns=BASE):
    for i, name in enumerate(PHASES):
        o, b = phase(ours, i), phase(base, i, base_patterns)
        case.row(f"phase: {name}", secs(o), secs(b), ratio(o, b))


def memory_rows(case, ours, base, base_patterns=BASE):
    o, b = ours[len(ours) // 2].memory(OURS), base[len(base) // 2].memory(base_patterns)
    for key, label in (("imports", "RSS after imports (+ audio)"), ("weights", "RSS added by the build / load"),
                       ("build_transient", "transient above that during the build"),
                       ("encoding", "peak above the RSS before encoding (activations)")):
        case.row(f"memory: {label}", gb(o and o[key]), gb(b and b[key]))
    return o


# ----- the cases (what each measures and how: benchmarks/README.md) ------------------------------------------
def case_count(bench: Bench) -> Case:
    case = Case(1, "Counting the full model (count_params.py, meta device)")
    ours, base = bench.pairs([PY, EX / "count_params.py"], [PY, BENCH / "baselines" / "count_encoder_plain.py"],
                             "case1")
    counts = [[int(n.replace(",", "")) for n in re.findall(r"\d[\d,]{4,}", getattr(r.first(p), "text", ""))]
              for r, p in ((ours[0], r"^encoder "), (base[0], r"total "), (ours[0], r"^overall "))]
    compare(case, ours, base, "<= 10 s", wall(ours) <= 10, "<= 1.5 GB", peak(ours) <= 1.5 * GB)
    case.row("encoder parameters (total / trainable)", " / ".join(f"{n:,}" for n in counts[0][:2]),
             " / ".join(f"{n:,}" for n in counts[1][:2]), "-", "identical", counts[0][:2] == counts[1][:2] != [])
    overall, ram = (counts[2] or [0])[0], machine_info()["ram"]
    case.details = [f"The whole model has {overall:,} parameters: {gb(overall * 4, 1)} of fp32 weights "
                    f"({gb(overall * 2, 1)} in bf16) against this machine's {ram} of RAM, so only the meta device "
                    "can count it."]
    case.headline = {"count_params": {"wall_s": round(wall(ours), 2), "peak_rss_gb": round(peak(ours) / GB, 2)}}
    return case


def case_random(bench: Bench) -> Case:
    case = Case(2, "HuBERT-XLarge, random weights, on assets/test.wav (explore_hubert.py --weights random)")
    ours, base = bench.pairs([*HUBERT, "--weights", "random"],
                             [PY, BENCH / "baselines" / "hubert_random_plain.py", TEST_WAV], "case2")
    limit = 1.15 * WEIGHT_BYTES
    compare(case, ours, base, "ratio <= 0.6", wall(ours) / wall(base) <= 0.6, f"<= 1.15 x weights = {gb(limit)}",
            peak(ours) <= limit)
    cpu = [median([r.user_s + r.sys_s for r in runs]) for runs in (ours, base)]
    case.row("whole process, CPU time (user + sys)", secs(cpu[0]), secs(cpu[1]), ratio(*cpu))
    phase_rows(case, ours, base)
    mem = memory_rows(case, ours, base)
    steps = bench.json([PY, BENCH / "probes" / "import_rss.py"], "case2-import-rss")
    imports = steps["steps"][-1]["rss_mb"] * 1e6
    case.details = ["Importing the stack in a fresh process (`probes/import_rss.py`): " + ", ".join(
        f"`{s['module']}` {s['rss_mb']:.0f} MB at {s['seconds']:.2f} s" for s in steps["steps"]) + "; resident after "
        "them, by mapping: " + ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(
            steps["mappings"].items(), key=lambda kv: -kv[1])) + "."]
    if mem:
        floor = (wall(ours) - phase(ours, 1)) / wall(base)
        case.details += ["", f"**Where the floors lie.** Memory: the weights must be resident ({gb(WEIGHT_BYTES)}; the "
                         f"build adds {gb(mem['weights'])}) on top of importing torch and transformers ({gb(imports)} "
                         f"in the probe, {gb(mem['imports'])} in the run and the baseline); encoding adds "
                         f"{gb(mem['encoding'])}. Imports + weights = {gb(imports + WEIGHT_BYTES)} vs 1.15 x weights = "
                         f"{gb(limit)}: in fp32 the target needs imports under {gb(limit - WEIGHT_BYTES)}; half "
                         "precision halves the weights (case 8). Time: imports, encoding and shutdown are the same "
                         f"libraries' work in both programs; with a build of 0 s ours would take {floor:.2f} of the "
                         f"baseline's wall time (our build: {secs(phase(ours, 1))}, the baseline's: "
                         f"{secs(phase(base, 1, BASE))})."]
    case.headline = {"explore_hubert_xlarge": {"float32": {"wall_s": round(wall(ours), 2),
                                                           "peak_rss_gb": round(peak(ours) / GB, 2)}}}
    return case


def case_pretrained(bench: Bench) -> Case:
    case = Case(3, "HuBERT-XLarge from a local safetensors checkpoint (explore_hubert.py --weights pretrained)")
    if not any(CHECKPOINT.glob("*.safetensors")) or not (CHECKPOINT / "preprocessor_config.json").exists():
        shutil.rmtree(CHECKPOINT, ignore_errors=True)
        bench.child([PY, BENCH / "probes" / "save_checkpoint.py", CHECKPOINT], "case3-save-checkpoint")
    for f in CHECKPOINT.glob("*.safetensors"):  # the same warm page cache for every run, whoever goes first
        with open(f, "rb") as handle:
            while handle.read(1 << 20):  # small reads: the parent's RSS is every child's floor
                pass
    ours, base = bench.pairs([*HUBERT, "--model", CHECKPOINT, "--weights", "pretrained"],
                             [PY, BENCH / "baselines" / "hubert_pretrained_plain.py", CHECKPOINT, TEST_WAV], "case3")
    if not all(r.first(r"^Loading ") for r in ours):
        raise CaseError("explore_hubert did not load the pretrained weights (no 'Loading ...' line)")
    load, base_load = phase(ours, 1), phase(base, 1, BASE)
    case.row("model load ('Loading' -> 'Exercise 2:' line; baseline: from_pretrained)", secs(load),
             secs(base_load), ratio(load, base_load), "<= 3 s", load is not None and load <= 3.0)
    compare(case, ours, base, "ratio <= 1.0", wall(ours) <= wall(base))
    phase_rows(case, ours, base)
    case.headline = {"explore_hubert_xlarge": {"pretrained_load_s": round(load, 2)}}
    return case


def case_flops(bench: Bench) -> Case:
    case = Case(4, "Forward efficiency: achieved GFLOP/s on a 30 s clip vs fp32 matmul")
    clip = bench.clip(30.0, "clip_30s.wav")
    checked = bench.json([PY, BENCH / "probes" / "check_flops.py", "tiny", "48123"], "case4-check-flops")
    data = bench.json([PY, BENCH / "probes" / "forward_flops.py", clip, "--profile", "--reps", bench.repeat],
                      "case4-forward-flops")
    flops, mm = data["flops"], data["mm_gflops_before"] + data["mm_gflops_after"]
    best, efficiency = max(mm), data["gflops"] / max(mm)
    case.row("forward pass: FLOPs (formula) / time after one warm-up / achieved", f"{flops['total'] / 1e12:.3f} "
             f"TFLOP / {secs(data['forward_s'])} / {data['gflops']:.1f} GFLOP/s")
    case.row("fp32 torch.mm 4096^2 in the same process (best / median)", f"{best:.1f} / {median(mm):.1f} GFLOP/s")
    case.row("achieved / best matmul", f"{100 * efficiency:.1f} %", "-", "-", ">= 70 %", efficiency >= 0.70)
    case.row("formula vs torch.utils.flop_counter (tiny HuBERT: convs + linears)",
             "agree" if checked["agree"] else "DISAGREE", "-", "-", "exact", checked["agree"])
    total = sum(c["self_s"] for c in data["categories"].values()) or 1.0
    case.details = [
        f"{data['seconds']:.1f} s, {data['frames']} frames; timed passes: "
        f"{', '.join(f'{t:.2f}' for t in data['forward_all_s'])} s; {data['threads']} torch threads; matmul "
        f"before and after: {', '.join(f'{x:.0f}' for x in mm)} GFLOP/s. FLOPs by part: " + ", ".join(
            f"{k} {v / 1e9:,.1f} G" for k, v in flops.items() if k not in ("total", "frames")) + ".", "",
        f"Profile of the warm-up pass ({secs(data['warmup_s'])} with the profiler's overhead), self CPU time:", "",
        "| kind of op | self time | share | GFLOP/s achieved | vs best matmul |", "|---|---:|---:|---:|---:|",
        *[f"| {name} | {secs(c['self_s'])} | {100 * c['self_s'] / total:.1f} % | " + (
            f"{c['flops'] / c['self_s'] / 1e9:.1f} | {100 * c['flops'] / c['self_s'] / 1e9 / best:.0f} % |"
            if c["flops"] and c["self_s"] else "- | - |") for name, c in data["categories"].items()]]
    return case


def case_long(bench: Bench) -> Case:
    minutes = bench.minutes
    case = Case(5, f"Long audio: a {minutes:g}-minute clip (explore_hubert.py, explore_audio.py)")
    short, long = bench.clip(60.0, "clip_1min.wav"), bench.clip(minutes * 60.0, f"clip_{minutes:g}min.wav")
    figure = WORK / f"explore_audio_{minutes:g}min.png"
    shorts = bench.runs([*HUBERT, "--weights", "random", short], "case5-hubert-1min")
    longs = bench.runs([*HUBERT, "--weights", "random", long], f"case5-hubert-{minutes:g}min", n=1, timeout=3600)
    audios = bench.runs([PY, EX / "explore_audio.py", long, "-o", figure], "case5-explore_audio")
    per_min = [phase(longs, 3) / minutes, phase(shorts, 3)]
    limit = WEIGHT_BYTES + 2 * GB
    case.row(f"explore_hubert {minutes:g} min: peak RSS", gb(peak(longs)), f"1 min: {gb(peak(shorts))}", "-",
             f"<= weights + 2 GB = {gb(limit)}", peak(longs) <= limit)
    case.row("explore_hubert: encoding seconds per audio-minute", secs(per_min[0], 1), f"1 min: {secs(per_min[1], 1)}",
             ratio(*per_min), "ratio <= 1.3", per_min[0] / per_min[1] <= 1.3)
    case.row(f"explore_hubert {minutes:g} min: whole process, wall", secs(wall(longs), 1),
             f"1 min: {secs(wall(shorts), 1)}")
    case.row(f"explore_audio {minutes:g} min: whole process, wall", secs(wall(audios)), "-", "-", "<= 10 s",
             wall(audios) <= 10)
    with open(figure, "rb") as handle:
        head = handle.read(24)
    size = struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else None
    case.row("explore_audio: peak RSS; its figure", f"{gb(peak(audios))}; " + (f"{size[0]} x {size[1]} px, "
             f"{figure.stat().st_size / 1e3:.0f} kB" if size else "missing"), "-", "-", "legible (inspect it)")
    start, end = longs[0].marks(OURS)[2:4]
    during = [rss * 1024 for t, rss in longs[0].samples if start and end and start + 60 <= t <= end]
    if during:
        case.details = [f"RSS sampled every 0.25 s while the {minutes:g}-minute clip was encoded (from 60 s after "
                        f"'Encoding' to its last line): min {gb(min(during))}, max {gb(max(during))}, last "
                        f"{gb(during[-1])} ({len(during)} samples; flat = bounded). Figure: `{figure.name}` in .work."]
    case.headline = {"explore_hubert_xlarge": {"long_audio": {"minutes": minutes, "peak_rss_gb": round(
        peak(longs) / GB, 2), "encoding_s_per_audio_minute": round(per_min[0], 1)}}}
    return case


def case_startup(bench: Bench) -> Case:
    case = Case(6, "Start-up: exercises/<name>.py --help, and explore_audio.py as a student first runs it")
    case.details = ["| script | median wall | all runs | peak RSS | heavy packages imported by --help |",
                    "|---|---:|---|---:|---|"]
    for script in sorted(EX.glob("*.py")):
        runs = bench.runs([PY, script, "--help"], f"case6-{script.stem}", n=HELP_RUNS * bench.repeat)
        heavy = bench.json([PY, BENCH / "probes" / "help_imports.py", script], f"case6-{script.stem}-imports")
        case.row(f"{script.name} --help, median of {len(runs)}", secs(wall(runs)), "-", "-", "<= 1 s",
                 wall(runs) <= 1.0)
        case.details.append(f"| `{script.name}` | {secs(wall(runs))} | {', '.join(f'{r.wall_s:.2f}' for r in runs)}"
                            f" | {gb(peak(runs), 3)} | {', '.join(heavy) or 'none'} |")
    audio = bench.runs([PY, EX / "explore_audio.py", "-o", WORK / "audio_processing.png"], "case6-explore_audio")
    case.row("explore_audio.py on assets/test.wav: wall / peak RSS", f"{secs(wall(audio))} / {gb(peak(audio))}")
    case.headline = {"explore_audio": {"wall_s": round(wall(audio), 2), "peak_rss_gb": round(peak(audio) / GB, 2)}}
    return case


def case_tests(bench: Bench) -> Case:
    case = Case(7, "The test suite: python -m pytest, quick (-m 'not slow') and full")
    for name, extra, limit in (("quick", ["-m", "not slow"], 30), ("full", [], 120)):
        run = bench.child([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=8", *extra],
                          f"case7-pytest-{name}", check=False, timeout=1800)
        summary = next((x.text.strip("= ") for x in reversed(run.lines) if re.search(r"\d+ (passed|failed)", x.text)),
                       "no summary")
        case.row(f"{name} run, wall", secs(run.wall_s, 1), "-", "-", f"< {limit} s, all passing",
                 run.wall_s < limit and run.rc == 0)
        case.row(f"{name} run: outcome; peak RSS", f"rc={run.rc}: {summary}; {gb(run.maxrss_kib * 1024)}")
        case.details += [f"Slowest tests, {name} run (`{shlex.join(['python', *run.cmd[1:]])}`):", "", "```text",
                         *[x.text.strip() for x in run.lines if re.match(r"^\d+\.\d+s (call|setup|teardown) ",
                                                                          x.text.strip())], "```", ""]
        case.headline.setdefault("tests", {})[f"{name}_s"] = round(run.wall_s, 1)
    return case


def case_dtype(bench: Bench) -> Case:
    case = Case(8, "Half precision: explore_hubert.py --weights random --dtype bfloat16 / float16")
    ours, fp32 = bench.pairs([*HUBERT, "--weights", "random", "--dtype", "bfloat16"], [*HUBERT, "--weights", "random"],
                             "case8-bfloat16")
    fp16 = bench.runs([*HUBERT, "--weights", "random", "--dtype", "float16"], "case8-float16", check=False)
    agree = bench.json([PY, BENCH / "probes" / "dtype_agreement.py", TEST_WAV, "--dtype", "bfloat16",
                        "--dtype", "float16"], "case8-agreement")
    compare(case, ours, fp32, rss_target="<= 2.8 GB", rss_ok=peak(ours) <= 2.8 * GB, prefix="bfloat16: ")
    ok16 = all(r.ok for r in fp16)
    case.row("float16: whole process, peak RSS / wall", f"{gb(peak(fp16))} / {secs(wall(fp16))}" if ok16 else
             f"failed: {fp16[0].tail(1)}", f"fp32: {gb(peak(fp32))} / {secs(wall(fp32))}")
    phase_rows(case, ours, fp32, OURS)
    mem, tol = memory_rows(case, ours, fp32, OURS), DTYPE_TOLERANCE
    for name, d in agree["dtypes"].items():
        ok = "error" not in d and d["finite"] and d["max_abs_diff_rel"] <= tol["max_abs_diff_rel"] \
            and d["min_frame_cosine"] >= tol["min_frame_cosine"]
        case.row(f"{name}: embeddings vs float32 (max abs diff / max abs value; min frame cosine)",
                 d.get("error") or f"{d['max_abs_diff_rel']:.4f}; {d['min_frame_cosine']:.5f}", "-", "-",
                 f"<= {tol['max_abs_diff_rel']}; >= {tol['min_frame_cosine']}", ok)
    case.details = [f"Agreement on assets/test.wav ({agree['frames']} frames x {agree['dim']}; max |fp32| "
                    f"{agree['max_abs_float32']:.3f}); mean frame cosine and forward time in the probe: " + ", ".join(
                        f"{n} {d['mean_frame_cosine']:.5f}, {secs(d['forward_s'])}" for n, d in agree["dtypes"].items()
                        if "error" not in d) + f" (float32: {secs(agree['float32_forward_s'])})."]
    build = bench.json([PY, BENCH / "probes" / "build_rss.py", "--dtype", "bfloat16"], "case8-build-rss")
    if mem:
        floor = mem["imports"] + build["tensor_bytes"] + mem["encoding"]
        case.details += ["", f"**Where the bfloat16 floor lies.** Imports {gb(mem['imports'])} + the weights' "
                         f"{gb(build['tensor_bytes'])} + encoding {gb(mem['encoding'])} = {gb(floor)}, against a "
                         f"peak of {gb(peak(ours))}. In `probes/build_rss.py` the build adds "
                         f"{gb(build['built'] - build['imports'])} for {gb(build['tensor_bytes'])} of tensors, and "
                         f"glibc's `malloc_trim(0)` right after it returns {gb(build['built'] - build['trimmed'])}: "
                         "freed memory the allocator keeps from the float32 temporaries the weights are drawn in."]
    case.headline = {"explore_hubert_xlarge": {
        "bfloat16": {"wall_s": round(wall(ours), 2), "peak_rss_gb": round(peak(ours) / GB, 2)},
        "float16": {"wall_s": round(wall(fp16), 2), "peak_rss_gb": round(peak(fp16) / GB, 2)} if ok16 else None,
        "agreement": {n: {k: round(v, 6) if isinstance(v, float) else v for k, v in d.items()}
                      for n, d in agree["dtypes"].items()}, "tolerance": tol}}
    return case


CASES = {
    1: ("count_params.py on the meta device vs materialising the encoder", case_count),
    2: ("explore_hubert.py --weights random vs HubertModel(config) + forward", case_random),
    3: ("explore_hubert.py from a local safetensors checkpoint vs AutoModel.from_pretrained", case_pretrained),
    4: ("achieved forward GFLOP/s on 30 s vs fp32 matmul GFLOP/s", case_flops),
    5: ("10-minute audio: bounded memory, linear cost; explore_audio.py speed and figure", case_long),
    6: ("--help start-up time of every exercise; explore_audio.py on the sample", case_startup),
    7: ("the test suite: quick (-m 'not slow') and full", case_tests),
    8: ("explore_hubert.py --dtype bfloat16 / float16: peak RSS and agreement with float32", case_dtype),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--case", type=int, action="append", choices=sorted(CASES), help="only this case (repeatable)")
    parser.add_argument("--repeat", type=int, default=1, help="run each measurement K times, report the median")
    parser.add_argument("--long-minutes", type=float, default=10.0, help="case 5's long clip (the target is for 10)")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds before a child is killed")
    parser.add_argument("--output", type=Path, help="report path (default: benchmarks/RESULTS.md for a full run, "
                        "benchmarks/.work/RESULTS-partial.md with --case); the JSON goes beside it")
    parser.add_argument("--echo", action="store_true", help="stream every child's output to stderr")
    parser.add_argument("--note", help="a line to print at the top of the report")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(f"{n}. {text}" for n, (text, _) in CASES.items()))
        return 0
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    output = args.output or (BENCH / "RESULTS.md" if not args.case else WORK / "RESULTS-partial.md")
    WORK.mkdir(parents=True, exist_ok=True)
    bench, started, load_start, machine = Bench(args), time.perf_counter(), loadavg(), machine_info()
    stack = bench.json([PY, BENCH / "probes" / "env_info.py"], "env-info")  # also warms imports and bytecode
    machine["torch"] = (f"{stack['torch']} ({stack['torch_threads']} threads, CPU capability "
                        f"{stack['cpu_capability']}, MKL {'yes' if stack['mkl'] else 'no'})")
    cases = []
    for number in sorted(set(args.case or CASES)):
        text, function = CASES[number]
        print(f"\ncase {number}: {text}", file=sys.stderr, flush=True)
        case_started, case_load = time.perf_counter(), loadavg()
        try:
            case = function(bench)
        except Exception as err:  # a child failed (CaseError) or a bug: say so in the report and go on
            case = Case(number, text, details=["```text", str(err) if isinstance(err, CaseError)
                                               else traceback.format_exc(), "```"])
            case.row("the case could not finish (see below)", "error", target="runs", ok=False)
        case.seconds = time.perf_counter() - case_started
        case.load = f"{case_load} at the start, {loadavg()} at the end"
        cases.append(case)
        print("\n".join(f"  {r['status']:>5}  {r['metric']}: {r['ours']} (baseline {r['baseline']})"
                        for r in case.rows), file=sys.stderr)
    floors = [c.floor_kib / 1024 for c in bench.children if c.floor_kib]
    machine["harness RSS at child start"] = (f"{min(floors):.0f} to {max(floors):.0f} MiB (the most of a child's "
                                             "ru_maxrss that can be the parent's; see harness.py)")
    extra = {"command": shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]), "note": args.note,
             "duration_min": round((time.perf_counter() - started) / 60, 1), "load_start": load_start,
             "load_end": loadavg(), "repeat": args.repeat}
    write_report(output, cases, machine, extra)
    output.with_name("results.json" if output.name == "RESULTS.md" else output.stem + ".json").write_text(
        json.dumps(headline(cases, machine, extra), indent=1) + "\n")
    print(f"\nwrote {output} ({extra['duration_min']} min)", file=sys.stderr)
    return 1 if any(r["status"] == "FAIL" for c in cases for r in c.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
