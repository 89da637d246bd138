#!/usr/bin/env python3
"""What the in-kernel code capture costs, against what it names.

At sample time the sampler copies the naming bytes of each code object a
process has not sent yet (bpf/python_code_capture.bpf.h); later samples
only look the code object up in an LRU map. This runs three workloads,
one copy per CPU, each recorded at 999 Hz with the capture on and off
(PYROGRAPH_NO_CODE_CAPTURE, read by `record` for this measurement only),
alternating, and prints per case:

- the sampler program's BPF time per sample (the kernel's BPF statistics,
  the median of 0.5 s windows over the steady part of the run);
- the capture records per second (and their bytes in the ring buffer,
  at CAPTURE_RECORD_BYTES each);
- pyrograph's own CPU (user + system) per sample;
- the share of Python frames that were named.

Workloads: `steady`, a 20-level recursion burning CPU (the same code
objects all along: the capture's steady cost is the lookups); `exec`,
functions compiled from source and run for 10 ms each; `import`, a tree
of stdlib packages imported and forgotten again and again (both from the
test fixture short_code.py: code objects freed within milliseconds).
Needs root.

usage: bench/code_capture_cost.py [PYROGRAPH] [--rounds N] [--python PATH]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unwind_cost import (WORKLOAD as RECURSION, median, new_sampler_ids, sampler_programs,  # noqa: E402
                         sampler_stats, steal_ticks)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHORT_CODE = os.path.join(ROOT, "Tests/PyrographTests/Fixtures/python/short_code.py")
PYTHON_FRAME = re.compile(r".* \(.*:\d+\)$")
UNNAMED_PYTHON = ("[python frame unreadable]", "[frame code is not a code object]")
CAPTURE_LINE = re.compile(r"code objects captured in the kernel: (\d+)")
SECONDS = 8.0
# sizeof(struct pyro_code_capture) and the ring buffer's 8-byte header.
CAPTURE_RECORD_BYTES = 880 + 8


def workload(case, python, seconds, scratch):
    if case == "steady":
        return [python, "-c", RECURSION, "18", str(seconds)]
    return [python, "-B", SHORT_CODE, case, str(seconds), os.path.join(scratch, "seen-%s.json" % case)]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(case, python, binary, capture, scratch):
    copies = [subprocess.Popen(workload(case, python, SECONDS + 2, scratch), stdout=subprocess.DEVNULL)
              for _ in range(os.cpu_count() or 1)]
    time.sleep(1.0)
    out = os.path.join(scratch, "%s.folded" % case)
    env = dict(os.environ)
    env.pop("PYROGRAPH_NO_CODE_CAPTURE", None)
    if not capture:
        env["PYROGRAPH_NO_CODE_CAPTURE"] = "1"
    others = {p["id"] for p in sampler_programs()}
    pids = [arg for c in copies for arg in ("-p", str(c.pid))]
    recorder = subprocess.Popen([binary, "record", "-F", "999", "-d", str(SECONDS), "--full-filenames", "-o", out] + pids,
                                stderr=subprocess.PIPE, universal_newlines=True, env=env)
    ids = new_sampler_ids(others, SECONDS)
    time.sleep(1.0)
    windows = []
    steal_before = steal_ticks()
    cpu_before = cpu_seconds(recorder.pid)
    first = previous = sampler_stats(ids)
    for _ in range(int((SECONDS - 3.0) / 0.5)):
        time.sleep(0.5)
        current = sampler_stats(ids)
        if current[1] > previous[1]:
            windows.append((current[0] - previous[0]) / (current[1] - previous[1]))
        previous = current
    cpu = cpu_seconds(recorder.pid) - cpu_before
    runs = previous[1] - first[1]
    summary = recorder.communicate()[1]
    for c in copies:
        c.wait()
    named = unnamed = samples = 0
    with open(out) as folded:
        for line in folded:
            stack, count = line.rsplit(" ", 1)
            count = int(count)
            samples += count
            for frame in stack.split(";"):
                if frame in UNNAMED_PYTHON:
                    unnamed += count
                elif PYTHON_FRAME.match(frame):
                    named += count
    captured = CAPTURE_LINE.search(summary)
    return {"windows": windows, "cpu_per_run": cpu / runs if runs else 0.0, "samples": samples,
            "named": named, "unnamed": unnamed, "captures": int(captured.group(1)) if captured else 0,
            "steal": steal_ticks() - steal_before, "summary": summary}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pyrograph", nargs="?", default=os.path.join(ROOT, ".build/release/pyrograph"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--python", default="/root/.pyenv/versions/3.12.1/bin/python")
    parser.add_argument("--cases", default="steady,exec,import")
    args = parser.parse_args()
    previous = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1")
    results = {}
    try:
        with tempfile.TemporaryDirectory(prefix="pyrograph-capture-cost-") as scratch:
            for case in args.cases.split(","):
                for _ in range(args.rounds):
                    for capture in (True, False):
                        results.setdefault((case, capture), []).append(
                            measure(case, args.python, args.pyrograph, capture, scratch))
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(previous)
    print("Python %s, 999 Hz, one copy per CPU, %d alternating rounds of %.0f s per setting" %
          (args.python, args.rounds, SECONDS))
    print()
    print("| workload | capture | BPF time per sample (median, range) | captures per s (ring KB/s) | "
          "pyrograph CPU per sample | Python frames named | steal ticks |")
    print("|---|---|---|---|---|---|---|")
    for (case, capture), runs in results.items():
        windows = [w for r in runs for w in r["windows"]]
        named = sum(r["named"] for r in runs)
        unnamed = sum(r["unnamed"] for r in runs)
        captures = sum(r["captures"] for r in runs) / (len(runs) * SECONDS)
        cpu = median([r["cpu_per_run"] for r in runs])
        print("| %s | %s | %.1f us (%.1f-%.1f) | %.0f (%.0f) | %.0f us | %.1f%% of %d | %d |" % (
            case, "on" if capture else "off", median(windows) / 1000, min(windows) / 1000, max(windows) / 1000,
            captures, captures * CAPTURE_RECORD_BYTES / 1024, cpu * 1e6, 100.0 * named / max(named + unnamed, 1), named + unnamed,
            sum(r["steal"] for r in runs)))


if __name__ == "__main__":
    main()
