"""Running the workload scripts in bench/workloads under a chosen interpreter."""
import json
import os
import subprocess

from . import system

WORKLOADS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "workloads")


def script(name):
    return os.path.join(WORKLOADS, name)


def clean_env():
    """The caller's environment without PYTHON* variables, which could
    change what the interpreter under test does."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def start(python, name, *args, stdin=True):
    return subprocess.Popen([python, "-B", script(name)] + [str(a) for a in args],
                            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, text=True, env=clean_env(), preexec_fn=system.normal_priority)


class Job:
    """A workload started idle: it prints "ready", then works on "go" and
    reports {"wall", "cpu"} (job.py, shares.py)."""

    def __init__(self, python, name, *args):
        self.process = start(python, name, *args)
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.process.kill()
            raise RuntimeError("%s %s did not start: %r" % (python, name, line))

    @property
    def pid(self):
        return self.process.pid

    def run(self):
        """Starts the work and waits for its report."""
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("job %d died: exit status %s" % (self.pid, self.process.wait()))
        return json.loads(line)

    def wait(self):
        self.process.stdin.close()
        return self.process.wait()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Window:
    """The profiler's cost between two instants: its own CPU (all threads,
    from schedstat) and, for pyrograph, the run time of its BPF programs."""

    def __init__(self, recording):
        self.recording = recording
        self.bpf_ids = system.bpf_prog_ids(recording.pid) if recording.profiler.holds_bpf else []
        self.t0, self.cpu0, self.bpf0 = system.now(), system.cpu_ns(recording.pid), system.bpf_run_stats(self.bpf_ids)

    def close(self):
        t1, cpu1, bpf1 = system.now(), system.cpu_ns(self.recording.pid), system.bpf_run_stats(self.bpf_ids)
        bpf_ns = sum(bpf1[i][1] - self.bpf0[i][1] for i in bpf1 if i in self.bpf0)
        runs = {bpf1[i][0]: bpf1[i][2] - self.bpf0[i][2] for i in bpf1 if i in self.bpf0}
        return {
            "window_s": t1 - self.t0,
            "window_cpu_s": (cpu1 - self.cpu0) / 1e9 if cpu1 is not None and self.cpu0 is not None else None,
            "bpf_s": bpf_ns / 1e9 if self.bpf_ids else 0.0,
            "bpf_runs": runs,
        }
