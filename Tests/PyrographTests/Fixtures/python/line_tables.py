"""Dumps real line tables and the interpreter's own instruction-to-line map.

Runs unchanged on 2.7 and 3.6 to 3.13: it compiles sources built as strings,
so the version-specific ones (f-strings, async, match) never reach an older
parser. For every code object it prints the raw table, co_firstlineno and
the line of every instruction position, in the unit the BPF walker reports:
- "lnotab" (2.7 to 3.9): byte offsets, from dis.findlinestarts;
- "linetable310" (3.10): code units, from co_lines() byte ranges;
- "locationTable" (3.11+): code units, from co_positions().
"""
import binascii
import dis
import json
import sys

VERSION = sys.version_info[:2]


def blank(count):
    return "\n" * count


def long_line(count):
    """One statement whose bytecode exceeds 255 bytes and whose columns pass 127."""
    return "    total = [" + ", ".join(["value"] * count) + "]\n"


SOURCES = [
    ("straight", "def straight(a, b):\n    c = a + b\n    d = c * 2\n    return d\n"),
    ("line_gap_200", "def line_gap_200(x):\n    y = x + 1\n" + blank(200) + "    return y\n"),
    ("line_gap_700", "def line_gap_700(x):\n    y = x + 1\n" + blank(700) + "    z = y * 2\n"
     + blank(130) + "    return z\n"),
    ("long_code", "def long_code(value):\n" + long_line(300) + "    other = 1\n" + long_line(90) + "    return total\n"),
    ("loops", "def loops(items):\n    total = 0\n    for item in items:\n        if item:\n"
     "            total += item\n        else:\n            total -= 1\n    while total > 10:\n"
     "        total //= 2\n    return total\n"),
    ("long_loop", "def long_loop(items):\n    total = 0\n    for item in items:\n        total += item\n"
     + blank(300) + "        total -= 1\n    return total\n"),
    ("long_while", "def long_while(n):\n    while n > 0:\n        n -= 1\n" + blank(150)
     + "        n -= 2\n    return n\n"),
    ("multi_line_expr", "def multi_line_expr(a, b):\n    result = call(\n        a,\n\n        b,\n"
     + blank(140) + "        a + b)\n    return result\n"),
    ("backward_call", "def backward_call(f, a):\n    return f(a,\n" + blank(200) + "             a)(\n"
     "                 a)\n"),
    ("exceptions", "def exceptions(f):\n    try:\n        f()\n    except ValueError as error:\n"
     "        f(error)\n    except Exception:\n        pass\n    finally:\n        f()\n"
     "    with f() as g:\n        g()\n    return f\n"),
    ("nested", "def outer(x):\n    def inner(y):\n        return [z * 2 for z in y if z]\n"
     "    gen = (i for i in x)\n    fn = lambda q: q + 1\n    class Local(object):\n"
     "        attr = 1\n        def method(self):\n            yield self.attr\n"
     "    return inner(x), gen, fn, Local\n"),
    ("module_level", "import os\n" + blank(300) + "X = 1\nfor i in range(3):\n    X += i\n"),
]

if VERSION >= (3, 6):
    SOURCES += [
        ("asyncs", "async def asyncs(f):\n    async with f() as g:\n        await g\n"
         "    async for h in f():\n        await h\n    return f'{f!r:>10}'\n"),
    ]
if VERSION >= (3, 10):
    SOURCES += [
        ("matching", "def matching(v):\n    match v:\n        case [x, y]:\n            return x\n"
         "        case {'k': k}:\n            return k\n        case _:\n            return None\n"),
    ]
if VERSION >= (3, 11):
    SOURCES += [
        ("groups", "def groups(f):\n    try:\n        f()\n    except* ValueError:\n        pass\n"),
    ]


def code_objects(code):
    yield code
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            for nested in code_objects(const):
                yield nested


def hexlify(data):
    return binascii.hexlify(data).decode("ascii")


def lnotab_lines(code):
    """Line of every byte offset; an offset between two starts keeps the first's line."""
    starts = dict(dis.findlinestarts(code))
    lines = []
    current = None
    for offset in range(len(code.co_code)):
        if offset in starts:
            current = starts[offset]
        lines.append(current)
    return lines


def linetable310_lines(code):
    """Line of every code unit; co_lines() gives byte ranges."""
    lines = [None] * (len(code.co_code) // 2)
    for start, end, line in code.co_lines():
        for offset in range(start, end, 2):
            lines[offset // 2] = line
    return lines


def location_table_lines(code):
    """Line of every code unit, one co_positions() tuple each."""
    return [position[0] for position in code.co_positions()]


def location_entry_codes(table):
    """The entry codes present in a 3.11+ table, to prove the fixture covers them."""
    codes = set()
    cursor = 0
    while cursor < len(table):
        header = bytearray(table[cursor:cursor + 1])[0]
        cursor += 1
        code = (header >> 3) & 15
        codes.add(code)
        varints = {13: 1, 14: 4}.get(code, 0)
        if code < 10:
            cursor += 1
        elif code < 13:
            cursor += 2
        for _ in range(varints):
            while bytearray(table[cursor:cursor + 1])[0] & 64:
                cursor += 1
            cursor += 1
    return sorted(codes)


def describe(code):
    if VERSION >= (3, 11):
        table, form, lines = code.co_linetable, "locationTable", location_table_lines(code)
    elif VERSION >= (3, 10):
        table, form, lines = code.co_linetable, "linetable310", linetable310_lines(code)
    else:
        table, form, lines = code.co_lnotab, "lnotab", lnotab_lines(code)
    entry = {
        "name": code.co_name,
        "firstLine": code.co_firstlineno,
        "format": form,
        "table": hexlify(table),
        "lines": lines,
    }
    if form == "locationTable":
        entry["entryCodes"] = location_entry_codes(table)
    return entry


def main():
    objects = []
    for name, source in SOURCES:
        module = compile(source, "<%s>" % name, "exec")
        for code in code_objects(module):
            objects.append(describe(code))
    version = "%d.%d.%d" % sys.version_info[:3]
    json.dump({"version": version, "codeObjects": objects}, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


main()
