"""What the suite runs: interpreters, workload sizes, rates, targets.

Full mode takes about 15 minutes on 2 cores with the default 3
repetitions; BENCH_REPS=N (or --reps N) changes the repetitions of the
slowdown runs, which take most of the time.
"""
import os
import shutil

PYENV = "/root/.pyenv/versions"
FULL_PYTHONS = [("3.8", PYENV + "/3.8.18/bin/python"),
                ("3.11", PYENV + "/3.11.7/bin/python"),
                ("3.13", PYENV + "/3.13.0/bin/python")]
SMOKE_PYTHONS = [("3.11", PYENV + "/3.11.7/bin/python"), ("3.11", "/usr/bin/python3.11")]

# Fixed work, each about 0.6 s on CPython 3.11 on the development VM.
FULL_SCALES = {"recursion": 360, "loop": 80, "cext": 100, "threads": 100, "storm": 30}
SMOKE_SCALES = {"recursion": 20, "loop": 4, "cext": 5, "threads": 8, "storm": 3}
WORKLOAD_TITLES = {
    "recursion": "call-heavy recursion",
    "loop": "tight loop",
    "cext": "C extensions (zlib, hashlib, json)",
    "threads": "4 threads",
    "storm": "short-lived process storm",
}

# (label, profiler, rate, nonblocking); None is the job alone.
FULL_CONFIGS = [("alone", None, 0, False),
                ("pyrograph 99 Hz", "pyrograph", 99, False),
                ("pyrograph 999 Hz", "pyrograph", 999, False),
                ("py-spy 100 Hz", "py-spy", 100, False),
                ("py-spy 1000 Hz", "py-spy", 1000, False),
                ("py-spy 100 Hz nonblocking", "py-spy", 100, True),
                ("py-spy 1000 Hz nonblocking", "py-spy", 1000, True)]
SMOKE_CONFIGS = FULL_CONFIGS[:2]

TARGETS = {
    "slowdown_99": 1.01,
    "slowdown_999": 1.03,
    "cost_ratio": 10.0,
    "scale_cpu_pct": 1.0,
    "scale_rss_mb": 150.0,
    "scale_lost": 0,
    "fidelity_points": 2.0,
}


class Settings:
    def __init__(self, smoke, reps=None):
        self.smoke = smoke
        self.reps = reps or int(os.environ.get("BENCH_REPS") or (1 if smoke else 3))
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        repo = os.path.dirname(here)
        self.pyrograph = os.environ.get("PYROGRAPH_BIN") or os.path.join(repo, ".build/release/pyrograph")
        venv_spy = os.path.join(here, ".venv/bin/py-spy")
        self.pyspy_found = venv_spy if os.access(venv_spy, os.X_OK) else shutil.which("py-spy")
        # Smoke mode runs pyrograph only; py-spy's presence is only noted.
        self.pyspy = None if smoke else self.pyspy_found
        candidates = SMOKE_PYTHONS if smoke else FULL_PYTHONS
        self.pythons = []
        for label, path in candidates:
            if os.access(path, os.X_OK) and label not in [l for l, _ in self.pythons]:
                self.pythons.append((label, path))
        self.missing_pythons = [p for l, p in candidates if not os.access(p, os.X_OK)]
        self.scales = SMOKE_SCALES if smoke else FULL_SCALES
        self.configs = SMOKE_CONFIGS if smoke else FULL_CONFIGS
        # Scale: processes of 10 busy threads, at 99 Hz.
        self.scale_counts = [2] if smoke else [1, 10, 50, 100]
        self.scale_threads = 10
        self.scale_seconds = 1.5 if smoke else 10.0
        self.steady_seconds = 0.5 if smoke else 4.0
        # Fidelity: CPU seconds of the shares workload per run.
        self.fidelity = ([("pyrograph", 999, 0.5)] if smoke else
                         [("pyrograph", 999, 3.0), ("py-spy", 1000, 3.0),
                          ("pyrograph", 99, 6.0), ("py-spy", 100, 6.0)])
        # Start-up trials per profiler mode, and children per trial.
        self.startup_trials = 1 if smoke else 3
        # Wall clock: round trips (thousands) per pair of the pingpong job.
        self.wall_scale = 3 if smoke else 25
        self.startup_children = 2 if smoke else 5
