"""Figures 1 and 2: how much each profiler slows a job down, and what each
sample costs it.

Each (workload, interpreter) pair is run `reps` rounds; a round runs the job
once alone and once under every profiler configuration, in an order rotated
from round to round (A B C ..., B C ... A, ...), so slow drift on the host
falls on every configuration alike. The job starts idle, the profiler
attaches and says it samples, and only then is the job told to work: its
own timer covers the work alone.
"""
import os
import statistics
import time

from . import jobs
from .profilers import Pyrograph, PySpy

SETTLE_S = 0.2  # after the profiler says it samples, before the work starts


def make_profiler(settings, kind, rate, nonblocking):
    if kind == "pyrograph":
        return Pyrograph(settings.pyrograph, rate)
    return PySpy(settings.pyspy, rate, nonblocking)


def one_run(settings, python, workload, config, tmp):
    label, kind, rate, nonblocking = config
    job = jobs.Job(python, "job.py", workload, settings.scales[workload])
    recording = None
    try:
        if kind:
            profiler = make_profiler(settings, kind, rate, nonblocking)
            stem = os.path.join(tmp, "%s-%d" % (kind, job.pid))
            recording = profiler.start(stem + ".folded", stem + ".log", pids=[job.pid],
                                       children=(workload == "storm"))
            recording.wait_ready()
            time.sleep(SETTLE_S)
            window = jobs.Window(recording)
        result = job.run()
        run = {"wall_s": result["wall"], "job_cpu_s": result["cpu"]}
        if recording:
            run.update(window.close())
        job.wait()
        if recording:
            # py-spy ends by itself when the job exits; pyrograph -p does not.
            run.update(recording.stop(grace=2.0 if kind == "py-spy" else 0.0))
        return run
    finally:
        job.kill()
        if recording:
            recording.kill()


def run(settings, tmp, log):
    runs = []
    configs = [c for c in settings.configs if c[1] != "py-spy" or settings.pyspy]
    for workload in settings.scales:
        for version, python in settings.pythons:
            for round_ in range(settings.reps):
                shift = round_ % len(configs)
                for config in configs[shift:] + configs[:shift]:
                    r = one_run(settings, python, workload, config, tmp)
                    r.update({"workload": workload, "python": version, "config": config[0], "round": round_})
                    runs.append(r)
            log("  %-9s %-4s %s" % (workload, version, "  ".join(
                "%s %.3fs" % (c[0], statistics.median(x["wall_s"] for x in runs
                                                    if x["workload"] == workload and x["python"] == version
                                                    and x["config"] == c[0])) for c in configs)))
    return runs


def summarize(runs):
    """Median wall times, slowdowns against the job alone, and per-sample
    costs per configuration."""
    table = []
    keys = sorted({(r["workload"], r["python"]) for r in runs}, key=lambda k: (list_order(runs, k)))
    configs = []
    for r in runs:
        if r["config"] not in configs:
            configs.append(r["config"])
    configs.sort(key=lambda c: (c != "alone",))
    for workload, version in keys:
        mine = [r for r in runs if r["workload"] == workload and r["python"] == version]
        alone = [r["wall_s"] for r in mine if r["config"] == "alone"]
        base = statistics.median(alone)
        base_cpu = statistics.median(r["job_cpu_s"] for r in mine if r["config"] == "alone")
        for config in configs:
            walls = [r["wall_s"] for r in mine if r["config"] == config]
            if not walls:
                continue
            by_round = {r["round"]: r["wall_s"] for r in mine if r["config"] == config}
            base_round = {r["round"]: r["wall_s"] for r in mine if r["config"] == "alone"}
            ratios = [by_round[k] / base_round[k] for k in by_round if k in base_round]
            table.append({
                "workload": workload, "python": version, "config": config,
                "median_wall_s": statistics.median(walls),
                "slowdown": statistics.median(walls) / base,
                "slowdown_min": min(ratios), "slowdown_max": max(ratios),
                # The job's own CPU time: blind to py-spy's pauses, but not
                # stretched by other tenants of the host.
                "median_job_cpu_s": statistics.median(r["job_cpu_s"] for r in mine if r["config"] == config),
                "cpu_ratio": statistics.median(r["job_cpu_s"] for r in mine if r["config"] == config) / base_cpu
                if base_cpu > 0 else None,
                "runs": len(walls),
                "wall_min_s": min(walls), "wall_max_s": max(walls),
            })
    return {"rows": table, "configs": configs, "cost_per_sample": cost_per_sample(runs, configs)}


def list_order(runs, key):
    for i, r in enumerate(runs):
        if (r["workload"], r["python"]) == key:
            return i
    return 0


def cost_per_sample(runs, configs):
    """Per configuration: the profiler's CPU during the work plus its BPF
    time, over the samples it took (medians over every run)."""
    rows = []
    for config in configs:
        if config == "alone":
            continue
        mine = [r for r in runs if r["config"] == config and r.get("samples")]
        if not mine:
            continue
        per = lambda f: statistics.median(f(r) / r["samples"] * 1e6 for r in mine)
        rows.append({
            "config": config,
            "runs": len(mine),
            "samples_median": statistics.median(r["samples"] for r in mine),
            "samples_per_s_median": statistics.median(r["samples"] / r["window_s"] for r in mine),
            "user_us": per(lambda r: r["window_cpu_s"] or 0.0),
            "bpf_us": per(lambda r: r["bpf_s"]),
            "total_us": per(lambda r: (r["window_cpu_s"] or 0.0) + r["bpf_s"]),
            "whole_run_us": per(lambda r: r["cpu_s"]),
            "max_rss_mb": max(r["max_rss_mb"] for r in mine),
            "lost": sum(r.get("lost") or 0 for r in mine),
            "complete_python_pct": median_or_none([r.get("complete_python_pct") for r in mine]),
        })
    return rows


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None
