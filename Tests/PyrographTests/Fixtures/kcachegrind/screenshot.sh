#!/bin/sh
# Opens FILE in KCacheGrind on a fresh Xvfb display and takes a screenshot
# of the whole screen once its window shows FILE's name.
# usage: screenshot.sh FILE OUTDIR
#   OUTDIR/screen.ppm   the screenshot (binary PPM)
#   OUTDIR/windows.txt  the window tree (xwininfo), with the window's title
#   OUTDIR/kcachegrind.log  what KCacheGrind printed (its parser's warnings)
# Run under: xvfb-run -a -s "-screen 0 1280x900x24" dbus-run-session -- screenshot.sh FILE OUTDIR
# (KCacheGrind exits at once without a D-Bus session bus.)
set -eu
file=$1
out=$2
# A home of its own: no "tip of the day" over the window, no user settings.
export HOME="$out/home" XDG_CONFIG_HOME="$out/home/.config" XDG_RUNTIME_DIR="$out/home/run"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
printf '[TipOfDay]\nRunOnStart=false\n' > "$XDG_CONFIG_HOME/kcachegrindrc"

kcachegrind -geometry 1280x900+0+0 "$file" > "$out/kcachegrind.log" 2>&1 &
viewer=$!
name=$(basename "$file")
tries=0
until xwininfo -root -tree 2>/dev/null | grep -qF "$name"; do
	tries=$((tries + 1))
	if [ $tries -gt 240 ] || ! kill -0 $viewer 2>/dev/null; then
		echo "KCacheGrind showed no window for $name" >&2
		kill $viewer 2>/dev/null || true
		exit 1
	fi
	sleep 0.25
done
# The window exists before its views are drawn.
sleep 2
xwininfo -root -tree > "$out/windows.txt"
import -window root -depth 8 "$out/screen.ppm"
kill $viewer
