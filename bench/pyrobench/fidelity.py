"""Figure 4: fidelity. workloads/shares.py spends its CPU in four functions
in known proportions (50/25/15/10 %, measured with thread_time() as it
runs); each profiler records it, and its share of each function is the
samples holding that function over the samples holding any of the four.
The score is the largest absolute error, in percentage points. Beside it,
the sampling noise alone: one binomial standard deviation of the largest
share for that many samples.
"""
import math
import os

from . import jobs
from .folded import read_stacks, samples_with_function
from .slowdown import SETTLE_S, make_profiler

import time

NAMES = ["share_50", "share_25", "share_15", "share_10"]


def one(settings, python, kind, rate, budget, tmp):
    job = jobs.Job(python, "shares.py", budget)
    recording = None
    try:
        profiler = make_profiler(settings, kind, rate, False)
        stem = os.path.join(tmp, "fidelity-%s-%d" % (kind, job.pid))
        recording = profiler.start(stem + ".folded", stem + ".log", pids=[job.pid])
        recording.wait_ready()
        time.sleep(SETTLE_S)
        truth = job.run()["truth"]
        job.wait()
        recording.stop()
        counts = samples_with_function(read_stacks(recording.output), NAMES)
        total = sum(counts.values())
        measured = {n: counts[n] / total for n in NAMES} if total else {n: 0.0 for n in NAMES}
        errors = {n: 100.0 * abs(measured[n] - truth[n]) for n in NAMES}
        p = truth["share_50"]
        return {
            "profiler": kind, "rate_hz": rate, "samples": total,
            "truth_pct": {n: 100.0 * truth[n] for n in NAMES},
            "measured_pct": {n: 100.0 * measured[n] for n in NAMES},
            "max_error_points": max(errors.values()),
            "noise_points": 100.0 * math.sqrt(p * (1 - p) / total) if total else None,
        }
    finally:
        job.kill()
        if recording:
            recording.kill()


def run(settings, tmp, log):
    rows = []
    for version, python in settings.pythons:
        for kind, rate, budget in settings.fidelity:
            if kind == "py-spy" and not settings.pyspy:
                continue
            row = one(settings, python, kind, rate, budget, tmp)
            row["python"] = version
            rows.append(row)
            log("  %-4s %-9s %4d Hz: %5d samples, largest error %.2f points (noise %.2f)" % (
                version, kind, rate, row["samples"], row["max_error_points"], row["noise_points"] or float("nan")))
    return rows
