# Runs code objects made a moment ago, DEPTH calls deep (argv[1]), so
# nearly every sample is a stack the recorder has never seen: the reader
# has to name each one, which is slower than the kernel makes them.
# Runs for SECONDS (argv[2]) if given, else until killed.
import sys, time
i = 0
DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 40
END = time.monotonic() + float(sys.argv[2]) if len(sys.argv) > 2 else float("inf")
while time.monotonic() < END:
    i += 1
    src = "".join(f"def f{k}_{i}(n):\n    return f{k+1}_{i}(n) if n else sum(range(300))\n" for k in range(DEPTH))
    src += f"def f{DEPTH}_{i}(n):\n    return sum(range(300))\n"
    ns = {}
    exec(compile(src, f"gen_{i}.py", "exec"), ns)
    for _ in range(3):
        ns[f"f0_{i}"](1)
