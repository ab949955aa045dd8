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
source scripts/xvfb.sh # the working directory is the repository
start_xvfb 1600x1000x24
display=$xvfb_display
app=""
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; wait 2>/dev/null || true; }
private=$(mktemp -d) # every directory the app writes to, removed at exit
trap 'cleanup; rm -rf "$private"' EXIT
export DISPLAY=$display LANG=en_US.UTF-8 GSETTINGS_BACKEND=memory
XDG_RUNTIME_DIR=$private/runtime
# A private workspace index holding the corpus, so the buckets view and
# the summary's "seen before" line have something to show, and the
# user's own index is left alone.
XDG_DATA_HOME=$private/data
# Fresh settings too: no saved theme, recent files or last workspace.
XDG_CONFIG_HOME=$private/config
mkdir -m 700 "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
export XDG_RUNTIME_DIR XDG_DATA_HOME XDG_CONFIG_HOME
"$bin" index "$corpus" >/dev/null
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

# start DUMP...: runs the workbench on the dumps and waits for its window.
start() {
	[ -n "$app" ] && { kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; }
	"$bin" "$@" >/tmp/crashbench-screenshots.log 2>&1 &
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
# tab X: clicks the tab label centred at x (the 1440-wide window's tab bar;
# dumps without a kernel log have one tab fewer, so later tabs sit 89 px
# further left).
tab() { xdotool mousemove "$1" 50 click 1; sleep 2; }
# console CMD: types CMD into the console's entry and runs it.
console() { xdotool mousemove 800 835 click 1; sleep 0.3; xdotool type --delay 20 "$1"; xdotool key Return; sleep 3; }

start "$corpus/generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"
shot vmcore-summary
tab 419 # Console
console '!analyze -v'
shot vmcore-console-analyze
console 'bt'
shot vmcore-console-bt
tab 502 # Kernel log
shot vmcore-kernel-log
tab 591 # Processes
shot vmcore-processes
tab 751 # Modules
shot vmcore-modules
tab 847 # Memory map
shot vmcore-memory-map
tab 1004 # Disassembly
shot vmcore-disassembly

start testdata/sample/sample.dmp
shot minidump-summary
tab 419 # Console
console 'k'
shot minidump-console-k
tab 584 # Threads
shot minidump-threads
tab 662 # Modules
shot minidump-modules
tab 758 # Memory map
shot minidump-memory-map
tab 839 # Hex
shot minidump-hex

# Tools › Scan for Secrets… on a dump with fake secrets planted in its heap.
go run ./scripts/planted "$private/planted.dmp"
start "$private/planted.dmp"
main=$(xdotool search --onlyvisible --name '^Crashbench' | tail -1)
xdotool mousemove --window "$main" 75 13 click 1
sleep 1
xdotool mousemove --window "$main" 115 83 click 1
sleep 3
import -window "$(xdotool search --onlyvisible --name '^Secrets in' | tail -1)" "$out/secrets-scan.png"
echo "screenshots: $out/secrets-scan.png"

start "$corpus/breakpad/minidump2.dmp" "$corpus/breakpad/minidump_32bit_crash_addr.dmp" testdata/sample/sample.dmp
shot breakpad-summary-seen
tab 1006 # Buckets
shot buckets
# The Test app bucket (the sixth row): its details, with the merge field.
xdotool mousemove 600 528 click 1
sleep 2
shot buckets-selected
tab 338 # Summary, scrolled to the dump's bucket, tags and notes
xdotool mousemove 900 600
for _ in $(seq 15); do xdotool click 5; done
sleep 1
shot summary-annotations
tab 1006 # Buckets
tab 1086 # Compare: the last two dumps opened
sleep 3
shot compare

# The crash-dump set-up wizard (Tools › Set Up Crash Dumps…) on this
# machine: every step, clicking Next at the window's bottom-right corner.
main=$(xdotool search --onlyvisible --name '^Crashbench' | tail -1)
xdotool mousemove --window "$main" 75 13 click 1
sleep 1
xdotool mousemove --window "$main" 125 45 click 1
sleep 3
wizard=$(xdotool search --onlyvisible --name '^Set Up Crash Dumps' | tail -1)
wshot() { import -window "$wizard" "$out/$1.png"; echo "screenshots: $out/$1.png"; }
for step in 1-goal 2-dump-type 3-fit 4-changes 5-scripts 6-test 7-preflight; do
	wshot "wizard-$step"
	eval "$(xdotool getwindowgeometry --shell "$wizard")"
	xdotool mousemove --window "$wizard" $((WIDTH - 40)) $((HEIGHT - 22)) click 1
	sleep 2
done
