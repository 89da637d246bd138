"""Starting, stopping and reading the two profilers the suite compares."""
import os
import re
import signal
import subprocess
import time

from . import system
from .folded import read_stacks


class ProfilerError(RuntimeError):
    pass


class Profiler:
    """One profiler at one rate: how to start it, when it samples, what it
    reports."""

    name = "?"
    ready_marker = ""

    def __init__(self, binary, rate, nonblocking=False, extra=()):
        self.binary, self.rate, self.nonblocking = binary, rate, nonblocking
        self.extra = list(extra)

    @property
    def label(self):
        return "%s %d Hz%s" % (self.name, self.rate, " nonblocking" if self.nonblocking else "")

    def start(self, output, log, pids=(), children=False, duration=None):
        argv = self.argv(output, pids, children, duration)
        return Recording(self, argv, output, log)


class Pyrograph(Profiler):
    name = "pyrograph"
    ready_marker = "recording"
    holds_bpf = True

    def argv(self, output, pids, children, duration):
        # pyrograph follows the children of -p PIDs itself.
        argv = [self.binary, "record", "-F", str(self.rate), "-f", "folded", "-o", output] + self.extra
        for pid in pids:
            argv += ["-p", str(pid)]
        if duration is not None:
            argv += ["-d", "%g" % duration]
        return argv

    def summary(self, log, output):
        found = {}
        m = re.search(r"(\d+) samples from (\d+) processes in ([\d.]+) s", log)
        if m:
            found["samples"] = int(m.group(1))
            found["seconds"] = float(m.group(3))
        m = re.search(r"lost samples: (\d+)", log)
        if m:
            found["lost"] = int(m.group(1))
        m = re.search(r"samples dropped at stop: (\d+)", log)
        found["dropped_at_stop"] = int(m.group(1)) if m else 0
        complete = re.findall(r"python \S+ \w+: (\d+) samples in \d+ process(?:es)?, ([\d.]+)% with a complete", log)
        if complete:
            total = sum(int(n) for n, _ in complete)
            found["complete_python_pct"] = (sum(int(n) * float(p) for n, p in complete) / total) if total else None
        if "samples" not in found:
            raise ProfilerError("pyrograph printed no summary:\n" + log[-2000:])
        return found


class PySpy(Profiler):
    name = "py-spy"
    ready_marker = "Sampling process"
    holds_bpf = False

    def argv(self, output, pids, children, duration):
        if len(pids) != 1:
            raise ValueError("py-spy follows exactly one pid")
        argv = [self.binary, "record", "--pid", str(pids[0]), "--rate", str(self.rate),
                "--format", "raw", "--output", output, "--full-filenames"]
        if self.nonblocking:
            argv.append("--nonblocking")
        argv += self.extra
        if children:
            argv.append("--subprocesses")
        if duration is not None:
            argv += ["--duration", str(max(1, int(round(duration))))]
        return argv

    def summary(self, log, output):
        m = re.search(r"Samples: (\d+) Errors: (\d+)", log)
        if m:
            return {"samples": int(m.group(1)), "errors": int(m.group(2)), "lost": None}
        if os.path.exists(output):
            return {"samples": sum(n for _, n in read_stacks(output)), "lost": None}
        raise ProfilerError("py-spy wrote no profile:\n" + log[-2000:])


class Recording:
    """A running profiler process, its log (stdout and stderr) and output."""

    def __init__(self, profiler, argv, output, log):
        self.profiler, self.argv, self.output, self.log_path = profiler, argv, output, log
        self.launched_at = system.now()
        with open(log, "w") as sink:
            self.process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            preexec_fn=system.normal_priority)
        self.ready_at = None
        self.status = self.rusage = None

    @property
    def pid(self):
        return self.process.pid

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_ready(self, timeout=60):
        """Returns once the profiler says it samples (polling its log)."""
        deadline = system.now() + timeout
        while system.now() < deadline:
            if self.profiler.ready_marker in self.log():
                self.ready_at = system.now()
                return self.ready_at
            if not system.running(self.process):
                break
            time.sleep(0.005)
        self.kill()
        raise ProfilerError("%s did not start sampling: %s\n%s" % (self.profiler.label, " ".join(self.argv), self.log()[-2000:]))

    def stop(self, timeout=120, grace=0.0):
        """Asks the profiler to finish (SIGINT, as Ctrl-C) unless it does so
        by itself within `grace` seconds, reaps it, and returns its summary
        with its own CPU time and peak RSS."""
        asked = system.now()
        while grace > 0 and system.now() < asked + grace and system.running(self.process):
            time.sleep(0.01)
        if self.status is None and system.running(self.process):
            try:
                self.process.send_signal(signal.SIGINT)
            except ProcessLookupError:
                pass
        found = self.finish(timeout)
        # How long it took to finish once asked: a profiler that fell behind
        # its samples catches up here.
        found["stop_s"] = system.now() - asked
        return found

    def finish(self, timeout=120):
        """Waits for the profiler to end by itself, then as stop()."""
        if self.status is None:
            try:
                self.status, self.rusage = system.wait_rusage(self.process, timeout)
            except TimeoutError:
                self.kill()
                raise ProfilerError("%s did not finish: %s" % (self.profiler.label, self.log()[-2000:]))
        log = self.log()
        found = self.profiler.summary(log, self.output)
        found.update({
            "exit_status": self.status,
            "cpu_s": self.rusage.ru_utime + self.rusage.ru_stime,
            "max_rss_mb": self.rusage.ru_maxrss / 1024.0,
        })
        return found

    def kill(self):
        if self.status is None and system.running(self.process):
            self.process.kill()
        if self.status is None:
            try:
                self.status, self.rusage = system.wait_rusage(self.process, 10)
            except (TimeoutError, ChildProcessError):
                pass
