# A server in miniature: forks workers that ignore SIGINT and SIGTERM (as
# a careless worker might) and writes their pids to argv[1].
import os, signal, sys, time
pids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:
            sum(range(10000))
            time.sleep(0.001)
    pids.append(pid)
with open(sys.argv[1], "w") as f:
    f.write(" ".join(map(str, [os.getpid()] + pids)) + "\n")
while True:
    time.sleep(0.1)
