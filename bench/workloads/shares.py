"""Known per-function CPU shares, for the fidelity figure.

    python shares.py CPU_SECONDS

Four functions spin in pure Python for quanta of thread CPU time in the
ratio 50 : 25 : 15 : 10, in a shuffled order with jittered quanta (so no
fixed period can alias with a sampler's). Each call's CPU time is measured
with time.thread_time(), and the measured shares are the truth the
profilers are scored against. Like job.py it waits for "go" on stdin and
prints one JSON line: {"truth": {name: share}, "wall", "cpu"}.
"""
import json
import random
import sys
import time

clock = time.thread_time
WEIGHTS = {"share_50": 10, "share_25": 5, "share_15": 3, "share_10": 2}
QUANTUM = 0.001  # seconds of CPU per unit of weight


def spin_until(end):
    while clock() < end:
        for _ in range(20):
            pass


def share_50(end):
    spin_until(end)


def share_25(end):
    spin_until(end)


def share_15(end):
    spin_until(end)


def share_10(end):
    spin_until(end)


def main():
    budget = float(sys.argv[1])
    functions = {"share_50": share_50, "share_25": share_25, "share_15": share_15, "share_10": share_10}
    schedule = [name for name, units in WEIGHTS.items() for _ in range(units)]
    rng = random.Random(7)
    spent = dict.fromkeys(functions, 0.0)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    wall0, cpu0 = time.perf_counter(), clock()
    while clock() - cpu0 < budget:
        rng.shuffle(schedule)
        for name in schedule:
            begin = clock()
            functions[name](begin + QUANTUM * rng.uniform(0.5, 1.5))
            spent[name] += clock() - begin
    total = sum(spent.values())
    print(json.dumps({"truth": {name: spent[name] / total for name in spent},
                      "wall": time.perf_counter() - wall0, "cpu": clock() - cpu0}), flush=True)
    sys.stdin.readline()  # exit when stdin closes, as job.py
    return 0


if __name__ == "__main__":
    sys.exit(main())
