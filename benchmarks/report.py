"""The report of a benchmark run: each case's rows and notes, written as benchmarks/RESULTS.md (for people)
and benchmarks/results.json (the headline figures, for tests that check the figures the README and lecture
quote). Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness import GB


def secs(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f} s"


def gb(v, digits=2):
    return "-" if v is None else f"{v / 1e6:.0f} MB" if abs(v) < 0.1 * GB else f"{v / GB:.{digits}f} GB"


def ratio(a, b):
    return "-" if a is None or not b or b < 0.05 else f"{a / b:.2f}"


@dataclass
class Case:
    number: int
    title: str
    rows: list[dict] = field(default_factory=list)  # metric, ours, baseline, ratio, target, status
    details: list[str] = field(default_factory=list)  # markdown lines
    headline: dict = field(default_factory=dict)  # figures for benchmarks/results.json
    seconds: float = 0.0
    load: str = ""

    def row(self, metric, ours, baseline="-", ratio_="-", target="-", ok=None):
        status = "info" if ok is None else "PASS" if ok else "FAIL"
        self.rows.append(dict(metric=metric, ours=ours, baseline=baseline, ratio=ratio_, target=target, status=status))


def write_report(path: Path, cases: list[Case], machine: dict, extra: dict) -> None:
    lines = [
        "# Benchmark results", "",
        f"Written by `{extra['command']}` ({extra['duration_min']} min). Every figure below comes from that one run "
        "of `benchmarks/run.py` on the machine described here; ratios compare ours and the baseline measured in "
        "the same run. Machine-readable headline figures: [results.json](results.json). Do not edit by hand: "
        "rerun the harness (see benchmarks/README.md).", "",
        *([f"> **Note:** {extra['note']}", ""] if extra.get("note") else []),
        "## Machine", "", "| | |", "|---|---|", *[f"| {k} | {v} |" for k, v in machine.items()],
        f"| load average (1 / 5 / 15 min) | at start {extra['load_start']}; at end {extra['load_end']} |",
        f"| repeats | {extra['repeat']} (figures are medians over the repeats) |", "",
        "Wall time: from just before the child process starts to its reap, measured by the parent. Peak RSS: the "
        "child's `ru_maxrss` from `os.wait4` (reported in GB = 10^9 bytes). Children cache bytecode (warm) and "
        "write unbuffered output. Phases: the parent's timestamps of the lines each program prints anyway.", "",
        "## Summary", "", "| case | metric | ours | baseline | ours / baseline | target | result |",
        "|---|---|---|---|---|---|---|",
        *[f"| {c.number} | " + " | ".join(list(r.values())[:5]) + f" | **{r['status']}** |"
          for c in cases for r in c.rows if r["status"] != "info"]]
    for c in cases:
        lines += ["", f"## {c.number}. {c.title}", "", f"Case run time {secs(c.seconds, 0)}; load average "
                  f"(1 / 5 / 15 min) {c.load}.", "", "| metric | ours | baseline | ours / baseline | target | result |",
                  "|---|---|---|---|---|---|",
                  *["| " + " | ".join(r.values()) + " |" for r in c.rows],
                  *(["", *c.details] if c.details else [])]
        while lines[-1] == "":  # a case whose notes end with a blank line
            lines.pop()
    path.write_text("\n".join(lines).rstrip() + "\n")


def headline(cases: list[Case], machine: dict, extra: dict) -> dict:
    out = {"command": extra["command"], "date": machine["date"], "commit": machine["commit"],
           "duration_min": extra["duration_min"], "repeat": extra["repeat"], "machine": machine,
           "load_average": {"start": extra["load_start"], "end": extra["load_end"]}}
    for case in cases:
        for key, value in case.headline.items():
            out[key] = {**out[key], **value} if isinstance(out.get(key), dict) else value
    rows = [{"case": c.number, **r} for c in cases for r in c.rows if r["status"] != "info"]
    out["targets"] = {"met": sum(r["status"] == "PASS" for r in rows), "total": len(rows), "rows": rows}
    return out
