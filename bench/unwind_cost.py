#!/usr/bin/env python3
"""Kernel-side cost of one sample, for a shallow and a deep mixed stack.

Runs a Python recursion of a given depth that burns CPU at the bottom,
records it with pyrograph, and reads the sampler program's run time from
the kernel's BPF statistics (kernel.bpf_stats_enabled) while it runs. Prints
the mean BPF time per sample and the mean frames per sample, and the unwind
table memory pyrograph reports. Needs root.

usage: bench/unwind_cost.py [PYROGRAPH]
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYROGRAPH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/release/pyrograph")
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
CASES = [
    ("about 30 frames (3.10, 4 Python levels)", "/root/.pyenv/versions/3.10.13/bin/python", 2),
    ("about 30 frames (3.11, 16 Python levels)", "/root/.pyenv/versions/3.11.7/bin/python", 12),
    ("deep (3.10, 300 Python levels)", "/root/.pyenv/versions/3.10.13/bin/python", 300),
]


def sampler_stats():
    shown = json.loads(subprocess.check_output(["bpftool", "-j", "prog", "show", "name", "pyro_sample_cpu"],
                                               stderr=subprocess.DEVNULL))
    shown = shown if isinstance(shown, list) else [shown]
    return sum(p.get("run_time_ns", 0) for p in shown), sum(p.get("run_cnt", 0) for p in shown)


def measure(label, interpreter, depth, seconds=6.0):
    # One busy copy per CPU: the sampler also runs on idle CPUs, where it
    # returns at once, and those runs would dilute the mean.
    workloads = [subprocess.Popen([interpreter, "-c", WORKLOAD, str(depth), str(seconds + 2)])
                 for _ in range(os.cpu_count() or 1)]
    time.sleep(1.0)
    out = "/tmp/pyrograph-unwind-cost.folded"
    pids = [arg for w in workloads for arg in ("-p", str(w.pid))]
    recorder = subprocess.Popen([PYROGRAPH, "record", "-F", "999", "-d", str(seconds)] + pids + ["-o", out],
                                stderr=subprocess.PIPE, universal_newlines=True)
    # Skip start-up (verification, table loading): measure a steady window.
    loaded = time.time()
    while time.time() - loaded < seconds:
        try:
            sampler_stats()
            break
        except subprocess.CalledProcessError:
            time.sleep(0.1)
    time.sleep(1.0)
    start_time, start_runs = sampler_stats()
    time.sleep(seconds - 3.0)
    end_time, end_runs = sampler_stats()
    run_time, runs = end_time - start_time, end_runs - start_runs
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
        "bpf_ns_per_sample": run_time / runs if runs else float("nan"),
        "bpf_runs": runs,
        "frames_per_sample": frames / samples if samples else 0.0,
        "unwind_tables": table[0] if table else "",
    }


def main():
    previous = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1")
    try:
        wanted = os.environ.get("UNWIND_COST_CASES")
        cases = [c for i, c in enumerate(CASES) if wanted is None or str(i) in wanted.split(",")]
        results = [measure(*case) for case in cases]
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(previous)
    print("| stack | frames per sample | BPF time per sample | unwind tables |")
    print("|---|---|---|---|")
    for r in results:
        print("| %s | %.0f | %.1f us (%d runs) | %s |" % (r["case"], r["frames_per_sample"],
                                                      r["bpf_ns_per_sample"] / 1000.0, r["bpf_runs"], r["unwind_tables"]))


if __name__ == "__main__":
    main()
