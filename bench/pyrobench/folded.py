"""Reading folded stacks ("frame;frame;frame COUNT"), as pyrograph writes
them and as py-spy writes with --format raw."""
import re

BUCKET = re.compile(r"^at_(\d+)ms \(")
PYROGRAPH_ROOT = re.compile(r"^.* \((\d+)\)$")
PYSPY_ROOT = re.compile(r"^process (\d+):")


def read_stacks(path):
    """[(frames, count)] from a folded file."""
    stacks = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            stacks.append((stack.split(";") if stack else [], int(count)))
    return stacks


def function(frame):
    """`qualname` of a Python frame `qualname (file:line)`."""
    return frame.split(" (", 1)[0]


def root_pid(frames, default=None):
    """The process a stack belongs to: pyrograph's `COMM (PID)` root frame,
    the innermost of py-spy's `process PID:"..."` frames (--subprocesses
    nests a child under its parent), else `default` (py-spy names no
    process when it follows one)."""
    pid = default
    for frame in frames:
        m = PYSPY_ROOT.match(frame)
        if not m:
            break
        pid = int(m.group(1))
    if pid == default and frames:
        m = PYROGRAPH_ROOT.match(frames[0])
        if m:
            pid = int(m.group(1))
    return pid


def first_buckets(stacks, default_pid=None):
    """{pid: start in ms of the earliest time bucket seen in that process's
    Python frames}. The timeline workload names its frames `at_<ms>ms`."""
    first = {}
    for frames, _ in stacks:
        pid = root_pid(frames, default_pid)
        for frame in frames:
            m = BUCKET.match(frame)
            if m:
                ms = int(m.group(1))
                if pid not in first or ms < first[pid]:
                    first[pid] = ms
                break
    return first


def samples_with_function(stacks, names):
    """{name: samples whose stack holds a frame of function `name`}."""
    counts = dict.fromkeys(names, 0)
    for frames, count in stacks:
        seen = {function(frame) for frame in frames}
        for name in names:
            if name in seen:
                counts[name] += count
    return counts
