# -*- coding: utf-8 -*-
"""Threads parked in known places, for `pyrograph dump`'s tests.

Usage: dump_target.py REPORT [EXTRA_SLEEPERS]

Named threads sleep, block on a lock, call zlib.compress and burn CPU, each
on one line; EXTRA_SLEEPERS more threads sleep. Once every thread sits
where it should, the script writes REPORT (JSON, written to a temporary
name then renamed): per thread its ident, kernel tid, name and Python stack
innermost first, as sys._current_frames() sees it. Runs on CPython 2.7 and
3.6+.
"""
from __future__ import print_function

import inspect
import json
import os
import sys
import threading
import time
import zlib


def frame_name(code):
    return getattr(code, "co_qualname", code.co_name)


def stack_of(frame):
    stack = []
    while frame is not None:
        stack.append({"function": frame_name(frame.f_code), "file": frame.f_code.co_filename,
                      "line": frame.f_lineno})
        frame = frame.f_back
    return stack


def kernel_tid():
    if hasattr(threading, "get_native_id"):
        return threading.get_native_id()
    import ctypes
    return ctypes.CDLL(None).syscall(186)  # gettid on x86_64


tids = {}
gate = threading.Lock()
gate.acquire()
payload = os.urandom(1 << 20)


def sleeper():
    tids[threading.current_thread().ident] = kernel_tid()
    time.sleep(600)


def blocked():
    tids[threading.current_thread().ident] = kernel_tid()
    gate.acquire()


def compressor():
    tids[threading.current_thread().ident] = kernel_tid()
    while True: zlib.compress(payload, 9)


def burner():
    tids[threading.current_thread().ident] = kernel_tid()
    n = 0
    while True: n += 1


PARKED_IN = {"sleeper": "sleeper", "blocked": "blocked", "compressor": "compressor", "burner": "burner"}


def parked(threads):
    """Whether every thread's innermost frame is its parking function."""
    frames = sys._current_frames()
    for thread in threads:
        frame = frames.get(thread.ident)
        if frame is None or thread.ident not in tids:
            return False
        if frame.f_code.co_name != thread.parking:
            return False
        # The line of the parking statement: the function's last.
        if frame.f_lineno != thread.parking_line:
            return False
    return True


def report(path, threads, main_frame):
    frames = sys._current_frames()
    entries = []
    for thread in threads:
        entries.append({"ident": thread.ident, "tid": tids[thread.ident], "name": thread.name,
                        "stack": stack_of(frames[thread.ident])})
    me = threading.current_thread()
    entries.append({"ident": me.ident, "tid": os.getpid(), "name": me.name, "stack": stack_of(main_frame)})
    with open(path + ".tmp", "w") as out:
        json.dump({"pid": os.getpid(), "threads": entries}, out)
    os.rename(path + ".tmp", path)


def last_line(function):
    """The parking statement is the function's last line."""
    lines, first = inspect.getsourcelines(function)
    return first + len(lines) - 1


def main():
    path = sys.argv[1]
    extra = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    named = [(sleeper, "sleeper: zzz"), (blocked, u"blocked on the gate \u00e9" if sys.version_info[0] >= 3 else "blocked on the gate"), (compressor, "compressor"),
             (burner, "burner\x1b[31m")]
    named += [(sleeper, "extra-%d" % index) for index in range(extra)]
    threads = []
    for function, name in named:
        thread = threading.Thread(target=function, name=name)
        thread.daemon = True
        thread.parking = function.__name__
        thread.parking_line = last_line(function)
        thread.start()
        threads.append(thread)
    while not parked(threads):
        time.sleep(0.01)
    report(path, threads, sys._getframe()); time.sleep(600)


main()
