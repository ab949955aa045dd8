#!/usr/bin/env bash
# screenshots.sh: runs the real workbench under a private Xvfb on corpus
# dumps, clicks through its tabs and types console commands with xdotool,
# and writes PNGs to docs/screenshots/. Look at every one.
#
# usage: scripts/screenshots.sh [BINARY]   (default bin/crashbench)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/crashbench}
out=docs/screenshots
corpus=../shared/corpus
mkdir -p "$out"
display=":$((90 + RANDOM % 100))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb=$!
app=""
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
export DISPLAY=$display LANG=en_US.UTF-8 GSETTINGS_BACKEND=memory
XDG_RUNTIME_DIR=$(mktemp -d)
export XDG_RUNTIME_DIR
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

# start DUMP: runs the workbench on DUMP and waits for its window.
start() {
	[ -n "$app" ] && { kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; }
	"$bin" "$1" >/tmp/crashbench-screenshots.log 2>&1 &
	app=$!
	for _ in $(seq 600); do
		xdotool search --name '^Crashbench' >/dev/null 2>&1 && { sleep 3; return; }
		sleep 0.1
	done
	echo "screenshots: no window for $1" >&2
	exit 1
}
# shot NAME: captures the workbench window alone (not the empty screen).
shot() {
	import -window "$(xdotool search --onlyvisible --name '^Crashbench' | tail -1)" "$out/$1.png"
	echo "screenshots: $out/$1.png"
}
# tab NAME: clicks the tab whose label is NAME (the tab bar's labels, in
# order, at the positions the 1200-wide window gives them).
tab() { xdotool mousemove "$1" 48 click 1; sleep 1.5; }
# console CMD: types CMD into the console's entry and runs it.
console() { xdotool mousemove 700 738 click 1; sleep 0.3; xdotool type --delay 20 "$1"; xdotool key Return; sleep 3; }

start "$corpus/generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"
shot vmcore-summary
tab 430 # Console
console '!analyze -v'
shot vmcore-console-analyze
console 'bt'
shot vmcore-console-bt
tab 513 # Kernel log
shot vmcore-kernel-log
tab 598 # Modules
shot vmcore-modules

start testdata/sample/sample.dmp
shot minidump-summary
tab 430 # Console
console 'k'
shot minidump-console-k
tab 513 # Modules
shot minidump-modules
tab 590 # Threads
shot minidump-threads
