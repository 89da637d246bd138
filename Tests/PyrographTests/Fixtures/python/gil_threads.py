# -*- coding: utf-8 -*-
"""Two threads that fight for the GIL, and one that mostly runs without it.

usage: python gil_threads.py SECONDS REPORT.json

For SECONDS, the threads "spinner-1" and "spinner-2" burn pure Python in
spin_one and spin_two: each can run only while it holds the GIL, so each
spends about half its time waiting for it, inside the interpreter's switch
(the waiting is asked for by the innermost Python frame, spin_one or
spin_two). The thread "compressor" loops over zlib.compress (compress_loop),
whose deflate runs with the GIL released: its time in deflate is neither
holding nor waiting for the GIL. The main thread waits in join.

REPORT.json holds the pid, whether the experimental JIT is on, and, per
thread, its native tid, its CPU seconds and the wall seconds it ran, which
are the ground truth: a spinner holds the GIL at most for its CPU time, and
waits for it for most of the rest.
Runs on CPython 2.7 and 3.6 and newer.
"""
from __future__ import division, print_function

import os
import sys
import threading
import zlib

from workload import jit_enabled, native_tid, now, thread_cpu, write_json

DATA_BYTES = 1 << 19


def spin_one(deadline, report):
    report["tid"] = native_tid()
    started = now()
    n = 0
    while now() < deadline: n = (n * 7 + 3) % 1000003
    report["wall_seconds"] = now() - started
    report["cpu_seconds"] = thread_cpu()


def spin_two(deadline, report):
    report["tid"] = native_tid()
    started = now()
    n = 0
    while now() < deadline: n = (n * 5 + 1) % 1000033
    report["wall_seconds"] = now() - started
    report["cpu_seconds"] = thread_cpu()


def compress_loop(deadline, data, report):
    report["tid"] = native_tid()
    started = now()
    calls = 0
    while now() < deadline:
        zlib.compress(data, 9)
        calls += 1
    report["wall_seconds"] = now() - started
    report["cpu_seconds"] = thread_cpu()
    report["calls"] = calls


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: %s SECONDS REPORT.json\n" % argv[0])
        return 2
    seconds, report_path = float(argv[1]), argv[2]
    data = os.urandom(DATA_BYTES)
    deadline = now() + seconds
    reports = {"spinner-1": {}, "spinner-2": {}, "compressor": {}}
    threads = [
        threading.Thread(target=spin_one, args=(deadline, reports["spinner-1"]), name="spinner-1"),
        threading.Thread(target=spin_two, args=(deadline, reports["spinner-2"]), name="spinner-2"),
        threading.Thread(target=compress_loop, args=(deadline, data, reports["compressor"]), name="compressor"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    write_json(report_path, {"pid": os.getpid(), "version": sys.version, "jit": jit_enabled(), "threads": reports})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
