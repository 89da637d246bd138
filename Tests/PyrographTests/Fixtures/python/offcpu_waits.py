"""Off-CPU ground truth for `record --clock wall`.

The main thread runs client_loop: it alternates wait_for_reply (a socket
read that a server thread answers after DELAY seconds) with compute (a
pure-Python loop of about BURN seconds of CPU), and measures the wall time
spent in each. A second thread cycles through five waits, each in its own
function: in_sleep (time.sleep), in_lock (threading.Lock.acquire), in_select
(select.select on a socket), in_pipe_read (os.read on a pipe) and
in_child_wait (os.waitpid on a child that sleeps).

usage: offcpu_waits.py SECONDS REPORT.json [GO_FILE]
Writes {"pid", "wait", "compute", "loop"} (seconds), "sleep_call", the
system call this interpreter's time.sleep waits in, and "jit", whether the
experimental JIT is on, to REPORT.json. Needs workload.py beside it.

Runs unchanged on CPython 2.7 and 3.6 to 3.15: the clocks and the timed lock
wait that older versions lack are stood in for below.
"""
import functools
import json
import os
import select
import socket
import sys
import sysconfig
import threading
import time

from workload import ctypes_clock, jit_enabled

DELAY = 0.030
BURN = 0.020
WAIT = 0.05


# Linux's clock ids: CLOCK_MONOTONIC is 1, CLOCK_THREAD_CPUTIME_ID is 3.
if hasattr(time, "perf_counter"):  # 3.3+
    perf_counter = time.perf_counter
else:
    perf_counter = ctypes_clock(1)
if hasattr(time, "thread_time"):  # 3.7+
    thread_time = time.thread_time
elif hasattr(time, "clock_gettime"):  # 3.3+
    thread_time = functools.partial(time.clock_gettime, time.CLOCK_THREAD_CPUTIME_ID)
else:
    thread_time = ctypes_clock(3)

# Lock.acquire(timeout=) is 3.2+; Python 2's Lock.acquire can only block.
TIMED_LOCKS = sys.version_info >= (3, 2)


def sleep_call():
    """How time.sleep waits, from the build's own configuration: CPython
    3.11+ sleeps in clock_nanosleep(), else nanosleep(), when configure
    found them; older configure scripts never looked for either (the
    variables are unset) and time.sleep waits in select()."""
    if sysconfig.get_config_var("HAVE_CLOCK_NANOSLEEP"):
        return "clock_nanosleep"
    if sysconfig.get_config_var("HAVE_NANOSLEEP"):
        return "nanosleep"
    return "select"


def serve(conn):
    while True:
        request = conn.recv(1)
        if not request:
            return
        time.sleep(DELAY)
        conn.sendall(b"r")


def wait_for_reply(sock):
    sock.sendall(b"q")
    return sock.recv(1)


def compute(seconds):
    end = thread_time() + seconds
    total = 0
    while thread_time() < end:
        for i in range(500):
            total += i * i
    return total


def client_loop(sock, until, truth):
    start = perf_counter()
    while perf_counter() < until:
        t0 = perf_counter()
        wait_for_reply(sock)
        t1 = perf_counter()
        compute(BURN)
        t2 = perf_counter()
        truth["wait"] += t1 - t0
        truth["compute"] += t2 - t1
    truth["loop"] = perf_counter() - start


def in_sleep():
    time.sleep(WAIT)


def release_later(lock):
    """On Python 2, which cannot time a lock wait, releases `lock` from
    another thread WAIT seconds from now (a Lock, unlike an RLock, may be
    released by any thread). Called before in_lock, not in it: Thread.start
    itself waits on a lock, which would pass for in_lock's wait."""
    if not TIMED_LOCKS:
        threading.Timer(WAIT, lock.release).start()


def in_lock(lock):
    """Waits about WAIT seconds on `lock`, which the caller holds: until the
    timeout, or until release_later releases it; held again on return."""
    if TIMED_LOCKS:
        lock.acquire(timeout=WAIT)
    else:
        lock.acquire()


def in_select(sock):
    select.select([sock], [], [], WAIT)


def in_pipe_read(read_end, write_end):
    threading.Timer(WAIT, os.write, (write_end, b"x")).start()
    os.read(read_end, 1)


def in_child_wait():
    pid = os.fork()
    if pid == 0:
        # Not Python any more, so the child's own wait does not count as
        # in_child_wait's (a forked child's stack starts as its parent's).
        os.execv("/bin/sleep", ["sleep", str(WAIT)])
    os.waitpid(pid, 0)


def waiter(until):
    held = threading.Lock()
    held.acquire()
    quiet, _ = socket.socketpair()
    read_end, write_end = os.pipe()
    while perf_counter() < until:
        in_sleep()
        release_later(held)
        in_lock(held)
        in_select(quiet)
        in_pipe_read(read_end, write_end)
        in_child_wait()


def start_daemon(target, *args):
    # Thread(daemon=) is 3.3+.
    thread = threading.Thread(target=target, args=args)
    thread.daemon = True
    thread.start()


def main():
    seconds, report = float(sys.argv[1]), sys.argv[2]
    if len(sys.argv) > 3:
        while not os.path.exists(sys.argv[3]):
            time.sleep(0.01)
    client, server = socket.socketpair()
    start_daemon(serve, server)
    until = perf_counter() + seconds
    start_daemon(waiter, until)
    truth = {"pid": os.getpid(), "wait": 0.0, "compute": 0.0, "loop": 0.0, "sleep_call": sleep_call(),
             "jit": jit_enabled()}
    client_loop(client, until, truth)
    client.close()
    with open(report, "w") as f:
        json.dump(truth, f)


if __name__ == "__main__":
    main()
