"""bench/run: measures pyrograph against py-spy and writes the results.

    bench/run [--smoke] [--reps N] [--out DIR] [--only FIGURE,...]

Writes DIR/latest.md and DIR/latest.json (smoke.md and smoke.json with
--smoke; DIR defaults to bench/results) and prints the Markdown.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

from . import config, fidelity, report, scale, slowdown, startup, steady, system, wall

FIGURES = ["slowdown", "steady", "scale", "fidelity", "startup", "wall"]
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(message):
    print(message, file=sys.stderr, flush=True)


def version_of(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip().split()[-1]
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pyrograph_version(binary):
    repo = os.path.dirname(HERE)
    try:
        commit = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        commit += "+changes" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(binary).st_mtime))
    return "%s (binary built %s)" % (commit, built)


def parse():
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny workloads, one interpreter, pyrograph only")
    parser.add_argument("--reps", type=int, help="rounds of the slowdown runs (default: $BENCH_REPS or 3; 1 in smoke mode)")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="where to write the results")
    parser.add_argument("--only", help="a comma-separated subset of: " + ", ".join(FIGURES))
    parser.add_argument("--render", metavar="JSON", help="only rewrite the Markdown (and targets) of a results file")
    return parser.parse_args()


def render(path):
    """Recomputes the targets and the Markdown of an existing results file."""
    with open(path) as f:
        results = json.load(f)
    results["targets"] = report.targets(results)
    text = report.markdown(results)
    with open(path, "w") as f:
        json.dump(report.finite(results), f, indent=1, allow_nan=False)
        f.write("\n")
    with open(os.path.splitext(path)[0] + ".md", "w") as f:
        f.write(text)
    print(text, end="")
    return 0


def check(settings):
    problems = []
    if os.geteuid() != 0:
        problems.append("run as root: the profilers load BPF programs and read other processes' memory")
    if not os.access(settings.pyrograph, os.X_OK):
        problems.append("no pyrograph binary at %s: run `make build` (or set PYROGRAPH_BIN)" % settings.pyrograph)
    if not settings.pythons:
        problems.append("none of the interpreters is installed: %s" % ", ".join(settings.missing_pythons))
    if not settings.smoke and not settings.pyspy:
        problems.append("py-spy is missing: bench/run installs it into bench/.venv (requirements.txt)")
    for problem in problems:
        log("bench: " + problem)
    return not problems


def main():
    args = parse()
    if args.render:
        return render(args.render)
    settings = config.Settings(args.smoke, args.reps)
    if not check(settings):
        return 1
    only = set(args.only.split(",")) if args.only else set(FIGURES)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    system.raise_priority()
    started = time.monotonic()
    errors = []
    results = {"slowdown": {"rows": [], "configs": [], "cost_per_sample": [], "runs": []},
               "cost_steady": [], "scale": [], "fidelity": [], "startup": [], "wall": []}
    with system.SuiteLock(), system.BPFStats() as stats, tempfile.TemporaryDirectory(prefix="pyrograph-bench-") as tmp:
        # A private copy: the binary under test must not change mid-run if
        # someone rebuilds it.
        original = settings.pyrograph
        settings.pyrograph = os.path.join(tmp, "pyrograph")
        shutil.copy2(original, settings.pyrograph)
        meta = {
            "smoke": settings.smoke, "reps": settings.reps, "machine": system.machine(),
            "other_busy_start": system.other_busy_processes(exclude={os.getpid()}),
            "pyrograph": original, "pyrograph_version": pyrograph_version(original),
            "pyrograph_sha256": sha256(original),
            "bpf_stats": stats.method,
            "pyspy": settings.pyspy_found,
            "pyspy_version": version_of([settings.pyspy_found, "--version"]) if settings.pyspy_found else None,
            "pythons": {label: path for label, path in settings.pythons},
            "missing_pythons": settings.missing_pythons,
            "workload_scales": settings.scales,
        }
        if settings.smoke:
            log("bench: smoke mode; py-spy %s" % ("found: %s %s" % (settings.pyspy_found, meta["pyspy_version"])
                                                if settings.pyspy_found else "not installed (bench/run installs it in full mode)"))
        if settings.missing_pythons:
            log("bench: skipping missing interpreters: %s" % ", ".join(settings.missing_pythons))
        def slowdown_figure():
            runs = slowdown.run(settings, tmp, log)
            found = slowdown.summarize(runs)
            found["runs"] = runs
            return found

        figures = [("slowdown", "slowdown", "slowdown (%d rounds per job)" % settings.reps, slowdown_figure),
                   ("steady", "cost_steady", "CPU per sample, steady state", lambda: steady.run(settings, tmp, log)),
                   ("scale", "scale", "scale", lambda: scale.run(settings, tmp, log, errors)),
                   ("fidelity", "fidelity", "fidelity", lambda: fidelity.run(settings, tmp, log)),
                   ("startup", "startup", "start-up", lambda: startup.run(settings, tmp, log)),
                   ("wall", "wall", "--clock wall on a switch-heavy job", lambda: wall.run(settings, tmp, log))]
        for number, (name, key, title, measure) in enumerate(figures, 1):
            if name not in only:
                continue
            log("bench: %d/%d %s" % (number, len(figures), title))
            try:
                results[key] = measure()
            except Exception as error:  # one figure's failure must not lose the others
                log("bench: %s failed:\n%s" % (name, traceback.format_exc()))
                errors.append("%s: %s" % (name, error))
        meta["load_average_end"] = list(os.getloadavg())
        meta["other_busy_end"] = system.other_busy_processes(exclude={os.getpid()})
    meta["elapsed_s"] = time.monotonic() - started
    meta["errors"] = errors
    results["meta"] = meta
    results["targets"] = report.targets(results)
    text = report.markdown(results)
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, "smoke" if settings.smoke else "latest")
    with open(stem + ".json", "w") as f:
        json.dump(report.finite(results), f, indent=1, allow_nan=False)
        f.write("\n")
    with open(stem + ".md", "w") as f:
        f.write(text)
    print(text, end="")
    log("bench: wrote %s.md and %s.json" % (stem, stem))
    if errors:
        log("bench: failed: " + "; ".join(errors))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
