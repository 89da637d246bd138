# -*- coding: utf-8 -*-
"""A thread parked at a known Python stack, for the walker tests.

Prints one JSON line: the main thread's threading identity (pthread_self,
which the walker matches), its tid, and its Python stack root first as the
interpreter reports it, then sleeps on the very line it reported.
Runs on CPython 2.7 and 3.6 to 3.13.
"""
from __future__ import print_function

import json
import os
import sys
import threading
import time


def frame_name(code):
    return getattr(code, "co_qualname", code.co_name)


def report(frame):
    stack = []
    while frame is not None:
        stack.append({"name": frame_name(frame.f_code), "file": frame.f_code.co_filename, "line": frame.f_lineno})
        frame = frame.f_back
    stack.reverse()
    ident = threading.current_thread().ident
    print(json.dumps({"thread_id": ident, "tid": os.getpid(), "stack": stack}))
    sys.stdout.flush()


class Parking(object):
    def park(self):
        return (lambda: nested_outer())()


def nested_outer():
    def nested_inner():
        report(sys._getframe()); time.sleep(600)
    return nested_inner()


def recurse(depth):
    if depth == 0:
        return Parking().park()
    return recurse(depth - 1)


recurse(5)
