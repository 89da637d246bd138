"""Starts short-lived busy Pythons one after the other, for the start-up
figure: the time from a new process's exec to its first sample with
Python frames.

    python spawner.py EPOCH CHILDREN LIFETIME BUCKET_MS

Waits for "go" on stdin, then for each child: notes CLOCK_MONOTONIC just
before starting it (the exec, to within the fork), lets it run timeline.py
for LIFETIME seconds, waits for it, and prints
{"pid", "exec", "start"} ("start": the child's first Python instant).
"""
import json
import os
import subprocess
import sys
import time


def main():
    epoch, children, lifetime, bucket_ms = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    timeline = os.path.join(os.path.dirname(os.path.abspath(__file__)), "timeline.py")
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    for _ in range(children):
        exec_at = time.monotonic()
        child = subprocess.Popen([sys.executable, "-B", timeline, "%.6f" % epoch, "%.6f" % (exec_at + lifetime),
                                  "1", bucket_ms], stdout=subprocess.PIPE, text=True)
        start = json.loads(child.stdout.readline())["start"]
        child.wait()
        print(json.dumps({"pid": child.pid, "exec": exec_at, "start": start}), flush=True)
        time.sleep(0.1)
    print("done", flush=True)
    sys.stdin.readline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
