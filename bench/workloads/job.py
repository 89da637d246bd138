"""The benchmark's jobs: a fixed amount of work each, not a fixed time.

Run by the interpreter under test (3.8 or newer):

    python job.py KIND SCALE

It prepares, prints "ready", waits for a line on stdin (so that a profiler
can attach to an idle process first), does the work, and prints one JSON
line: {"wall": seconds of the work, "cpu": process CPU seconds of it}.
It exits when stdin closes, so that the profiler can be read while the
process still lives.
"""
import hashlib
import json
import random
import subprocess
import sys
import threading
import time
import zlib


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def recursion(scale):
    """Call-heavy: deep trees of small Python calls."""
    for _ in range(scale):
        fib(20)


def loop(scale):
    """A tight loop of arithmetic in one frame."""
    total = 0
    for i in range(scale * 100000):
        total += i * i % 7
    return total


def make_blob():
    rng = random.Random(1)
    words = [("w%d" % rng.randrange(500)).encode() for _ in range(8000)]
    noise = bytes(rng.getrandbits(8) for _ in range(16384))
    return b" ".join(words) + noise


def cext(scale):
    """Most of the time in C: zlib, hashlib, json."""
    blob = make_blob()
    doc = {"key%d" % i: [i, str(i), i / 3.0, {"nested": [True, None]}] for i in range(300)}
    for _ in range(scale):
        zlib.decompress(zlib.compress(blob, 6))
        hashlib.sha256(blob).digest()
        hashlib.md5(blob).digest()
        json.loads(json.dumps(doc))


def threads(scale):
    """Four Python threads, each with a quarter of the loop's work."""
    workers = [threading.Thread(target=loop, args=(scale // 4,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


CHILD = "t = 0\nfor i in range(150000):\n    t += i\n"


def storm(scale):
    """SCALE short-lived Pythons (each well under a second), two at a time."""
    running = []
    for _ in range(scale):
        if len(running) == 2:
            running.pop(0).wait()
        running.append(subprocess.Popen([sys.executable, "-S", "-c", CHILD]))
    for child in running:
        child.wait()


KINDS = {"recursion": recursion, "loop": loop, "cext": cext, "threads": threads, "storm": storm}


def main():
    kind, scale = sys.argv[1], int(sys.argv[2])
    work = KINDS[kind]
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    cpu0, wall0 = time.process_time(), time.perf_counter()
    work(scale)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
    sys.stdin.readline()  # exit when told (EOF), so profilers can be read first
    return 0


if __name__ == "__main__":
    sys.exit(main())
