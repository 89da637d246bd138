"""Code objects that live a few milliseconds, for the in-kernel capture of
what naming them needs. `exec`: functions compiled from source, each run
for about 10 ms and then dropped. `import`: a tree of stdlib packages
imported, forgotten (removed from sys.modules) and imported again, so
module bodies run and are freed over and over.

A thread snapshots the main thread's stack with sys._current_frames()
every millisecond; the (name, file) pairs it saw are written as JSON to
OUTPUT: the interpreter's own view of what ran.

usage: short_code.py exec|import SECONDS OUTPUT
"""
import json
import sys
import threading
import time

MODULES = ["email.mime.text", "json", "xml.dom.minidom", "http.client", "urllib.parse", "logging.handlers",
           "argparse", "decimal", "fractions", "csv", "textwrap", "difflib", "ipaddress", "statistics",
           "configparser", "tarfile", "zipfile", "unittest.mock", "asyncio", "dataclasses"]


def code_name(code):
    return getattr(code, "co_qualname", code.co_name)


def snapshot(main_id, stop, seen):
    while not stop.is_set():
        frame = sys._current_frames().get(main_id)
        while frame is not None:
            seen.add((code_name(frame.f_code), frame.f_code.co_filename))
            frame = frame.f_back
        time.sleep(0.001)


def run_exec(end):
    index = 0
    while time.time() < end:
        source = ("def fn_%d():\n"
                  "    stop = time.perf_counter() + 0.01\n"
                  "    while time.perf_counter() < stop:\n"
                  "        pass\n"
                  "fn_%d()\n") % (index, index)
        exec(compile(source, "<gen-%d>" % index, "exec"), {"time": time})
        index += 1


def run_import(end):
    baseline = set(sys.modules)
    while time.time() < end:
        for name in MODULES:
            try:
                __import__(name)
            except ImportError:
                pass
        for name in list(sys.modules):
            if name not in baseline:
                del sys.modules[name]


def main():
    mode, seconds, output = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    seen = set()
    stop = threading.Event()
    watcher = threading.Thread(target=snapshot, args=(threading.current_thread().ident, stop, seen))
    watcher.start()
    end = time.time() + seconds
    try:
        run_exec(end) if mode == "exec" else run_import(end)
    finally:
        stop.set()
        watcher.join()
    with open(output, "w") as out:
        json.dump(sorted(seen), out)


main()
