"""Off-CPU ground truth for `record --clock wall`.

The main thread runs client_loop: it alternates wait_for_reply (a socket
read that a server thread answers after DELAY seconds) with compute (a
pure-Python loop of about BURN seconds of CPU), and measures the wall time
spent in each. A second thread cycles through five waits, each in its own
function: in_sleep (time.sleep), in_lock (threading.Lock.acquire), in_select
(select.select on a socket), in_pipe_read (os.read on a pipe) and
in_child_wait (os.waitpid on a child that sleeps).

usage: offcpu_waits.py SECONDS REPORT.json [GO_FILE]
Writes {"pid", "wait", "compute", "loop"} (seconds) and "sleep_call", the
system call this interpreter's time.sleep waits in, to REPORT.json.
"""
import json
import os
import select
import socket
import sys
import sysconfig
import threading
import time

DELAY = 0.030
BURN = 0.020


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
    end = time.thread_time() + seconds
    total = 0
    while time.thread_time() < end:
        for i in range(500):
            total += i * i
    return total


def client_loop(sock, until, truth):
    start = time.perf_counter()
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        wait_for_reply(sock)
        t1 = time.perf_counter()
        compute(BURN)
        t2 = time.perf_counter()
        truth["wait"] += t1 - t0
        truth["compute"] += t2 - t1
    truth["loop"] = time.perf_counter() - start


def in_sleep():
    time.sleep(0.05)


def in_lock(lock):
    lock.acquire(timeout=0.05)


def in_select(sock):
    select.select([sock], [], [], 0.05)


def in_pipe_read(read_end, write_end):
    threading.Timer(0.05, os.write, (write_end, b"x")).start()
    os.read(read_end, 1)


def in_child_wait():
    pid = os.fork()
    if pid == 0:
        # Not Python any more, so the child's own wait does not count as
        # in_child_wait's (a forked child's stack starts as its parent's).
        os.execv("/bin/sleep", ["sleep", "0.05"])
    os.waitpid(pid, 0)


def waiter(until):
    held = threading.Lock()
    held.acquire()
    quiet, _ = socket.socketpair()
    read_end, write_end = os.pipe()
    while time.perf_counter() < until:
        in_sleep()
        in_lock(held)
        in_select(quiet)
        in_pipe_read(read_end, write_end)
        in_child_wait()


def main():
    seconds, report = float(sys.argv[1]), sys.argv[2]
    if len(sys.argv) > 3:
        while not os.path.exists(sys.argv[3]):
            time.sleep(0.01)
    client, server = socket.socketpair()
    threading.Thread(target=serve, args=(server,), daemon=True).start()
    until = time.perf_counter() + seconds
    threading.Thread(target=waiter, args=(until,), daemon=True).start()
    truth = {"pid": os.getpid(), "wait": 0.0, "compute": 0.0, "loop": 0.0, "sleep_call": sleep_call()}
    client_loop(client, until, truth)
    client.close()
    with open(report, "w") as f:
        json.dump(truth, f)


if __name__ == "__main__":
    main()
