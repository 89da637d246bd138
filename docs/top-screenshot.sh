#!/bin/bash
# Makes docs/top.png: `pyrograph top` in a real 80x24 xterm under Xvfb,
# on Tests/PyrographTests/Fixtures/python/top_workload.py (a hot process
# and a warm one whose function name carries an escape sequence).
# Needs root and Debian's xvfb, xterm, x11-apps (xwd) and imagemagick;
# not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${PYROGRAPH_BIN:-$PWD/.build/release/pyrograph}
python=${PYTHON:-/root/.pyenv/versions/3.12.1/bin/python}
script=Tests/PyrographTests/Fixtures/python/top_workload.py
display=:${DISPLAY_NUMBER:-77}
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

Xvfb "$display" -screen 0 1024x768x24 -nolisten tcp & pids+=($!)
"$python" -B "$script" hot > /dev/null & pids+=($!); hot=$!
"$python" -B "$script" warm > /dev/null & pids+=($!); warm=$!
sleep 1
DISPLAY=$display xterm -title pyrograph-top -geometry 80x24+0+0 -fa Monospace -fs 11 \
	-bg '#1e1e1e' -fg '#d4d4d4' -e "$binary" top -p "$hot" -p "$warm" & pids+=($!)
sleep "${SECONDS_BEFORE_SHOT:-6}"
xwd -display "$display" -name pyrograph-top -out "$work/top.xwd"
convert "xwd:$work/top.xwd" docs/top.png
echo "wrote docs/top.png"
