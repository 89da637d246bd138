"""Forks workers at once, before an interpreter could be found by a
profiler watching exec, then each burns CPU in `child_work` for the given
seconds while the parent waits and then prints "worker PID" for each.
Works on 2.7 and 3.x.

    python fork_early.py WORKERS SECONDS
"""
import os
import sys
import time


def child_work(seconds):
    deadline = time.time() + seconds
    total = 0
    while time.time() < deadline:
        for i in range(2000):
            total += i * i
    return total


def main():
    workers = int(sys.argv[1])
    seconds = float(sys.argv[2])
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            child_work(seconds)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    for pid in children:
        print("worker %d" % pid)
    sys.stdout.flush()


main()
