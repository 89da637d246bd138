"""A workload whose split between two functions is set on the command line.

usage: python share_shift.py SCALED_SHARE SECONDS

Every 20 ms round, the main thread burns in scaled() for SCALED_SHARE of
the round and in steady() for the rest, so two recordings with shares 0.25
and 0.5 are one profile before and after scaled()'s share doubled. The
time is wall time, read around a busy loop on one line, so the shares hold
on a quiet machine whatever the interpreter's speed.
"""
import sys
import time

ROUND_SECONDS = 0.02


def burn(seconds):
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline: pass


def scaled(seconds):
    burn(seconds)


def steady(seconds):
    burn(seconds)


def main():
    share = float(sys.argv[1])
    end = time.perf_counter() + float(sys.argv[2])
    while time.perf_counter() < end:
        scaled(ROUND_SECONDS * share)
        steady(ROUND_SECONDS * (1 - share))


main()
