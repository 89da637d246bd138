# -*- coding: utf-8 -*-
"""One thread inside zlib.compress (GIL released) while another burns Python.

usage: python zlib_threads.py SECONDS REPORT.json [START_FILE]

Runs unchanged on CPython 2.7 and 3.6 to 3.13. With START_FILE, it first
sleeps until that file exists (see workload.py). Then the main thread burns in
burn_python for SECONDS; after a warm-up (a third of SECONDS, at most
WARM_UP_SECONDS) the thread "compressor" calls zlib.compress on 1 MB of
random bytes in compress_loop until the end; deflate runs with the GIL
released, so nearly all of that thread's CPU is native code under the Python
frame compress_loop, while the main thread holds the GIL in burn_python. A
profiler that takes every thread's Python stack from the GIL holder would put
the compressor's samples under burn_python.

Between burns the main thread snapshots the compressor through
sys._current_frames(). REPORT.json holds the pid, sys.version, both threads'
ids and CPU seconds, the compressor's CPU timeline (wall time and its CPU
seconds after each call), every code object of this file (name, co_filename,
line table, lines seen) and the compressor's deepest stack, root first.
"""
from __future__ import division, print_function

import os
import sys
import threading
import zlib

from workload import all_codes, code_name, describe_code, native_tid, now, process_cpu, thread_cpu, wait_for, write_json

MODULE_CODE = sys._getframe().f_code
DATA_BYTES = 1 << 20
BURN_SLICE = 0.05
WARM_UP_SECONDS = 0.5


def compress_loop(deadline, data, report):
    report["tid"] = native_tid()
    timeline = report["cpu_timeline"] = [(now(), thread_cpu())]
    while now() < deadline: zlib.compress(data, 6); timeline.append((now(), thread_cpu()))
    report["cpu_seconds"] = thread_cpu()


def burn_python(deadline):
    n = 0
    while now() < deadline: n = (n * 7 + 3) % 1000003
    return n


def snapshot(ident, observed_lines, deepest):
    frame = sys._current_frames().get(ident)
    stack = []
    while frame is not None:
        stack.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    # Only snapshots taken inside zlib.compress count: on 2.7 the thread's
    # CPU clock is read through ctypes, a Python frame above compress_loop.
    if not stack or stack[0][0] is not compress_loop.__code__:
        return deepest
    for code, line in stack:
        lines = observed_lines.setdefault(code, {})
        lines[line] = lines.get(line, 0) + 1
    return stack if len(stack) > len(deepest) else deepest


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write("usage: %s SECONDS REPORT.json [START_FILE]\n" % argv[0])
        return 2
    seconds, report_path = float(argv[1]), argv[2]
    data = os.urandom(DATA_BYTES)
    if len(argv) == 4:
        wait_for(argv[3])
    started = now()
    deadline = started + seconds

    burn_python(started + min(WARM_UP_SECONDS, seconds / 3))
    compressor_report = {}
    compressor = threading.Thread(target=compress_loop, args=(deadline, data, compressor_report), name="compressor")
    compressor.start()
    observed_lines, deepest, snapshots = {}, [], 0
    while now() < deadline:
        burn_python(min(now() + BURN_SLICE, deadline))
        deepest = snapshot(compressor.ident, observed_lines, deepest)
        snapshots += 1
    compressor.join()

    codes = list(all_codes(MODULE_CODE))
    codes += [code for code in observed_lines if code not in codes]
    write_json(report_path, {
        "pid": os.getpid(),
        "version": sys.version,
        "version_info": list(sys.version_info[:3]),
        "executable": sys.executable,
        "script": MODULE_CODE.co_filename,
        "started_at": started,
        "finished_at": now(),
        "threads": {"main": native_tid(), "compressor": compressor_report.get("tid")},
        "main": {"function": code_name(burn_python.__code__), "cpu_seconds": thread_cpu()},
        "compressor": {
            "function": code_name(compress_loop.__code__),
            "cpu_seconds": compressor_report.get("cpu_seconds", 0.0),
            "cpu_timeline": [list(point) for point in compressor_report.get("cpu_timeline", [])],
            "stack": [{"name": code_name(c), "file": c.co_filename, "line": line} for c, line in reversed(deepest)],
        },
        "snapshots": snapshots,
        "process_cpu_seconds": process_cpu(),
        "functions": [describe_code(code, observed_lines) for code in codes],
    })
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
