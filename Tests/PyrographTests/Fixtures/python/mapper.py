# -*- coding: utf-8 -*-
"""Maps a file when told to, for the mapping-event tests.

usage: python mapper.py FILE
Prints "ready", then for each line "read N" or "exec N" on stdin maps FILE
N times, readable or readable and executable, and prints "done". Readable
mappings are unmapped at once; executable ones stay until exit, so each is
exactly one change to the process's code.
"""
from __future__ import print_function

import mmap
import sys


def main():
    kept = []
    print("ready")
    sys.stdout.flush()
    for line in iter(sys.stdin.readline, ""):
        kind, count = line.split()
        prot = mmap.PROT_READ | (mmap.PROT_EXEC if kind == "exec" else 0)
        with open(sys.argv[1], "rb") as mapped:
            for _ in range(int(count)):
                mapping = mmap.mmap(mapped.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=prot)
                if kind == "exec":
                    kept.append(mapping)
                else:
                    mapping.close()
        print("done")
        sys.stdout.flush()


main()
