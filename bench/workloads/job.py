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
import os
import random
import resource
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


def ping_pong(rounds, inbox, outbox, first):
    """One end of a pipe ping-pong: each byte sent wakes the other end."""
    if first:
        os.write(outbox, b"x")
    for _ in range(rounds):
        os.read(inbox, 1)
        os.write(outbox, b"x")


def pingpong(scale):
    """Switch-heavy: 4 pairs of threads pass a byte back and forth through
    pipes, SCALE x 1000 round trips each; every pass is a context switch
    (the suite reads the switch count from /proc at the end)."""
    workers = []
    for _ in range(4):
        a_read, b_write = os.pipe()
        b_read, a_write = os.pipe()
        workers.append(threading.Thread(target=ping_pong, args=(scale * 1000, a_read, a_write, True)))
        workers.append(threading.Thread(target=ping_pong, args=(scale * 1000, b_read, b_write, False)))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def context_switches():
    """Voluntary and involuntary switches of every thread this process had
    (getrusage sums the exited threads too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_nvcsw + usage.ru_nivcsw


KINDS = {"recursion": recursion, "loop": loop, "cext": cext, "threads": threads, "storm": storm, "pingpong": pingpong}


def main():
    kind, scale = sys.argv[1], int(sys.argv[2])
    work = KINDS[kind]
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    cpu0, wall0, switches0 = time.process_time(), time.perf_counter(), context_switches()
    work(scale)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({"wall": wall, "cpu": cpu, "switches": context_switches() - switches0}), flush=True)
    sys.stdin.readline()  # exit when told (EOF), so profilers can be read first
    return 0


if __name__ == "__main__":
    sys.exit(main())
