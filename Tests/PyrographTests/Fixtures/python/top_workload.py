"""A workload for `pyrograph top`, whose ranking is known by construction.

usage: python top_workload.py hot|warm

hot:  burns all the CPU it gets; outer() gives 90% of each round to
      hot_spin() and 10% to side_spin(), so hot_spin is the busiest function
      by far (even on a host whose other work starves it), and outer (with
      <module>) the one with the highest total share.
warm: burns 10% of each 10 ms round in a function whose name carries an
      escape sequence (3.11+), as anyone can make one: `top` must show it
      escaped, never send it to the terminal.
Runs until killed.
"""
import random
import sys
import time


def hot_spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end: pass


def side_spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end: pass


def outer():
    while True:
        hot_spin(0.018)
        side_spin(0.002)


def warm():
    # Sleeps of random length: a fixed 10 ms period can stay in step with
    # the 99 Hz sampler and be missed for seconds.
    while True:
        end = time.perf_counter() + 0.001
        while time.perf_counter() < end: pass
        time.sleep(random.uniform(0.004, 0.014))


EVIL_NAME = "warm\x1b]0;pwned\x07"
if hasattr(warm.__code__, "co_qualname"):
    warm.__code__ = warm.__code__.replace(co_name=EVIL_NAME, co_qualname=EVIL_NAME)

if __name__ == "__main__":
    print("ready", flush=True)
    outer() if sys.argv[1] == "hot" else warm()
