"""Figure 3: pyrograph with 1 to 100 busy Python processes of 10 threads,
recording the whole host (its default) at 99 Hz. Every thread spins in
functions named after the time (`at_<ms>ms`, workloads/timeline.py), so
the folded output says when each process was first sampled with Python
frames, to within a bucket (20 ms).

Two runs per count N:

(A) Processes already running. The N processes are started idle, pyrograph
is launched and says it samples, and then all N are set off at one instant
T. "All with Python frames after" is the latest first Python-framed sample
of the N, from T. pyrograph's CPU and BPF time over the last `steady`
seconds of the run (schedstat, BPF run_time_ns), its CPU over the whole run
and its peak RSS (wait4), and its lost samples come from this run.

(B) Processes started after pyrograph. Once it samples, the N processes are
started at once, busy from their first instant: a host that gets busy while
recording. The recording lasts until every one has started its Python code
(100 interpreters starting on 2 CPUs already busy with the first ones take
15-30 s) and a tail after that. Reported: how many of the N ever had Python
frames in the profile, and the lag from each process's own first Python
instant to its first Python-framed sample (the interpreter's start-up is
left out).

No profiler can beat the sampling itself: with N processes sharing C CPUs
at F Hz, a process is sampled about C*F/N times a second, and the last of N
is expected after N*H(N)/(C*F) seconds (H the harmonic number): the table
shows that as the floor.
"""
import json
import os
import select
import signal
import statistics
import time
import traceback

from . import jobs, system
from .folded import first_buckets, read_stacks
from .profilers import Pyrograph

BUCKET_MS = 20
RATE = 99
# The workers outlive the recording by far, and are killed once pyrograph has
# written its profile: a profiler that falls behind names frames late, and
# must not find the processes gone because the benchmark ended them.
LINGER_S = 600
# Seconds the N interpreters of (B) may take to start on the busy host.
START_PATIENCE_S = 90
# Seconds pyrograph may take to finish after Ctrl-C before the load is paused.
STOP_PATIENCE_S = 20


def floor_s(n, cpus, rate):
    harmonic = sum(1.0 / k for k in range(1, n + 1))
    return n * harmonic / (cpus * rate)


def stop_recording(recording, workers, patience):
    """SIGINT, as Ctrl-C. A pyrograph starved by the busy workers may take
    long to catch up with its samples: after `patience` seconds the workers
    are paused (SIGSTOP; their memory stays readable, so frames can still be
    named) until it has written its profile."""
    asked = system.now()
    recording.process.send_signal(signal.SIGINT)
    while system.running(recording.process) and system.now() < asked + patience:
        time.sleep(0.05)
    paused = system.running(recording.process)
    if paused:
        for worker in workers:
            os.kill(worker.pid, signal.SIGSTOP)
    paused_at = system.now()
    found = recording.finish(timeout=300)
    found["stop_s"] = system.now() - asked
    found["stop_needed_pause"] = paused
    found["stop_after_pause_s"] = (system.now() - paused_at) if paused else None
    return found


def stop_all(workers):
    starts = {}
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        line = worker.stdout.readline()
        if line:
            info = json.loads(line)
            starts[info["pid"]] = info["start"]
    return starts


def already_running(settings, python, n, tmp):
    workers = [jobs.start(python, "timeline.py", "-", "-", settings.scale_threads, BUCKET_MS) for _ in range(n)]
    stem = os.path.join(tmp, "scale-a-%d" % n)
    recording = None
    try:
        starts = {}
        for worker in workers:
            info = json.loads(worker.stdout.readline())
            starts[info["pid"]] = info["start"]
        recording = Pyrograph(settings.pyrograph, RATE).start(stem + ".folded", stem + ".log")
        ready = recording.wait_ready()
        epoch = system.now() + 0.1
        for worker in workers:
            worker.stdin.write("%.6f %.6f\n" % (epoch, epoch + settings.scale_seconds + LINGER_S))
            worker.stdin.flush()
        time.sleep(max(0.0, epoch + settings.scale_seconds - settings.steady_seconds - system.now()))
        window = jobs.Window(recording)
        time.sleep(max(0.0, epoch + settings.scale_seconds - system.now()))
        steady = window.close()
        stopped = system.now()
        found = stop_recording(recording, workers, STOP_PATIENCE_S)
        first = first_buckets(read_stacks(recording.output))
        seen = [(first[w.pid] + BUCKET_MS / 2.0) / 1000.0 for w in workers if w.pid in first]
        execs = steady["bpf_runs"].get("pyro_process_exec", 0)
        return {
            "launch_to_ready_ms": (ready - recording.launched_at) * 1000,
            "stop_s": found["stop_s"],
            "stop_needed_pause": found["stop_needed_pause"],
            "stop_after_pause_s": found["stop_after_pause_s"],
            "recording_cpu_s": found["cpu_s"],
            "recording_s": found.get("seconds"),
            "samples": found["samples"], "lost": found.get("lost"),
            "cpu_pct_steady": 100.0 * (steady["window_cpu_s"] or 0.0) / steady["window_s"],
            "bpf_pct_steady": 100.0 * steady["bpf_s"] / steady["window_s"],
            "host_execs_per_s": execs / steady["window_s"],
            "cpu_pct_whole_run": 100.0 * found["cpu_s"] / (stopped - recording.launched_at),
            "max_rss_mb": found["max_rss_mb"],
            "processes_with_python_frames": len(seen),
            "all_python_s": max(seen) if len(seen) == n else None,
            "complete_python_pct": found.get("complete_python_pct"),
        }
    finally:
        stop_all(workers)
        if recording:
            recording.kill()


def read_starts(workers, starts, deadline):
    """Collects each worker's {"pid", "start"} line as it prints it (after
    its interpreter has started), until all have or `deadline` passes."""
    pending = {w.stdout: w for w in workers if w.pid not in starts}
    while pending and system.now() < deadline:
        ready, _, _ = select.select(list(pending), [], [], max(0.0, min(0.1, deadline - system.now())))
        for stream in ready:
            line = stream.readline()
            pending.pop(stream)
            if line:
                info = json.loads(line)
                starts[info["pid"]] = info["start"]
    return starts


def started_after(settings, python, n, tmp):
    stem = os.path.join(tmp, "scale-b-%d" % n)
    recording = Pyrograph(settings.pyrograph, RATE).start(stem + ".folded", stem + ".log")
    workers = []
    try:
        recording.wait_ready()
        epoch = system.now()
        until = epoch + settings.scale_seconds + LINGER_S
        for _ in range(n):
            workers.append(jobs.start(python, "timeline.py", "%.6f" % epoch, "%.6f" % until,
                                      settings.scale_threads, BUCKET_MS, stdin=False))
        # Recording goes on until every interpreter has started (on 2 busy
        # CPUs the last of 100 takes well over 10 s) and then for a tail in
        # which each is sampled a few times (the floor of the table).
        starts = read_starts(workers, {}, epoch + START_PATIENCE_S)
        last_start = max(starts.values()) if starts else epoch
        tail = max(1.0, 2 * floor_s(n, os.cpu_count(), RATE))
        time.sleep(max(0.0, max(epoch + settings.scale_seconds, last_start + tail) - system.now()))
        stopped = system.now()
        found = stop_recording(recording, workers, STOP_PATIENCE_S)
        stop_all(workers)
        first = first_buckets(read_stacks(recording.output))
        seen = {w.pid: epoch + (first[w.pid] + BUCKET_MS / 2.0) / 1000.0 for w in workers if w.pid in first}
        # The bucket's middle can fall just before the process's start.
        lags = sorted(max(0.0, seen[pid] - starts[pid]) for pid in seen if pid in starts)
        return {
            "after_processes_with_python_frames": len(seen),
            "after_processes_started": len(starts),
            "after_last_start_s": last_start - epoch,
            "after_recording_s": stopped - epoch,
            "after_lag_median_s": statistics.median(lags) if lags else None,
            "after_lag_max_s": lags[-1] if lags else None,
            "after_lost": found.get("lost"),
            "after_dropped_at_stop": found.get("dropped_at_stop"),
            "after_stop_s": found["stop_s"],
            "after_stop_needed_pause": found["stop_needed_pause"],
        }
    finally:
        stop_all(workers)
        recording.kill()


def run(settings, tmp, log, errors):
    """One row per process count; a count that fails is logged and noted in
    `errors`, and the others still run."""
    version, python = next(((v, p) for v, p in settings.pythons if v == "3.11"), settings.pythons[0])
    rows = []
    for n in settings.scale_counts:
        row = {"processes": n, "threads_per_process": settings.scale_threads, "rate_hz": RATE, "python": version,
               "floor_s": floor_s(n, os.cpu_count(), RATE)}
        try:
            row.update(already_running(settings, python, n, tmp))
            row.update(started_after(settings, python, n, tmp))
        except Exception as error:
            log("  %3d processes failed:\n%s" % (n, traceback.format_exc()))
            errors.append("scale, %d processes: %s" % (n, error))
            continue
        rows.append(row)
        if row["stop_needed_pause"] or row["after_stop_needed_pause"]:
            log("  %3d processes: pyrograph had not finished %d s after Ctrl-C; the workers were paused" % (
                n, STOP_PATIENCE_S))
        log("  %3d processes: CPU %.2f%% of a core (+BPF %.2f%%), RSS %.0f MB, lost %s, all with Python frames after %s s;"
            " started later: %d of %d with Python frames" % (
                n, row["cpu_pct_steady"], row["bpf_pct_steady"], row["max_rss_mb"], row["lost"],
                "%.2f" % row["all_python_s"] if row["all_python_s"] is not None else "never (%d of %d)" % (
                    row["processes_with_python_frames"], n),
                row["after_processes_with_python_frames"], n))
    return rows
