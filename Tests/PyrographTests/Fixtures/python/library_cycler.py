"""Loads and unloads shared libraries when told: `load PATH` dlopens PATH
and answers `loaded`; `close` dlcloses every library it holds and answers
`closed`. Prints `ready` first."""
import ctypes
import sys

try:
    from _ctypes import dlclose
except ImportError:  # not every build exports it
    dlclose = None

held = []
print("ready", flush=True)
for line in sys.stdin:
    command, _, argument = line.strip().partition(" ")
    if command == "load":
        held.append(ctypes.CDLL(argument))
        print("loaded", flush=True)
    elif command == "close":
        while held:
            library = held.pop()
            if dlclose is not None:
                dlclose(library._handle)
        print("closed", flush=True)
