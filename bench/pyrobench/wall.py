"""Figure 6: what `--clock wall` costs a switch-heavy job.

The pingpong job (workloads/job.py) keeps 4 pairs of threads passing a
byte through pipes: every pass is a context switch, each of which runs
pyrograph's scheduler hook, which captures the stacks of every profiled
thread leaving the CPU. Each round runs the job alone and under every
configuration, in an order rotated from round to round; the job's own
timer covers its work alone, and it reports how many switches it made.
"""
import os
import statistics
import time

from . import jobs
from .profilers import Pyrograph, PySpy

SETTLE_S = 0.2


def configs(settings):
    """(label, profiler kind, extra arguments); None is the job alone."""
    found = [("alone", None, []),
             ("pyrograph --clock cpu", "pyrograph", ["--clock", "cpu"]),
             ("pyrograph --clock wall", "pyrograph", ["--clock", "wall"]),
             ("pyrograph --clock wall --off-cpu-sampling 0.1", "pyrograph", ["--clock", "wall", "--off-cpu-sampling", "0.1"])]
    if settings.pyspy:
        found.append(("py-spy --idle", "py-spy", ["--idle"]))
    return found


def one_run(settings, python, config, tmp):
    label, kind, extra = config
    job = jobs.Job(python, "job.py", "pingpong", settings.wall_scale)
    recording = None
    try:
        if kind:
            rate = 99 if kind == "pyrograph" else 100
            profiler = (Pyrograph if kind == "pyrograph" else PySpy)(
                settings.pyrograph if kind == "pyrograph" else settings.pyspy, rate, extra=extra)
            stem = os.path.join(tmp, "wall-%d" % job.pid)
            recording = profiler.start(stem + ".folded", stem + ".log", pids=[job.pid])
            recording.wait_ready()
            time.sleep(SETTLE_S)
            window = jobs.Window(recording)
        result = job.run()
        run = {"wall_s": result["wall"], "switches": result.get("switches", 0)}
        if recording:
            run.update(window.close())
        job.wait()
        if recording:
            run.update(recording.stop(grace=2.0 if kind == "py-spy" else 0.0))
        return run
    finally:
        job.kill()
        if recording:
            recording.kill()


def run(settings, tmp, log):
    rows = []
    chosen = configs(settings)
    version, python = settings.pythons[0]
    runs = []
    for round_ in range(settings.reps):
        shift = round_ % len(chosen)
        for config in chosen[shift:] + chosen[:shift]:
            r = one_run(settings, python, config, tmp)
            r.update({"config": config[0], "round": round_})
            runs.append(r)
    alone = statistics.median(r["wall_s"] for r in runs if r["config"] == "alone")
    for label, _, _ in chosen:
        mine = [r for r in runs if r["config"] == label]
        wall = statistics.median(r["wall_s"] for r in mine)
        switches = statistics.median(r["switches"] for r in mine)
        row = {"config": label, "python": version, "runs": len(mine), "median_wall_s": wall, "slowdown": wall / alone,
               "switches": switches, "switches_per_s": switches / wall if wall > 0 else None}
        with_bpf = [r for r in mine if "bpf_s" in r]
        if with_bpf:
            row["bpf_s"] = statistics.median(r["bpf_s"] for r in with_bpf)
            row["profiler_cpu_s"] = statistics.median((r.get("window_cpu_s") or 0.0) for r in with_bpf)
        rows.append(row)
        log("  %-48s %.3fs  %.2fx  %.0f switches/s" % (label, wall, wall / alone, row["switches_per_s"] or 0))
    return rows
