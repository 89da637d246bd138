# -*- coding: utf-8 -*-
"""Mixed-stack workloads, one per mode, each run for SECONDS.

usage: python mixed.py MODE SECONDS [LIBRARY]
  ctypes   caller() calls outer -> middle -> inner in LIBRARY through ctypes
  zlib     compress_caller() compresses a large buffer with zlib
  hashlib  hash_caller() hashes a large buffer with sha256
  stat     stat_caller() calls os.stat in a loop (syscalls)
  dlopen   prints "ready", waits for a line on stdin, then loads LIBRARY
           with ctypes and runs caller()
Runs on CPython 2.7 and 3.6 to 3.13.
"""
from __future__ import print_function

import ctypes
import hashlib
import os
import sys
import time
import zlib


def caller(library, seconds):
    library.outer(ctypes.c_double(seconds))


def compress_caller(deadline, text):
    while time.time() < deadline:
        zlib.compress(text, 9)


def hash_caller(deadline, data):
    while time.time() < deadline:
        hashlib.sha256(data).digest()


def stat_caller(deadline):
    while time.time() < deadline:
        for _ in range(1000):
            os.stat("/")


def main():
    mode, seconds = sys.argv[1], float(sys.argv[2])
    deadline = time.time() + seconds
    data = os.urandom(1 << 20)
    if mode == "ctypes":
        caller(ctypes.CDLL(sys.argv[3]), seconds)
    elif mode == "zlib":
        # Sixteen symbols: compressible enough that the output stays small
        # and deflate's match search, not copying, takes the time.
        compress_caller(deadline, bytes(bytearray(b & 15 | 0x60 for b in bytearray(data))))
    elif mode == "hashlib":
        hash_caller(deadline, data)
    elif mode == "stat":
        stat_caller(deadline)
    elif mode == "dlopen":
        # The test says when: the load must come after sampling has begun.
        print("ready")
        sys.stdout.flush()
        sys.stdin.readline()
        caller(ctypes.CDLL(sys.argv[3]), seconds)
    else:
        raise SystemExit("unknown mode " + mode)


main()
