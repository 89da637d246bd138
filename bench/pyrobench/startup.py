"""Figure 5: start-up.

(a) Launch to first sample. A busy single-thread Python (timeline.py, frames
named after the time in 5 ms buckets) is already running; the profiler is
launched at T. Its first sample of that process is the earliest
`at_<ms>ms` frame in its output, so "launch to first sample" is that
bucket's middle minus T. "Launch to ready" is when it printed that it
samples (its log polled every 5 ms).

(b) Exec to first sample with Python frames. A spawner (spawner.py) starts
short-lived busy Pythons one after the other, after the profiler samples;
it notes the instant before each exec and each child notes its first Python
instant. A child's first sample with Python frames is again its earliest
`at_<ms>ms` frame. The interpreter's own start-up (exec to first Python
instant) is shown beside it, since no profiler can see Python frames
before there are any.

Modes: pyrograph recording the whole host (its default), pyrograph -p
(following the spawner's children), py-spy --pid (with --subprocesses).
"""
import json
import os
import statistics
import time

from . import jobs, system
from .folded import first_buckets, read_stacks
from .profilers import Pyrograph, PySpy

BUCKET_MS = 5
RATE = {"pyrograph": 99, "py-spy": 100}


def modes(settings):
    found = [("pyrograph (whole host)", Pyrograph(settings.pyrograph, 99), False),
             ("pyrograph -p", Pyrograph(settings.pyrograph, 99), True)]
    if settings.pyspy:
        found.append(("py-spy --pid", PySpy(settings.pyspy, 100), True))
    return found


def launch_trial(python, profiler, by_pid, tmp, record_s):
    epoch = system.now()
    worker = jobs.start(python, "timeline.py", "%.6f" % epoch, "%.6f" % (epoch + record_s + 10), 1, BUCKET_MS, stdin=False)
    recording = None
    try:
        json.loads(worker.stdout.readline())
        time.sleep(0.3)
        stem = os.path.join(tmp, "launch-%s-%d" % (profiler.name, worker.pid))
        recording = profiler.start(stem + ".folded", stem + ".log", pids=[worker.pid] if by_pid else ())
        launched = recording.launched_at
        ready = recording.wait_ready()
        time.sleep(max(0.0, launched + record_s - system.now()))
        recording.stop()
        first = first_buckets(read_stacks(recording.output), worker.pid).get(worker.pid)
        return {
            "launch_to_ready_ms": (ready - launched) * 1000,
            "launch_to_first_sample_ms": (epoch + (first + BUCKET_MS / 2.0) / 1000 - launched) * 1000
            if first is not None else None,
        }
    finally:
        worker.kill()
        worker.wait()
        if recording:
            recording.kill()


def exec_trial(python, profiler, by_pid, tmp, children, lifetime):
    epoch = system.now()
    spawner = jobs.start(python, "spawner.py", "%.6f" % epoch, children, lifetime, BUCKET_MS)
    recording = None
    try:
        assert spawner.stdout.readline().strip() == "ready"
        stem = os.path.join(tmp, "exec-%s-%d" % (profiler.name, spawner.pid))
        recording = profiler.start(stem + ".folded", stem + ".log", pids=[spawner.pid] if by_pid else (),
                                   children=True)
        recording.wait_ready()
        time.sleep(0.2)
        spawner.stdin.write("go\n")
        spawner.stdin.flush()
        kids = []
        for line in spawner.stdout:
            if line.strip() == "done":
                break
            kids.append(json.loads(line))
        time.sleep(0.1)
        recording.stop()
        spawner.stdin.close()
        spawner.wait()
        first = first_buckets(read_stacks(recording.output))
        rows = []
        for kid in kids:
            ms = first.get(kid["pid"])
            seen = epoch + (ms + BUCKET_MS / 2.0) / 1000 if ms is not None else None
            rows.append({
                "exec_to_python_start_ms": (kid["start"] - kid["exec"]) * 1000,
                "exec_to_first_python_sample_ms": (seen - kid["exec"]) * 1000 if seen else None,
            })
        return rows
    finally:
        if spawner.poll() is None:
            spawner.kill()
            spawner.wait()
        if recording:
            recording.kill()


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def run(settings, tmp, log):
    version, python = next(((v, p) for v, p in settings.pythons if v == "3.11"), settings.pythons[0])
    rows = []
    lifetime = 0.4 if settings.smoke else 0.6
    for label, profiler, by_pid in modes(settings):
        launches = [launch_trial(python, profiler, by_pid, tmp, 1.0 if settings.smoke else 1.5)
                    for _ in range(settings.startup_trials)]
        kids = []
        for _ in range(settings.startup_trials):
            kids += exec_trial(python, profiler, by_pid, tmp, settings.startup_children, lifetime)
        lags = [k["exec_to_first_python_sample_ms"] for k in kids]
        row = {
            "mode": label, "python": version, "rate_hz": profiler.rate, "trials": settings.startup_trials,
            "launch_to_ready_ms": median([l["launch_to_ready_ms"] for l in launches]),
            "launch_to_first_sample_ms": median([l["launch_to_first_sample_ms"] for l in launches]),
            "exec_to_python_start_ms": median([k["exec_to_python_start_ms"] for k in kids]),
            "exec_to_first_python_sample_ms": median(lags),
            "exec_to_first_python_sample_max_ms": max([l for l in lags if l is not None], default=None),
            "children": len(kids),
            "children_never_sampled_with_python": sum(1 for l in lags if l is None),
        }
        rows.append(row)
        log("  %-24s launch->ready %s ms, launch->first sample %s ms, exec->first Python sample %s ms (max %s, %d of %d never)" % (
            label, fmt(row["launch_to_ready_ms"]), fmt(row["launch_to_first_sample_ms"]),
            fmt(row["exec_to_first_python_sample_ms"]), fmt(row["exec_to_first_python_sample_max_ms"]),
            row["children_never_sampled_with_python"], row["children"]))
    return rows


def fmt(value):
    return "-" if value is None else "%.0f" % value
