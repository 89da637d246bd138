"""The results: targets met or missed, a Markdown table per figure, JSON."""
import math
import statistics

from .config import TARGETS, WORKLOAD_TITLES


def _worst(rows, config):
    values = [r for r in rows if r["config"] == config]
    return max(values, key=lambda r: r["slowdown"]) if values else None


def targets(results):
    found = []

    def add(name, target, measured, met, margin, detail=""):
        found.append({"name": name, "target": target, "measured": measured, "met": met,
                      "margin": margin, "detail": detail})

    rows = results["slowdown"]["rows"]
    for config, key in (("pyrograph 99 Hz", "slowdown_99"), ("pyrograph 999 Hz", "slowdown_999")):
        worst = _worst(rows, config)
        if worst:
            limit = TARGETS[key]
            mine = [r for r in rows if r["config"] == config]
            over = sum(1 for r in mine if r["slowdown"] > limit)
            add("slowdown, %s (worst job)" % config, "<= %.2fx" % limit, "%.3fx" % worst["slowdown"],
                worst["slowdown"] <= limit, worst["slowdown"] - limit,
                "%s on %s; median over jobs %.3fx; %d of %d jobs over" % (
                    worst["workload"], worst["python"], statistics.median(r["slowdown"] for r in mine), over, len(mine)))

    steady = results["cost_steady"]
    for spy, pyro in (("py-spy 100 Hz", "pyrograph 99 Hz"), ("py-spy 1000 Hz", "pyrograph 999 Hz"),
                      ("py-spy 100 Hz nonblocking", "pyrograph 99 Hz"),
                      ("py-spy 1000 Hz nonblocking", "pyrograph 999 Hz")):
        ratios = []
        for python in sorted({r["python"] for r in steady}):
            a = next((r for r in steady if r["python"] == python and r["config"] == spy), None)
            b = next((r for r in steady if r["python"] == python and r["config"] == pyro), None)
            if a and b and a["total_us"] and b["total_us"]:
                ratios.append(a["total_us"] / b["total_us"])
        if ratios:
            worst = min(ratios)
            add("CPU per sample: %s vs %s" % (pyro, spy), ">= %gx cheaper" % TARGETS["cost_ratio"],
                "%.1fx cheaper" % worst, worst >= TARGETS["cost_ratio"], worst - TARGETS["cost_ratio"],
                "worst interpreter, steady state, BPF time included")

    if results["scale"]:
        top = max(results["scale"], key=lambda r: r["processes"])
        label = "%d procs x %d threads, 99 Hz" % (top["processes"], top["threads_per_process"])
        add("%s: profiler CPU" % label, "< %g%% of a core" % TARGETS["scale_cpu_pct"],
            "%.2f%%" % top["cpu_pct_steady"], top["cpu_pct_steady"] < TARGETS["scale_cpu_pct"],
            top["cpu_pct_steady"] - TARGETS["scale_cpu_pct"],
            "steady state; BPF adds %.2f%%, whole run %.2f%%" % (top["bpf_pct_steady"], top["cpu_pct_whole_run"]))
        add("%s: peak RSS" % label, "< %g MB" % TARGETS["scale_rss_mb"], "%.0f MB" % top["max_rss_mb"],
            top["max_rss_mb"] < TARGETS["scale_rss_mb"], top["max_rss_mb"] - TARGETS["scale_rss_mb"])
        lost = top["lost"] if top["lost"] is not None else float("nan")
        add("%s: lost samples" % label, "0", "%s" % top["lost"], top["lost"] == 0, lost)

    for profiler, high in (("pyrograph", True), ("py-spy", True), ("pyrograph", False), ("py-spy", False)):
        mine = [r for r in results["fidelity"] if r["profiler"] == profiler and (r["rate_hz"] >= 500) == high]
        if mine:
            worst = max(mine, key=lambda r: r["max_error_points"])
            add("fidelity, %s %d Hz (worst interpreter)" % (profiler, worst["rate_hz"]),
                "<= %g points" % TARGETS["fidelity_points"], "%.2f points" % worst["max_error_points"],
                worst["max_error_points"] <= TARGETS["fidelity_points"],
                worst["max_error_points"] - TARGETS["fidelity_points"],
                "%s; sampling noise alone %.2f points" % (worst["python"], worst["noise_points"] or 0))
    return found


def _stop(seconds, paused, after_pause):
    """How long pyrograph took to finish after Ctrl-C."""
    if not paused:
        return "%.1f" % seconds
    text = "%.0f, load paused after 20" % seconds
    return text + (" (then %.1f)" % after_pause if after_pause is not None else "")


def _f(value, spec="%.2f", none="-"):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return none
    return spec % value


def markdown(results):
    meta = results["meta"]
    m = meta["machine"]
    out = ["# pyrograph benchmark%s" % (" (smoke)" if meta["smoke"] else ""), ""]
    out.append("%s; %s (%d CPUs), %.0f GB; Linux %s; pyrograph %s, sha256 %s; py-spy %s; %d repetition(s); %.0f s." % (
        m["date"], m["cpu"], m["cpus"], m["memory_gb"], m["kernel"], meta["pyrograph_version"],
        (meta.get("pyrograph_sha256") or "?")[:12],
        meta["pyspy_version"] or "not installed", meta["reps"], meta["elapsed_s"]))
    out.append("Host load: load average %s at the start, %s at the end; %s other processes were using CPU at the start, %s at the end." % (
        "/".join("%.1f" % x for x in m["load_average"]), "/".join("%.1f" % x for x in meta["load_average_end"]),
        meta["other_busy_start"], meta["other_busy_end"]))
    for error in meta.get("errors", []):
        out.append("**Failed:** %s" % error)
    out.append("")

    out += ["## Targets", "", "| target | goal | measured | | by | note |", "|---|---|---|---|---|---|"]
    for t in results["targets"]:
        out.append("| %s | %s | %s | %s | %s | %s |" % (t["name"], t["target"], t["measured"],
                                                      "met" if t["met"] else "**missed**", _f(t["margin"], "%+.3g"), t["detail"]))
    out.append("")

    slow = results["slowdown"]
    configs = slow["configs"]
    out += ["## 1. Slowdown (wall time under the profiler / alone; median, per-round range)", "",
            "The alone column gives the median and the range of the job's own runs: the host's noise.", ""]
    out.append("| job | python | alone (s) | " + " | ".join(c for c in configs if c != "alone") + " |")
    out.append("|---|---|---|" + "---|" * (len(configs) - 1))
    keys = []
    for r in slow["rows"]:
        if (r["workload"], r["python"]) not in keys:
            keys.append((r["workload"], r["python"]))
    for workload, python in keys:
        cells = {r["config"]: r for r in slow["rows"] if r["workload"] == workload and r["python"] == python}
        alone = cells["alone"]
        line = "| %s | %s | %.3f (%.3f-%.3f) |" % (WORKLOAD_TITLES.get(workload, workload), python, alone["median_wall_s"],
                                                alone.get("wall_min_s", alone["median_wall_s"]),
                                                alone.get("wall_max_s", alone["median_wall_s"]))
        for c in configs:
            if c == "alone":
                continue
            r = cells.get(c)
            line += " %s |" % ("%.3fx (%.2f-%.2f)" % (r["slowdown"], r["slowdown_min"], r["slowdown_max"]) if r else "-")
        out.append(line)
    out.append("")

    out += ["Job CPU time under the profiler / alone (median): blind to py-spy's pauses and to waiting, but not stretched by other tenants of the host (the storm's parent mostly waits, so its figure is not meaningful):", "",
            "| job | python | alone CPU (s) | " + " | ".join(c for c in configs if c != "alone") + " |",
            "|---|---|---|" + "---|" * (len(configs) - 1)]
    for workload, python in keys:
        cells = {r["config"]: r for r in slow["rows"] if r["workload"] == workload and r["python"] == python}
        line = "| %s | %s | %.3f |" % (WORKLOAD_TITLES.get(workload, workload), python, cells["alone"]["median_job_cpu_s"])
        for c in configs:
            if c == "alone":
                continue
            line += " %s |" % _f(cells[c].get("cpu_ratio") if c in cells else None, "%.3fx")
        out.append(line)
    out.append("")

    out += ["## 2. Profiler CPU per sample", "",
            "Steady state (one busy thread, 3 s window after 1 s of warm-up; profiler CPU from schedstat, BPF from run_time_ns):", "",
            "| python | profiler | samples/s | user+sys us/sample | BPF us/sample | total us/sample | CPU % of a core | BPF % | execs/s on the host |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results["cost_steady"]:
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["python"], r["config"], _f(r["samples_per_s"], "%.0f"), _f(r["user_us"], "%.1f"),
            _f(r["bpf_us"], "%.1f"), _f(r["total_us"], "%.1f"), _f(r["cpu_pct_of_core"]), _f(r["bpf_pct_of_core"]),
            _f(r.get("host_execs_per_s"), "%.1f")))
    out += ["", "Over the slowdown jobs (median per run; includes first-sight work on each new process; whole run includes start and exit):", "",
            "| profiler | runs | samples/run | user+sys us/sample | BPF us/sample | total us/sample | whole run us/sample | peak RSS MB | lost | complete Python stacks % |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in slow["cost_per_sample"]:
        out.append("| %s | %d | %.0f | %.1f | %.1f | %.1f | %.1f | %.0f | %s | %s |" % (
            r["config"], r["runs"], r["samples_median"], r["user_us"], r["bpf_us"], r["total_us"],
            r["whole_run_us"], r["max_rss_mb"], r["lost"] if r["config"].startswith("pyrograph") else "n/a",
            _f(r["complete_python_pct"], "%.1f")))
    out.append("")

    out += ["## 3. Scale (pyrograph, whole host, 99 Hz, processes of 10 busy threads)", "",
            "(A) processes already running when pyrograph starts; (B) processes started after it samples.", "",
            "| processes | samples | lost | CPU % of a core (steady) | + BPF % | CPU % (whole run) | peak RSS MB | launch -> sampling (ms) | stop after Ctrl-C (s) | complete Python stacks % | A: all with Python frames after (s) | sampling floor (s) | B: last Python start / recorded (s) | B: with Python frames | B: lag from Python start, median / max (s) | B: lost / dropped at stop | B: stop after Ctrl-C (s) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results["scale"]:
        out.append("| %d | %d | %s | %.2f | %.2f | %.2f | %.0f | %.0f | %s | %s | %s | %.2f | %s / %s | %d of %d | %s / %s | %s / %s | %s |" % (
            r["processes"], r["samples"], r["lost"], r["cpu_pct_steady"], r["bpf_pct_steady"], r["cpu_pct_whole_run"],
            r["max_rss_mb"], r["launch_to_ready_ms"], _stop(r["stop_s"], r.get("stop_needed_pause"), r.get("stop_after_pause_s")),
            _f(r["complete_python_pct"], "%.1f"),
            _f(r["all_python_s"], none="never (%d of %d)" % (r["processes_with_python_frames"], r["processes"])),
            r["floor_s"], _f(r.get("after_last_start_s"), "%.1f"), _f(r.get("after_recording_s"), "%.1f"),
            r["after_processes_with_python_frames"], r["processes"],
            _f(r["after_lag_median_s"]), _f(r["after_lag_max_s"]), r["after_lost"], r.get("after_dropped_at_stop"),
            _stop(r["after_stop_s"], r.get("after_stop_needed_pause"), None)))
    out.append("")

    out += ["## 4. Fidelity (known CPU shares 50/25/15/10 %)", "",
            "| python | profiler | rate | samples | measured shares % | largest error (points) | sampling noise (points) |",
            "|---|---|---|---|---|---|---|"]
    for r in results["fidelity"]:
        out.append("| %s | %s | %d Hz | %d | %s | %.2f | %s |" % (
            r["python"], r["profiler"], r["rate_hz"], r["samples"],
            " / ".join("%.1f" % v for v in r["measured_pct"].values()), r["max_error_points"], _f(r["noise_points"])))
    out.append("")

    out += ["## 5. Start-up (python %s; medians over trials)" % (results["startup"][0]["python"] if results["startup"] else "-"), "",
            "| mode | launch -> sampling (ms) | launch -> first sample (ms) | new process: exec -> first Python instant (ms) | exec -> first sample with Python frames, median / max (ms) | children never seen with Python frames |",
            "|---|---|---|---|---|---|"]
    for r in results["startup"]:
        out.append("| %s | %s | %s | %s | %s / %s | %d of %d |" % (
            r["mode"], _f(r["launch_to_ready_ms"], "%.0f"), _f(r["launch_to_first_sample_ms"], "%.0f"),
            _f(r["exec_to_python_start_ms"], "%.0f"), _f(r["exec_to_first_python_sample_ms"], "%.0f"),
            _f(r["exec_to_first_python_sample_max_ms"], "%.0f"), r["children_never_sampled_with_python"], r["children"]))
    out.append("")

    out += ["## 6. `--clock wall` on a switch-heavy job (pingpong: 4 thread pairs through pipes; medians)", "",
            "| configuration | python | wall (s) | slowdown | switches/s | BPF (s) | profiler CPU (s) |",
            "|---|---|---|---|---|---|---|"]
    for r in results.get("wall", []):
        out.append("| %s | %s | %.3f | %.2fx | %s | %s | %s |" % (
            r["config"], r["python"], r["median_wall_s"], r["slowdown"], _f(r.get("switches_per_s"), "%.0f"),
            _f(r.get("bpf_s"), "%.3f"), _f(r.get("profiler_cpu_s"), "%.3f")))
    out.append("")
    out.append("Methods: bench/README.md.")
    return "\n".join(out) + "\n"


def finite(value):
    """JSON without NaN or infinity: such values become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value
