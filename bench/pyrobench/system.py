"""What the suite reads from the kernel: CPU time of a process, its peak
memory, BPF run-time statistics, and the sysctl that turns them on."""
import ctypes
import fcntl
import json
import os
import shutil
import subprocess
import time

BPF_STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"


def now():
    """CLOCK_MONOTONIC, the clock the workloads stamp their frames with."""
    return time.monotonic()


def normal_priority():
    """For children: the suite itself runs at a raised priority (so that its
    timestamps stay prompt on a loaded host); what it measures must not."""
    os.setpriority(os.PRIO_PROCESS, 0, 0)


def raise_priority():
    # -20, as pyrograph's own default: at -10 the suite's polling got under
    # 2% of a CPU beside scale's 1,000 busy threads, and timed pyrograph's
    # stop seconds late.
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -20)
    except OSError:
        pass


def cpu_ns(pid):
    """On-CPU time (user + sys) of every live thread of `pid`, in ns, from
    /proc/PID/task/*/schedstat (precise, unlike the 10 ms ticks of stat)."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def status_kb(pid, field):
    """A kB field of /proc/PID/status, such as VmHWM or VmRSS."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def running(popen):
    """Whether `popen` has not exited, without reaping it (its rusage is
    still to be collected by wait_rusage)."""
    if popen.returncode is not None:
        return False
    try:
        return os.waitid(os.P_PID, popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


def wait_rusage(popen, timeout=None):
    """Reaps `popen` with wait4 and returns (status, rusage). The rusage
    covers the process and the children it waited for."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(popen.pid, os.WNOHANG if deadline else 0)
        if pid == popen.pid:
            popen.returncode = os.waitstatus_to_exitcode(status)
            return popen.returncode, usage
        if deadline and time.monotonic() > deadline:
            raise TimeoutError("pid %d did not exit" % popen.pid)
        time.sleep(0.01)


def bpf_prog_ids(pid):
    """IDs of the BPF programs `pid` holds open (from /proc/PID/fdinfo)."""
    ids = []
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return ids
    for fd in fds:
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:bpf-prog":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.append(int(line.split()[1]))
        except OSError:
            pass
    return sorted(set(ids))


def bpf_run_stats(ids):
    """{id: (name, run_time_ns, run_cnt)} for `ids`, from `bpftool prog show`.
    Both counters grow only while kernel.bpf_stats_enabled is 1."""
    if not ids:
        return {}
    tool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    out = subprocess.run([tool, "-j", "prog", "show"], capture_output=True, text=True, check=True).stdout
    wanted = set(ids)
    return {p["id"]: (p.get("name", "?"), p.get("run_time_ns", 0), p.get("run_cnt", 0))
            for p in json.loads(out) if p["id"] in wanted}


class BPFStats:
    """Keeps the kernel's BPF run-time statistics on for the suite (use as a
    context manager).

    First choice: the bpf(BPF_ENABLE_STATS) file descriptor, which counts
    as one more user of the statistics while it is open and leaves
    kernel.bpf_stats_enabled alone, so another tool that sets and restores
    the sysctl meanwhile cannot turn them off under the suite. Otherwise:
    the sysctl set to 1, and restored to the value found."""

    SYS_BPF = {"x86_64": 321, "aarch64": 280}
    BPF_ENABLE_STATS = 32
    BPF_STATS_RUN_TIME = 0

    def __init__(self):
        self.fd = None
        self.saved = None
        self.method = None

    def __enter__(self):
        self.fd = self._enable_stats_fd()
        if self.fd is not None:
            self.method = "bpf(BPF_ENABLE_STATS)"
            return self
        with open(BPF_STATS_SYSCTL) as f:
            self.saved = f.read().strip()
        self._write("1")
        self.method = "sysctl kernel.bpf_stats_enabled"
        return self

    def __exit__(self, *exc):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.saved is not None:
            self._write(self.saved)
            self.saved = None
        return False

    def _enable_stats_fd(self):
        number = self.SYS_BPF.get(os.uname().machine)
        if number is None:
            return None
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        attr = (ctypes.c_uint32 * 4)(self.BPF_STATS_RUN_TIME, 0, 0, 0)  # union bpf_attr: enable_stats.type
        fd = libc.syscall(ctypes.c_long(number), ctypes.c_int(self.BPF_ENABLE_STATS), ctypes.byref(attr),
                          ctypes.c_uint(ctypes.sizeof(attr)))
        return fd if fd >= 0 else None

    @staticmethod
    def _write(value):
        with open(BPF_STATS_SYSCTL, "w") as f:
            f.write(value)


class SuiteLock:
    """One suite at a time on a host: two would fight over the sysctl and the
    CPUs. Waits for the other run and says so."""

    PATH = "/run/pyrograph-bench.lock"

    def __enter__(self):
        self.file = open(self.PATH, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("bench: another benchmark run holds %s; waiting for it" % self.PATH, flush=True)
            fcntl.flock(self.file, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()
        return False


def machine():
    """What the results were measured on."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kb / 1048576, 1),
        "kernel": os.uname().release,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_average": list(os.getloadavg()),
    }


def other_busy_processes(exclude=()):
    """Processes other than ours that used CPU in the last 0.5 s: a note on
    how quiet the host was."""
    def snapshot():
        ticks = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in exclude:
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks[int(entry)] = int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return ticks
    before = snapshot()
    time.sleep(0.5)
    after = snapshot()
    return sum(1 for pid, t in after.items() if t > before.get(pid, t))
