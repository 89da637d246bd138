#!/usr/bin/env python3
"""Soak: pyrograph records the whole host for a long time while processes
make code and short-lived Pythons come and go; prints its RSS curve, its
CPU, how long it took to stop after SIGINT and the samples it lost.

  bench/soak.py [--seconds 1800] [--rate 25] [--churners 2] [--live 0] [--interval 5]
                [--every 30] [--json FILE] [--max-stacks N] [--keep] [--pyrograph PATH]
                [-- RECORD-OPTIONS...]

The workload is issue 13's long-run workload: `--churners` processes run
Tests/PyrographTests/Fixtures/python/code_churn.py (new code objects and
new stacks all the time), and `--rate` times a second a new interpreter
runs `python -c` for about 50 ms, taking the installed interpreters in turn.
`--windows SECONDS` records with `--interval SECONDS` (one folded file per
window) beside a plain recording of the same span, and compares the
windows' sample total with the plain one's (they should agree within 1%).
`--live N` first starts N long-lived Pythons (interpreters in turn) that
each run about 1 ms every 1.5 s: a host with N Python processes.
Run as root, one at a time (on a shared host: flock /tmp/pyrograph-tests.lock).
"""
import argparse, glob, json, os, re, shutil, signal, subprocess, sys, tempfile, threading, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHURN = os.path.join(REPO, "Tests/PyrographTests/Fixtures/python/code_churn.py")
SHORT = "import time\nt = time.time()\nwhile time.time() - t < 0.05: sum(range(1000))\n"
LIVE = ("import time\ndef tick():\n    t = time.time()\n    while time.time() - t < 0.001: sum(range(100))\n"
        "while True:\n    tick()\n    time.sleep(1.5)\n")
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def interpreters():
    found = sorted(glob.glob("/root/.pyenv/versions/*/bin/python")) + ["/usr/bin/python3.11", "/usr/bin/python3"]
    return [p for p in found if os.access(p, os.X_OK)]


def rss_mb(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


class Spawner(threading.Thread):
    """Starts `rate` short-lived interpreters a second and reaps them."""

    def __init__(self, rate, pythons):
        super().__init__(daemon=True)
        self.rate, self.pythons, self.stop, self.started = rate, pythons, threading.Event(), 0

    def run(self):
        running, next_start = [], time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            while next_start <= now:
                python = self.pythons[self.started % len(self.pythons)]
                running.append(subprocess.Popen([python, "-c", SHORT], stdin=subprocess.DEVNULL,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                self.started += 1
                next_start += 1 / self.rate
                if now - next_start > 1:  # fallen behind by a second: do not burst
                    next_start = now
            running = [p for p in running if p.poll() is None]
            self.stop.wait(max(0.0, min(0.01, next_start - time.monotonic())))
        for p in running:
            p.wait()


def main():
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 1800)))
    parser.add_argument("--rate", type=float, default=25, help="short-lived Pythons started per second")
    parser.add_argument("--churners", type=int, default=2, help="processes making code all the time")
    parser.add_argument("--interval", type=float, default=5, help="seconds between RSS samples")
    parser.add_argument("--every", type=float, default=30, help="seconds between rows of the printed curve")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--max-stacks", type=int, help="pyrograph's --max-stacks (default: its own)")
    parser.add_argument("--live", type=int, default=0, help="long-lived Pythons started first")
    parser.add_argument("--windows", type=float, help="record with --interval this many seconds, beside a plain recording")
    parser.add_argument("--keep", action="store_true", help="keep the output directory (profile, pyrograph's stderr)")
    parser.add_argument("record_options", nargs="*", help="more options for pyrograph record (after --)")
    parser.add_argument("--pyrograph", default=os.environ.get("PYROGRAPH_BIN", os.path.join(REPO, ".build/release/pyrograph")))
    args = parser.parse_args()
    pythons = interpreters()
    if os.geteuid() != 0:
        sys.exit("soak: run as root (pyrograph loads BPF programs)")

    workdir = tempfile.mkdtemp(prefix="pyrograph-soak-")
    output = os.path.join(workdir, "soak.folded")
    churn_python = next((p for p in pythons if "/3.11" in p), pythons[0])
    churners = [subprocess.Popen([churn_python, CHURN, "40"], stdout=subprocess.DEVNULL) for _ in range(args.churners)]
    for i in range(args.live):  # 40 a second: a thousand starting at once starve the host
        churners.append(subprocess.Popen([pythons[i % len(pythons)], "-S", "-c", LIVE], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.025)
    if args.live:
        time.sleep(min(30, 1 + args.live / 100))  # their start-up done, as on a host that runs them
    stderr = open(os.path.join(workdir, "pyrograph.stderr"), "w+")
    extra = (["--max-stacks", str(args.max_stacks)] if args.max_stacks else []) + args.record_options
    plain = None
    if args.windows:
        plain_stderr = open(os.path.join(workdir, "plain.stderr"), "w+")
        plain = subprocess.Popen([args.pyrograph, "record", "-o", output, *extra], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=plain_stderr)
        plain_output = output
        output = os.path.join(workdir, "window-%Y%m%dT%H%M%S.folded")
        extra += ["--interval", str(args.windows)]
    recorder = subprocess.Popen([args.pyrograph, "record", "-o", output, *extra], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)
    # Both recordings sampling before the clock starts, so they cover one span.
    waited = time.monotonic()
    for err in [stderr] + ([plain_stderr] if plain else []):
        while "Ctrl-C to stop" not in open(err.name).read() and time.monotonic() - waited < 60:
            time.sleep(0.05)
    spawner = Spawner(args.rate, pythons)
    start = time.monotonic()
    if args.rate > 0:
        spawner.start()
    curve = []  # (seconds, rss MB, cpu seconds)
    plain_curve = []  # the same for the plain recording beside --windows
    print(f"soak: {args.seconds:.0f} s, {args.rate:g} short-lived Pythons/s, {args.churners} code churners, "
          f"{args.live} long-lived Pythons, "
          f"pyrograph {args.pyrograph}; output in {workdir}")
    print(f"{'time':>7} {'RSS MB':>8} {'CPU %':>6}", flush=True)
    last_row = None
    try:
        while (elapsed := time.monotonic() - start) < args.seconds:
            if recorder.poll() is not None:
                sys.exit(f"soak: pyrograph exited early ({recorder.returncode}); see {stderr.name}")
            curve.append((round(elapsed, 1), round(rss_mb(recorder.pid), 1), cpu_seconds(recorder.pid)))
            if plain:
                plain_curve.append((round(elapsed, 1), round(rss_mb(plain.pid), 1), cpu_seconds(plain.pid)))
            # Printed as it goes, so an interrupted soak still shows its curve.
            if last_row is None or elapsed - last_row[0] >= args.every - args.interval / 2:
                share = 100 * (curve[-1][2] - last_row[2]) / (elapsed - last_row[0]) if last_row else 0.0
                beside = f"   plain: {plain_curve[-1][1]:8.1f} MB" if plain else ""
                print(f"{elapsed:7.0f} {curve[-1][1]:8.1f} {share:6.1f}{beside}", flush=True)
                last_row = curve[-1]
            time.sleep(max(0, start + len(curve) * args.interval - time.monotonic()))
        final_cpu = cpu_seconds(recorder.pid)
        peak_rss = rss_mb(recorder.pid)
        duration = time.monotonic() - start
        stop_start = time.monotonic()
        recorder.send_signal(signal.SIGINT)
        plain_cpu = cpu_seconds(plain.pid) if plain else 0
        if plain:
            plain.send_signal(signal.SIGINT)
        # Its RSS while it builds and writes the profile, and the CPU it
        # has used (the last reading before it exits), every 20 ms: CPU well
        # under the stop's time means it waited, not computed.
        stop_rss, stop_cpu = peak_rss, final_cpu
        while recorder.poll() is None and time.monotonic() - stop_start < 60:
            try:
                stop_rss = max(stop_rss, rss_mb(recorder.pid))
                stop_cpu = cpu_seconds(recorder.pid)
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                pass
            time.sleep(0.02)
        recorder.wait(timeout=1)
        stop_seconds = time.monotonic() - stop_start
    finally:
        spawner.stop.set()
        for p in churners:
            p.kill()
        if plain:
            plain.wait(timeout=60)
            plain_stop = time.monotonic() - stop_start
        if recorder.poll() is None:
            recorder.kill()
    if spawner.is_alive():
        spawner.join()
    stderr.seek(0)
    summary = stderr.read()
    lost = re.search(r"lost samples: (\d+)", summary)

    # Growth after the first 30 s: the least-squares slope of RSS over time
    # from then on, and the rise from the value at 30 s to the largest after.
    later = [(t, r) for t, r, _ in curve if t >= 30]
    slope = 0.0
    if len(later) >= 2:
        mean_t = sum(t for t, _ in later) / len(later)
        mean_r = sum(r for _, r in later) / len(later)
        var = sum((t - mean_t) ** 2 for t, _ in later)
        slope = sum((t - mean_t) * (r - mean_r) for t, r in later) / var if var else 0.0
    rise = max(r for _, r in later) - later[0][1] if later else 0.0

    processes = re.search(r"(\d+) samples from (\d+) processes", summary)
    print(f"soak: {duration:.0f} s, {spawner.started} short-lived Pythons started ({spawner.started / max(duration, 1):.1f}/s)"
          + (f"; pyrograph: {processes.group(1)} samples from {processes.group(2)} processes" if processes else ""))
    print(f"RSS after 30 s: {later[0][1] if later else 0:.1f} MB, peak {max([r for _, r, _ in curve] + [peak_rss]):.1f} MB, "
          f"rise after 30 s {rise:.1f} MB, slope {slope * 60:.2f} MB/min")
    print(f"CPU: {final_cpu:.1f} s over {duration:.0f} s ({100 * final_cpu / max(duration, 1):.1f}% of one core)")
    if args.windows:
        files = sorted(glob.glob(os.path.join(workdir, "window-*.folded")))
        window_total = sum(int(line.rsplit(b" ", 1)[1]) for f in files for line in open(f, "rb") if line.strip())
        plain_stderr.seek(0)
        plain_total = re.search(r"(\d+) samples from", plain_stderr.read())
        plain_total = int(plain_total.group(1)) if plain_total else 0
        said = re.search(r"(\d+) samples from", summary)
        print(f"windows: {len(files)} files, {window_total} samples (pyrograph said {said.group(1) if said else '?'}); "
              f"plain recording of the same span: {plain_total} samples; difference "
              f"{100 * (window_total - plain_total) / max(plain_total, 1):+.2f}%")
        # Where they differ, by process name (the root frame): both detect
        # new interpreters on their own, each as fast as it gets the CPU.
        def by_name(paths):
            totals = {}
            for path in paths:
                for line in open(path, "rb"):
                    if line.strip():
                        stack, count = line.rsplit(b" ", 1)
                        name = stack.split(b";", 1)[0].decode(errors="replace").rsplit(" (", 1)[0]
                        totals[name] = totals.get(name, 0) + int(count)
            return totals
        windowed_names = by_name(files)
        plain_names = by_name([plain_output]) if os.path.exists(plain_output) else {}
        differences = sorted(((windowed_names.get(n, 0) - plain_names.get(n, 0), n) for n in set(windowed_names) | set(plain_names)),
                             key=lambda d: -abs(d[0]))
        print("largest differences by process (windows - plain): "
              + ", ".join(f"{name} {difference:+d} of {plain_names.get(name, 0)}" for difference, name in differences[:4] if difference))
        later_plain = [r for t, r, _ in plain_curve if t >= 30]
        print(f"plain recording: RSS after 30 s {later_plain[0] if later_plain else 0:.1f} MB, peak "
              f"{max(later_plain or [0]):.1f} MB; CPU {plain_cpu:.1f} s; stopped (with the other) after {plain_stop:.2f} s")
        print("windowed summary: " + " | ".join(l.strip() for l in summary.splitlines()[-6:]))
        output = files[-1] if files else output
    stacks = sum(1 for _ in open(output, "rb")) if os.path.exists(output) else 0
    print(f"stop after SIGINT: {stop_seconds:.2f} s (exit {recorder.returncode}, RSS up to {stop_rss:.1f} MB and "
          f"at least {stop_cpu - final_cpu:.2f} s of CPU while stopping); "
          f"lost samples: {lost.group(1) if lost else '?'}; profile {os.path.getsize(output) if os.path.exists(output) else 0} bytes, "
          f"{stacks} distinct stacks")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seconds": duration, "curve": curve, "rss_rise_after_30s_mb": rise,
                       "rss_slope_mb_per_min": slope * 60, "cpu_seconds": final_cpu, "stop_seconds": stop_seconds, "stop_rss_mb": stop_rss,
                       "stop_cpu_seconds": stop_cpu - final_cpu,
                       "exit_status": recorder.returncode, "lost_samples": int(lost.group(1)) if lost else None,
                       "short_lived_pythons": spawner.started, "profile_stacks": stacks, "profile_bytes": os.path.getsize(output) if os.path.exists(output) else 0,
                       "summary": summary}, f, indent=1)
    if recorder.returncode != 0:
        print(summary[-2000:], file=sys.stderr)
        sys.exit(1)
    if args.keep:
        print(f"kept: {workdir}")
    else:
        shutil.rmtree(workdir)


main()
