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


def thread_states(pid):
    """Each thread's state, nice value and innermost kernel functions."""
    states = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            base = "/proc/%d/task/%s/" % (pid, tid)
            try:
                fields = open(base + "stat").read().rsplit(")", 1)[1].split()
                stack = [line.split(" ", 1)[-1].split("+")[0] for line in open(base + "stack").read().split("\n")[:4] if line]
                states.append("%s:%s:nice %s:%s" % (tid, fields[0], fields[16], "<".join(stack)))
            except (OSError, IndexError):
                pass
    except OSError:
        pass
    return " ".join(states)


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
        threads_seen = []
        while recording.poll() is None and time.monotonic() < asked + 120:
            time.sleep(0.005)
            # What pyrograph's threads do while a stop is slow.
            if time.monotonic() - asked > 0.5 and len(threads_seen) < 40:
                threads_seen.append("%+.2f %s" % (time.monotonic() - asked, thread_states(recording.pid)))
                time.sleep(0.1)
        stop = time.monotonic() - asked
        if recording.poll() is None:
            recording.kill()
        recording.wait()
        reader.join()
        print(json.dumps({"stop_s": stop, "status": recording.returncode, "workers": pids,
                          "stderr": b"".join(lines).decode("utf-8", "replace") + "\n".join(threads_seen)}))
    finally:
        for worker in workers:
            worker.kill()
        for worker in workers:
            worker.wait()


main()
