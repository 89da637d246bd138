# -*- coding: utf-8 -*-
"""Two threads named by the program burn CPU for SECONDS, then it exits.

Usage: named_threads.py SECONDS REPORT
REPORT gets {"names": {tid: name}} as the threads know themselves.
Runs on CPython 2.7 and 3.6+.
"""
import json
import sys
import threading
import time


def kernel_tid():
    if hasattr(threading, "get_native_id"):
        return threading.get_native_id()
    import ctypes
    return ctypes.CDLL(None).syscall(186)  # gettid on x86_64


names = {}


def crunch(seconds):
    names[kernel_tid()] = threading.current_thread().name
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        n += 1


def main():
    seconds = float(sys.argv[1])
    threads = [threading.Thread(target=crunch, args=(seconds,), name=name) for name in ("cruncher-A", "cruncher-B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(sys.argv[2], "w") as out:
        json.dump({"names": dict((str(tid), name) for tid, name in names.items())}, out)


main()
