#!/usr/bin/env python3
"""Kernel-side cost of one sample, for a shallow and a deep mixed stack.

Runs a Python recursion of a given depth that burns CPU at the bottom (one
copy per CPU), records it with pyrograph, and reads the sampler program's
run time from the kernel's BPF statistics (kernel.bpf_stats_enabled) in
half-second windows. Prints the median BPF time per sample, the frames per
sample, and the unwind table memory pyrograph reports. Needs root.

With a BASELINE binary (an older pyrograph), each case runs ROUNDS times
with each binary, alternating, and the table gives both and their ratio:
on a shared host the absolute figures drift by up to 2x between minutes,
while the ratio measured side by side holds.

usage: bench/unwind_cost.py [PYROGRAPH [BASELINE]]
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYROGRAPH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/release/pyrograph")
BASELINE = sys.argv[2] if len(sys.argv) > 2 else None
ROUNDS = int(os.environ.get("UNWIND_COST_ROUNDS", "2"))
WORKLOAD = """
import sys, time
sys.setrecursionlimit(10000)
def recurse(n, deadline):
    if n == 0:
        x = 0
        while time.time() < deadline:
            for i in range(10000):
                x += i
        return x
    return recurse(n - 1, deadline)
recurse(int(sys.argv[1]), time.time() + float(sys.argv[2]))
"""
# (label, interpreter, recursion depth): depths chosen so the first two
# stacks have about 30 frames (kernel, native and Python together).
CASES = [
    ("3.10, 10 Python levels", "/root/.pyenv/versions/3.10.13/bin/python", 8),
    ("3.11, 20 Python levels", "/root/.pyenv/versions/3.11.7/bin/python", 18),
    ("3.10, 300-deep recursion (302 Python levels)", "/root/.pyenv/versions/3.10.13/bin/python", 300),
]


def sampler_programs():
    try:
        shown = json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show", "name", "pyro_sample_cpu"],
                                                   stderr=subprocess.DEVNULL))
    except subprocess.CalledProcessError:
        return []
    return shown if isinstance(shown, list) else [shown]


def sampler_stats(ids):
    """Run time and runs of the sampler programs with these ids: this
    recording's, not those of any other pyrograph on the host."""
    shown = [p for p in sampler_programs() if p["id"] in ids]
    return sum(p.get("run_time_ns", 0) for p in shown), sum(p.get("run_cnt", 0) for p in shown)


def new_sampler_ids(others, seconds):
    """The ids of the sampler programs a recording just started loaded
    (not in `others`), once they appear, within `seconds`."""
    ids = set()
    started = time.time()
    while not ids and time.time() - started < seconds:
        time.sleep(0.1)
        ids = {p["id"] for p in sampler_programs()} - others
    return ids


def steal_ticks():
    """Ticks the hypervisor ran something else while this VM wanted the CPU."""
    with open("/proc/stat") as stat:
        return int(stat.readline().split()[8])


def measure(label, interpreter, depth, binary, seconds=6.0):
    # One busy copy per CPU: the sampler also runs on idle CPUs, where it
    # returns at once, and those runs would dilute the mean.
    workloads = [subprocess.Popen([interpreter, "-c", WORKLOAD, str(depth), str(seconds + 2)])
                 for _ in range(os.cpu_count() or 1)]
    time.sleep(1.0)
    out = "/tmp/pyrograph-unwind-cost.folded"
    pids = [arg for w in workloads for arg in ("-p", str(w.pid))]
    others = {p["id"] for p in sampler_programs()}
    recorder = subprocess.Popen([binary, "record", "-F", "999", "-d", str(seconds)] + pids + ["-o", out],
                                stderr=subprocess.PIPE, universal_newlines=True)
    # Skip start-up (verification, table loading): measure a steady window.
    ids = new_sampler_ids(others, seconds)
    time.sleep(1.0)
    # Half-second windows: the host's other tenants come and go, and the
    # median of the windows says what a sample costs when they do not.
    windows = []
    steal_before = steal_ticks()
    previous = sampler_stats(ids)
    for _ in range(int((seconds - 3.0) / 0.5)):
        time.sleep(0.5)
        current = sampler_stats(ids)
        runs = current[1] - previous[1]
        if runs:
            windows.append((current[0] - previous[0]) / runs)
        previous = current
    steal = steal_ticks() - steal_before
    summary = recorder.communicate()[1]
    for w in workloads:
        w.wait()
    samples = frames = 0
    with open(out) as folded:
        for line in folded:
            stack, count = line.rsplit(" ", 1)
            samples += int(count)
            frames += int(count) * (stack.count(";"))
    table = [l.strip() for l in summary.splitlines() if "native unwinding" in l]
    return {
        "case": label,
        "windows": windows,
        "steal_ticks": steal,
        "frames_per_sample": frames / samples if samples else 0.0,
        "unwind_tables": table[0] if table else "",
    }


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else float("nan")


def main():
    previous = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1")
    rows = []
    try:
        wanted = os.environ.get("UNWIND_COST_CASES")
        cases = [c for i, c in enumerate(CASES) if wanted is None or str(i) in wanted.split(",")]
        for case in cases:
            runs = {"new": [], "baseline": []}
            for _ in range(ROUNDS if BASELINE else 1):
                runs["new"].append(measure(*case, binary=PYROGRAPH))
                if BASELINE:
                    runs["baseline"].append(measure(*case, binary=BASELINE))
            rows.append((case[0], runs))
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(previous)
    print("| stack | frames per sample | BPF time per sample (median of 0.5 s windows, range)"
          + (" | baseline | ratio" if BASELINE else "") + " | steal ticks | unwind tables |")
    print("|---|---|---" + ("|---|---" if BASELINE else "") + "|---|---|")
    for label, runs in rows:
        new = [w for r in runs["new"] for w in r["windows"]]
        cells = ["%s" % label, "%.0f" % runs["new"][-1]["frames_per_sample"],
                 "%.1f us (%.1f-%.1f)" % (median(new) / 1000.0, min(new) / 1000.0, max(new) / 1000.0)]
        steal = sum(r["steal_ticks"] for r in runs["new"] + runs["baseline"])
        if BASELINE:
            old = [w for r in runs["baseline"] for w in r["windows"]]
            cells += ["%.1f us (%.1f-%.1f)" % (median(old) / 1000.0, min(old) / 1000.0, max(old) / 1000.0),
                      "%.2fx" % (median(new) / median(old))]
        cells += ["%d" % steal, runs["new"][-1]["unwind_tables"]]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
