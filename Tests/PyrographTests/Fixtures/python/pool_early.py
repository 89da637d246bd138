"""A pool of worker processes made at import time, before a profiler that
watches exec could know this interpreter: ProcessPoolExecutor(4) on 3.x
(its workers forked, or on 3.14+ forked by a forkserver), multiprocessing.Pool(4)
on 2.7. Each task burns CPU in `pool_work` for the given seconds; the
parent prints "worker PID" for each process that ran one.

    python pool_early.py SECONDS TASKS
"""
import os
import sys
import time

def pool_work(seconds):
    deadline = time.time() + seconds
    total = 0
    while time.time() < deadline:
        for i in range(2000):
            total += i * i
    return os.getpid()


# Made at import time (after the task function, which 2.7's pool forks
# its workers without otherwise).
if __name__ == "__main__":
    try:
        from concurrent.futures import ProcessPoolExecutor
        pool = ProcessPoolExecutor(4)
    except ImportError:
        import multiprocessing
        pool = multiprocessing.Pool(4)

if __name__ == "__main__":
    seconds, tasks = float(sys.argv[1]), int(sys.argv[2])
    for pid in sorted(set(pool.map(pool_work, [seconds] * tasks))):
        print("worker %d" % pid)
    sys.stdout.flush()
