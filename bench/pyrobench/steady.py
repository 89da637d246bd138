"""Figure 2, steady state: what a sample costs once the profiler knows the
process (no first-sight work such as reading its ELF symbols).

One busy thread whose frames tell the time (workloads/timeline.py) runs
under each profiler configuration. The profiler's CPU and BPF time are read
WARMUP and WARMUP + WINDOW seconds after it says it samples, and the samples
in between are those whose `at_<ms>ms` frame falls in the window.
"""
import json
import os
import time

from . import jobs, system
from .folded import BUCKET, read_stacks
from .slowdown import make_profiler

BUCKET_MS = 100


def samples_between(stacks, start_ms, end_ms):
    total = 0
    for frames, count in stacks:
        for frame in frames:
            m = BUCKET.match(frame)
            if m:
                if start_ms <= int(m.group(1)) < end_ms:
                    total += count
                break
    return total


def one(settings, python, config, tmp, warmup, window):
    label, kind, rate, nonblocking = config
    epoch = system.now()
    # Killed once the profiler has written its output.
    until = epoch + 600
    worker = jobs.start(python, "timeline.py", "%.6f" % epoch, "%.6f" % until, 1, BUCKET_MS, stdin=False)
    recording = None
    try:
        json.loads(worker.stdout.readline())
        profiler = make_profiler(settings, kind, rate, nonblocking)
        stem = os.path.join(tmp, "steady-%s-%d" % (kind, worker.pid))
        recording = profiler.start(stem + ".folded", stem + ".log", pids=[worker.pid])
        ready = recording.wait_ready()
        time.sleep(max(0.0, ready + warmup - system.now()))
        window_cost = jobs.Window(recording)
        time.sleep(max(0.0, ready + warmup + window - system.now()))
        cost = window_cost.close()
        found = recording.stop()
        # Whole buckets inside the window measured.
        start_ms = int((window_cost.t0 - epoch) * 1000 // BUCKET_MS + 1) * BUCKET_MS
        end_ms = int((window_cost.t0 + cost["window_s"] - epoch) * 1000 // BUCKET_MS) * BUCKET_MS
        samples = samples_between(read_stacks(recording.output), start_ms, end_ms)
        span = (end_ms - start_ms) / 1000.0
        scale = cost["window_s"] / span if span > 0 else float("nan")
        cpu = cost["window_cpu_s"] or 0.0
        return {
            "config": label, "samples_in_window": samples, "window_s": cost["window_s"],
            "samples_per_s": samples / span if span > 0 else None,
            "user_us": cpu / (samples * scale) * 1e6 if samples else None,
            "bpf_us": cost["bpf_s"] / (samples * scale) * 1e6 if samples else None,
            "total_us": (cpu + cost["bpf_s"]) / (samples * scale) * 1e6 if samples else None,
            "cpu_pct_of_core": 100.0 * cpu / cost["window_s"],
            "bpf_pct_of_core": 100.0 * cost["bpf_s"] / cost["window_s"],
            "bpf_runs": cost["bpf_runs"],
            # Every exec on the host costs pyrograph an inspection, even with -p.
            "host_execs_per_s": (cost["bpf_runs"]["pyro_process_exec"] / cost["window_s"]
                                 if "pyro_process_exec" in cost["bpf_runs"] else None),
            "lost": found.get("lost"),
            "max_rss_mb": found["max_rss_mb"],
        }
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        if recording:
            recording.kill()


def nan_if_none(value):
    return float("nan") if value is None else value


def run(settings, tmp, log):
    rows = []
    configs = [c for c in settings.configs if c[1] and (c[1] != "py-spy" or settings.pyspy)]
    warmup, window = (0.5, 1.0) if settings.smoke else (1.0, 3.0)
    for version, python in settings.pythons:
        for config in configs:
            row = one(settings, python, config, tmp, warmup, window)
            row["python"] = version
            rows.append(row)
            log("  %-4s %-27s %5d samples  %7.1f us/sample (user %.1f + BPF %.1f)" % (
                version, config[0], row["samples_in_window"], nan_if_none(row["total_us"]),
                nan_if_none(row["user_us"]), nan_if_none(row["bpf_us"])))
    return rows
