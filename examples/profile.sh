#!/bin/bash
# `make profile`: records the host's Python processes for PROFILE_SECONDS
# (default 10) into OUTPUT and prints the report of the top functions.
# On a quiet host that flame graph would be empty, so when no Python
# process is busy, examples/backtest.py runs alongside and this says so.
#
# usage: examples/profile.sh PYROGRAPH OUTPUT
set -euo pipefail
pyrograph=$1
output=$2
seconds=${PROFILE_SECONDS:-10}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)

# CPU ticks (user + system) of each Python process pyrograph sees.
python_ticks() {
	"$pyrograph" ps 2>/dev/null | awk 'NR > 1 { print $1 }' | while read -r pid; do
		# The command name may hold spaces and parentheses: fields count from the last ')'.
		stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		set -- ${stat##*) }
		echo "$pid $((${12} + ${13}))"
	done
}

# Busy: a Python process used at least a tenth of a CPU over one second.
busy_python() {
	local before after ticks
	ticks=$(getconf CLK_TCK)
	before=$(python_ticks)
	sleep 1
	after=$(python_ticks)
	join <(sort <<<"$before") <(sort <<<"$after") | awk -v min=$((ticks / 10)) '$3 - $2 >= min { found = 1 } END { exit !found }'
}

example=
if ! busy_python; then
	echo "make profile: no Python process is busy on this host; running examples/backtest.py alongside" \
		"(see README, \"A first profile\")" >&2
	"$python" "$here/backtest.py" $((${seconds%.*} + 5)) >/dev/null &
	example=$!
	trap 'kill "$example" 2>/dev/null || true' EXIT
	sleep 0.5
fi
"$pyrograph" record -d "$seconds" -o "$output" --report
