"""Stops pyrograph on a saturated host and times it, from a process at the
highest priority (a test harness at normal priority is itself starved by
such a load, and would time its own lateness).

    python3 saturated_stop.py PROCESSES THREADS SECONDS OUTPUT PYROGRAPH [ARGS...]

Starts PROCESSES Pythons of THREADS busy threads each, then `PYROGRAPH
record ARGS -o OUTPUT` (whole host), lets it sample for SECONDS, sends
SIGINT and times its exit. Prints one JSON line: {"stop_s", "status",
"workers": [pids], "stderr"}.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

BUSY = """
import os, sys, threading
def spin():
    while True:
        sum(range(1000))
for _ in range(int(sys.argv[1]) - 1):
    threading.Thread(target=spin, daemon=True).start()
sys.stdout.write("%d\\n" % os.getpid())
sys.stdout.flush()
spin()
"""


def main():
    processes, threads, seconds, output, pyrograph = (int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]),
                                                      sys.argv[4], sys.argv[5])
    os.setpriority(os.PRIO_PROCESS, 0, -20)
    normal = lambda: os.setpriority(os.PRIO_PROCESS, 0, 0)
    workers = [subprocess.Popen([sys.executable, "-c", BUSY, str(threads)], stdout=subprocess.PIPE,
                                preexec_fn=normal) for _ in range(processes)]
    try:
        pids = [int(w.stdout.readline()) for w in workers]
        recording = subprocess.Popen([pyrograph, "record"] + sys.argv[6:] + ["-o", output],
                                     stderr=subprocess.PIPE, preexec_fn=normal)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(recording.stderr))
        reader.start()
        deadline = time.monotonic() + 60
        while not any(b"recording" in line for line in lines) and recording.poll() is None:
            if time.monotonic() > deadline:
                recording.kill()
                break
            time.sleep(0.01)
        time.sleep(seconds)
        asked = time.monotonic()
        recording.send_signal(signal.SIGINT)
        while recording.poll() is None and time.monotonic() < asked + 120:
            time.sleep(0.005)
        stop = time.monotonic() - asked
        if recording.poll() is None:
            recording.kill()
        recording.wait()
        reader.join()
        print(json.dumps({"stop_s": stop, "status": recording.returncode, "workers": pids,
                          "stderr": b"".join(lines).decode("utf-8", "replace")}))
    finally:
        for worker in workers:
            worker.kill()
        for worker in workers:
            worker.wait()


main()
