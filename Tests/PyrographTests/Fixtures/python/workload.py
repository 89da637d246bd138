# -*- coding: utf-8 -*-
"""A Python workload whose profile is known by construction.

usage: python workload.py SECONDS REPORT.json [START_FILE]

Runs unchanged on CPython 2.7 and 3.6 to 3.13. With START_FILE, it first
sleeps until that file exists (so that a profiler can be started meanwhile).
Then, for SECONDS of wall time:

- the main thread runs six busy tasks in turn, each for a fixed slice of every
  ROUND_SECONDS round (the intended shares): a plain function, a method, a
  nested function, a lambda, a generator being consumed and a recursion
  RECURSION_DEPTH deep that burns at the bottom;
- a second thread burns in thread_worker the whole time;
- a third thread, the self-sampler, looks at the other two through
  sys._current_frames() every SAMPLE_INTERVAL seconds.

The intended shares are wall-time shares; the GIL and the other threads bend
them, so the scheduler also measures the main thread's CPU time in each slice
and reports measured shares: CPU seconds of a task / CPU seconds of all tasks.

Each busy loop sits on ONE line. sys._current_frames() only sees another
thread where it dropped the GIL, so a loop spread over several lines would be
seen on one of them only, while a profiler sees all of them.

REPORT.json (written when the run is over) holds the pid, sys.version, the
threads' ids, per task the intended and measured shares, every code object of
this file (plus those the sampler saw elsewhere) with its name (co_qualname on
3.11+, co_name before), co_filename, line table (dis.findlinestarts) and the
lines the sampler saw it on, and the deepest stack seen per innermost function
and thread, root first, including the whole recursion.
"""
from __future__ import division, print_function

import dis
import functools
import json
import os
import sys
import threading
import time

try:
    RANGE = xrange  # Python 2
except NameError:
    RANGE = range

MODULE_CODE = sys._getframe().f_code
RECURSION_DEPTH = 100
ROUND_SECONDS = 0.2
SAMPLE_INTERVAL = 0.005
START_TIMEOUT = 60.0
TIMELINE_INTERVAL = 0.1
CHUNK = 2000

now = time.time


def ctypes_clock(clock_id):
    """clock_gettime(clock_id) through libc, for Python 2, whose time module
    has no clock_gettime."""
    import ctypes

    class Timespec(ctypes.Structure):
        _fields_ = [("seconds", ctypes.c_long), ("nanoseconds", ctypes.c_long)]

    libc = ctypes.CDLL(None, use_errno=True)

    def read():
        value = Timespec()
        if libc.clock_gettime(clock_id, ctypes.byref(value)) != 0:
            raise OSError(ctypes.get_errno(), "clock_gettime(%d)" % clock_id)
        return value.seconds + value.nanoseconds * 1e-9
    return read


if hasattr(time, "clock_gettime"):
    thread_cpu = functools.partial(time.clock_gettime, time.CLOCK_THREAD_CPUTIME_ID)
    process_cpu = functools.partial(time.clock_gettime, time.CLOCK_PROCESS_CPUTIME_ID)
else:  # Python 2: CLOCK_PROCESS_CPUTIME_ID is 2, CLOCK_THREAD_CPUTIME_ID is 3 on Linux
    thread_cpu = ctypes_clock(3)
    process_cpu = ctypes_clock(2)


def jit_enabled():
    """Whether the experimental JIT is on (3.14+ builds that have one say)."""
    return bool(getattr(getattr(sys, "_jit", None), "is_enabled", lambda: False)())


def native_tid():
    """The kernel's id of the calling thread, as a profiler reports it."""
    if hasattr(threading, "get_native_id"):
        return threading.get_native_id()
    return int(os.readlink("/proc/thread-self").split("/")[-1])


def code_name(code):
    """The name a profiler should print: co_qualname on 3.11+, else co_name."""
    return getattr(code, "co_qualname", code.co_name)


def all_codes(code):
    yield code
    for constant in code.co_consts:
        if hasattr(constant, "co_code"):
            for inner in all_codes(constant):
                yield inner


def describe_code(code, observed_lines):
    lines = observed_lines.get(code, {})
    return {
        "name": code_name(code),
        "file": code.co_filename,
        "first_line": code.co_firstlineno,
        "line_table": sorted(set(line for _, line in dis.findlinestarts(code) if line is not None)),
        "observed_lines": sorted([line, count] for line, count in lines.items()),
    }


def wait_for(path):
    """Sleeps until `path` exists: the caller's signal to start."""
    give_up = now() + START_TIMEOUT
    while not os.path.exists(path):
        if now() > give_up:
            raise SystemExit("%s did not appear within %d s" % (path, START_TIMEOUT))
        time.sleep(0.01)


def write_json(path, report):
    temporary = path + ".tmp"
    with open(temporary, "w") as handle:
        json.dump(report, handle, indent=1, sort_keys=True)
    os.rename(temporary, path)


# The busy functions. Every loop that burns is one line (see the docstring).

def plain_function(deadline):
    n = 0
    while now() < deadline: n = (n * 7 + 3) % 1000003
    return n


class Spinner(object):
    def spin_method(self, deadline):
        n = 0
        while now() < deadline: n = (n * 7 + 3) % 1000003
        return n


def outer_function(deadline):
    def inner_function(deadline):
        n = 0
        while now() < deadline: n = (n * 7 + 3) % 1000003
        return n
    return inner_function(deadline)


sum_lambda = lambda count: sum(RANGE(count))


def call_lambda(deadline):
    total = 0
    while now() < deadline: total += sum_lambda(400)
    return total


def number_generator(deadline):
    n = 0
    while now() < deadline:
        for i in RANGE(CHUNK): n = (n * 7 + i) % 1000003
        yield n


def consume_generator(deadline):
    total = 0
    for value in number_generator(deadline): total += value
    return total


def recurse(depth, deadline):
    if depth > 1: return recurse(depth - 1, deadline)
    n = 0
    while now() < deadline: n = (n * 7 + 3) % 1000003
    return n


def thread_worker(deadline, report):
    report["tid"] = native_tid()
    n = 0
    while now() < deadline: n = (n * 7 + 3) % 1000003
    report["cpu_seconds"] = thread_cpu()
    return n


def _inner_code(outer, name):
    return [c for c in outer.co_consts if hasattr(c, "co_code") and c.co_name == name][0]


class Task(object):
    def __init__(self, key, slice_seconds, run, codes):
        self.key = key
        self.slice_seconds = slice_seconds
        self.run = run
        self.codes = codes  # the principal (the one that burns) first
        self.slices = 0
        self.cpu_seconds = 0.0
        self.wall_seconds = 0.0


TASKS = [
    Task("plain", 0.050, plain_function, [plain_function.__code__]),
    Task("method", 0.040, Spinner().spin_method, [Spinner.__dict__["spin_method"].__code__]),
    Task("nested", 0.030, outer_function,
         [_inner_code(outer_function.__code__, "inner_function"), outer_function.__code__]),
    Task("lambda", 0.020, call_lambda, [sum_lambda.__code__, call_lambda.__code__]),
    Task("generator", 0.030, consume_generator, [number_generator.__code__, consume_generator.__code__]),
    Task("recursion", 0.030, functools.partial(recurse, RECURSION_DEPTH), [recurse.__code__]),
]
assert abs(sum(task.slice_seconds for task in TASKS) - ROUND_SECONDS) < 1e-9


def run_schedule(tasks, deadline):
    while now() < deadline:
        for task in tasks:
            wall, cpu = now(), thread_cpu()
            task.run(min(wall + task.slice_seconds, deadline))
            task.cpu_seconds += thread_cpu() - cpu
            task.wall_seconds += now() - wall
            task.slices += 1


class SelfSampler(object):
    """Snapshots of the other threads' stacks through sys._current_frames()."""

    def __init__(self, roles):
        self.roles = roles  # thread ident -> "main" | "worker"; never the sampler itself
        self.running = True
        self.snapshots = 0
        self.observed_lines = {}  # code -> {line: count}, over every frame of every snapshot
        self.innermost = {}  # (role, code) -> snapshots with that code innermost
        self.deepest = {}  # (role, code) -> deepest stack seen with that code innermost
        self.timeline = []  # (wall, process CPU seconds)
        self.tid = None
        self.cpu_seconds = 0.0

    def run(self):
        self.tid = native_tid()
        next_timeline = 0.0
        while self.running:
            self.take_snapshot()
            if now() >= next_timeline:
                self.timeline.append((now(), process_cpu()))
                next_timeline = now() + TIMELINE_INTERVAL
            time.sleep(SAMPLE_INTERVAL)
        self.timeline.append((now(), process_cpu()))
        self.cpu_seconds = thread_cpu()

    def take_snapshot(self):
        frames = sys._current_frames()
        for ident, role in self.roles.items():
            frame = frames.get(ident)
            stack = []
            while frame is not None:
                stack.append((frame.f_code, frame.f_lineno))
                frame = frame.f_back
            if not stack:
                continue
            for code, line in stack:
                lines = self.observed_lines.setdefault(code, {})
                lines[line] = lines.get(line, 0) + 1
            key = (role, stack[0][0])
            self.innermost[key] = self.innermost.get(key, 0) + 1
            if len(stack) > len(self.deepest.get(key, ())):
                self.deepest[key] = stack
        self.snapshots += 1
        del frames


def snapshot_order(item):
    (role, code), _ = item
    return role, code_name(code)


def build_report(started, finished, main_tid, worker, sampler):
    tasks_cpu = sum(task.cpu_seconds for task in TASKS)
    codes = list(all_codes(MODULE_CODE))
    codes += [code for code in sampler.observed_lines if code not in codes]
    process_seconds = process_cpu()
    tasks = []
    for task in TASKS:
        tasks.append({
            "key": task.key,
            "principal": code_name(task.codes[0]),
            "functions": [code_name(code) for code in task.codes],
            "intended_share": task.slice_seconds / ROUND_SECONDS,
            "slice_seconds": task.slice_seconds,
            "slices": task.slices,
            "cpu_seconds": task.cpu_seconds,
            "wall_seconds": task.wall_seconds,
            "measured_share": task.cpu_seconds / tasks_cpu if tasks_cpu > 0 else 0.0,
            "observed_innermost": sum(sampler.innermost.get(("main", code), 0) for code in task.codes),
        })
    snapshots = []
    for (role, code), stack in sorted(sampler.deepest.items(), key=snapshot_order):
        snapshots.append({
            "thread": role,
            "innermost": code_name(code),
            "count": sampler.innermost[(role, code)],
            "stack": [{"name": code_name(c), "file": c.co_filename, "line": line} for c, line in reversed(stack)],
        })
    return {
        "pid": os.getpid(),
        "version": sys.version,
        "version_info": list(sys.version_info[:3]),
        "jit": jit_enabled(),
        "executable": sys.executable,
        "script": MODULE_CODE.co_filename,
        "stdlib_dir": os.path.dirname(threading.__file__),
        "started_at": started,
        "finished_at": finished,
        "recursion_depth": RECURSION_DEPTH,
        "threads": {"main": main_tid, "worker": worker.get("tid"), "sampler": sampler.tid},
        "tasks": tasks,
        "main_cpu_seconds": thread_cpu(),
        "tasks_cpu_seconds": tasks_cpu,
        "worker": {
            "function": code_name(thread_worker.__code__),
            "cpu_seconds": worker.get("cpu_seconds", 0.0),
            "share_of_process_cpu": worker.get("cpu_seconds", 0.0) / process_seconds,
        },
        "sampler": {
            "snapshots": sampler.snapshots,
            "interval_seconds": SAMPLE_INTERVAL,
            "cpu_seconds": sampler.cpu_seconds,
        },
        "process_cpu_seconds": process_seconds,
        "process_cpu_timeline": [list(point) for point in sampler.timeline],
        "functions": [describe_code(code, sampler.observed_lines) for code in codes],
        "snapshots": snapshots,
    }


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write("usage: %s SECONDS REPORT.json [START_FILE]\n" % argv[0])
        return 2
    seconds, report_path = float(argv[1]), argv[2]
    if len(argv) == 4:
        wait_for(argv[3])
    started = now()
    deadline = started + seconds

    worker_report = {}
    worker = threading.Thread(target=thread_worker, args=(deadline, worker_report), name="worker")
    worker.start()
    sampler = SelfSampler({threading.current_thread().ident: "main", worker.ident: "worker"})
    sampler_thread = threading.Thread(target=sampler.run, name="sampler")
    sampler_thread.start()

    run_schedule(TASKS, deadline)
    worker.join()
    sampler.running = False
    sampler_thread.join()
    finished = now()
    write_json(report_path, build_report(started, finished, native_tid(), worker_report, sampler))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
