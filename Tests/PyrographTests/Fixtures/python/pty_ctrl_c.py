# Runs argv[3:] (pyrograph record ... -- COMMAND) on a new pseudo-terminal,
# as a shell in a terminal would: the program is the foreground process
# group of its own session. Once argv[2] (the workers' pid file) lists 4
# pids, sends Ctrl-C as a typist would: the byte 0x03 on the terminal, which
# the line discipline turns into SIGINT for the whole foreground group.
# Prints "exit STATUS after SECONDS" (seconds from the Ctrl-C to the exit)
# and the terminal's output; argv[1] is a deadline in seconds.
import os, pty, select, sys, time

deadline = time.monotonic() + float(sys.argv[1])
pid_file = sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])

output = b""
def read(timeout):
    global output
    ready, _, _ = select.select([fd], [], [], timeout)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the terminal's last writer has gone
            return False
        output += chunk
        return bool(chunk)
    return True

def workers():
    try:
        return len(open(pid_file).read().split())
    except OSError:
        return 0

while (b"Ctrl-C to stop" not in output or workers() < 4) and time.monotonic() < deadline:
    if not read(0.05):
        break
time.sleep(0.3)
interrupted = time.monotonic()
os.write(fd, b"\x03")
status = None
while time.monotonic() < deadline:
    done, raw = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(raw)
        break
    read(0.02)
seconds = time.monotonic() - interrupted
while read(0.05):
    pass
print(f"exit {status} after {seconds:.2f}")
sys.stdout.write(output.decode(errors="replace"))
