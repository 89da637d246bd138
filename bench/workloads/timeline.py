"""A busy process whose Python frames tell the time.

    python timeline.py EPOCH UNTIL THREADS BUCKET_MS

With EPOCH and UNTIL given as "-", it reads them from a line on stdin
(after printing its start), so that many processes can be started idle and
set off together. It sleeps until EPOCH if that is still ahead. Every thread spins in a
function named `at_<ms>ms`, where <ms> is the start
of the current BUCKET_MS-wide slice of CLOCK_MONOTONIC since EPOCH. A sample
of such a frame therefore says when it was taken (to within one bucket),
which folded output cannot say otherwise. The process prints
{"pid", "start"} (its first Python instant, monotonic seconds) and spins
until UNTIL.
"""
import json
import os
import sys
import threading
import time

mono = time.monotonic
functions = {}


def bucket_function(ms):
    fn = functions.get(ms)
    if fn is None:
        namespace = {"mono": mono}
        exec("def at_%dms(end):\n"
             "    while mono() < end:\n"
             "        for _ in range(20):\n"
             "            pass\n" % ms, namespace)
        fn = functions[ms] = namespace["at_%dms" % ms]
    return fn


def spin(epoch, until, bucket_ms):
    while True:
        now = mono()
        if now >= until:
            return
        slot = int((now - epoch) * 1000 // bucket_ms)
        end = min(until, epoch + (slot + 1) * bucket_ms / 1000.0)
        bucket_function(slot * bucket_ms)(end)


def main():
    start = mono()
    epoch, until, threads, bucket_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps({"pid": os.getpid(), "start": start}), flush=True)
    if epoch == "-":
        epoch, until = sys.stdin.readline().split()
    epoch, until = float(epoch), float(until)
    time.sleep(max(0.0, epoch - mono()))
    workers = [threading.Thread(target=spin, args=(epoch, until, bucket_ms)) for _ in range(threads - 1)]
    for worker in workers:
        worker.daemon = True
        worker.start()
    spin(epoch, until, bucket_ms)
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
