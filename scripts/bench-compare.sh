#!/usr/bin/env bash
# bench-compare.sh: times crashbench and the tool it replaces side by side,
# alternating them run by run on the same input (so both see the same page
# cache and the same machine load), and writes docs/PERFORMANCE.md: the
# medians, their ratio against the issue's goal, the machine, the inputs
# and the exact commands.
#
# usage: scripts/bench-compare.sh [-n RUNS]      (make bench-compare)
# Needs ../shared/corpus, gdb, makedumpfile, grep, Xvfb and xdotool (setup.sh
# installs them); Breakpad's minidump_stackwalk is unpacked from the npm
# package `minidump` into bin/peers/ (no install script runs).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=10
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
corpus=../shared/corpus
[ -d "$corpus" ] || { echo "bench-compare: $corpus is missing" >&2; exit 1; }
for t in gdb makedumpfile grep Xvfb xdotool; do
	command -v "$t" >/dev/null || { echo "bench-compare: $t is not installed (scripts/setup.sh installs it)" >&2; exit 1; }
done
make build >/dev/null
cb=bin/crashbench            # the command-line build (-tags headless)
cbw=bin/crashbench-workbench # the GUI build, which runs the commands too

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "bench-compare: writing the inputs" >&2
go run ./scripts/benchdata -fullmem 1024 -small 1000 "$work/data"

# Breakpad's minidump_stackwalk, prebuilt in the npm package (toolchain.md).
stackwalk=bin/peers/minidump-0.26.0/bin/linux-x64/minidump_stackwalk
if [ ! -x "$stackwalk" ]; then
	mkdir -p bin/peers/minidump-0.26.0
	(cd bin/peers && npm pack --silent minidump@0.26.0 >/dev/null && tar xzf minidump-0.26.0.tgz -C minidump-0.26.0 --strip-components=1 package/bin/linux-x64)
fi

# now_ns prints the wall clock in nanoseconds.
now_ns() { date +%s%N; }

# median FILE: the median of the numbers in FILE, one per line.
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# pair NAME: times "a" and "b" (shell functions set by the caller) $runs
# times each, alternating, after one warm-up run of each; the medians in
# milliseconds land in $work/NAME.a and $work/NAME.b.
pair() {
	local name=$1 i s
	a >/dev/null 2>&1 || true
	b >/dev/null 2>&1 || true
	: >"$work/$name.ta"
	: >"$work/$name.tb"
	for ((i = 0; i < runs; i++)); do
		s=$(now_ns); a >"$work/out" 2>&1 || true; echo $(( ($(now_ns) - s) / 1000 )) >>"$work/$name.ta"
		s=$(now_ns); b >"$work/out" 2>&1 || true; echo $(( ($(now_ns) - s) / 1000 )) >>"$work/$name.tb"
	done
	awk '{printf "%.1f\n", $1/1000}' <<<"$(median "$work/$name.ta")" >"$work/$name.a"
	awk '{printf "%.1f\n", $1/1000}' <<<"$(median "$work/$name.tb")" >"$work/$name.b"
	echo "bench-compare: $name: $(cat "$work/$name.a") ms vs $(cat "$work/$name.b") ms" >&2
}
ms() { cat "$work/$1.$2"; }
ratio() { awk -v a="$(ms "$1" a)" -v b="$(ms "$1" b)" 'BEGIN {printf "%.2f", a/b}'; }
# rss CMD...: peak resident set of one run, in MiB.
rss() { /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1 || true; awk '{printf "%.0f", $1/1024}' "$work/rss"; }

rows=()
# row COMPARISON INPUT NAME GOAL-RATIO: a table row from pair NAME, its goal
# being crashbench's time at most GOAL-RATIO times the peer's.
row() {
	local r met
	r=$(ratio "$3")
	met=$(awk -v r="$r" -v g="$4" 'BEGIN {print (r <= g ? "yes" : "no")}')
	rows+=("| $1 | $2 | $(ms "$3" a) | $(ms "$3" b) | ${r}× | ≤ ${4}× | $met |")
}

# 1. ELF process core: every thread's stack.
core=$corpus/generated/linux-core/core.crashc.sigsegv
exe=$corpus/generated/linux-core/crashc
a() { $cb run "$core" -c '~*k'; }
b() { gdb -nx -batch -ex "file $exe" -ex "core-file $core" -ex 'thread apply all bt'; }
pair core
row 'ELF core: `run CORE -c "~*k"` vs `gdb -batch -ex "thread apply all bt"`' "corpus generated/linux-core/core.crashc.sigsegv (26 MB)" core 0.2

# 2. Linux vmcore: the kernel log.
vmcore=$corpus/generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump
a() { $cb run "$vmcore" -c log; }
b() { rm -f "$work/dmesg"; makedumpfile --dump-dmesg "$vmcore" "$work/dmesg"; }
pair vmcore
row 'vmcore: `run VMCORE -c log` vs `makedumpfile --dump-dmesg`' "corpus generated/linux-vmcore/panic-96M (kdump, zlib, 15 MB)" vmcore 1.0

# 3. Minidump: the analysis with Breakpad symbols.
md=$corpus/breakpad/minidump2.dmp
syms=$corpus/breakpad/symbols
a() { $cb analyze --offline --sympath "$syms" "$md"; }
b() { "$stackwalk" "$md" "$syms"; }
pair minidump
row 'minidump: `analyze --sympath SYMS` vs `minidump_stackwalk DUMP SYMS`' "corpus breakpad/minidump2.dmp + symbols" minidump 1.0

# 4. Memory search over a page-cached 1 GiB full-memory dump.
full=$work/data/fullmem.dmp
needle=CRASHBENCH-NEEDLE-7f3a
a() { $cb run "$full" -c "s -a 0 L?0xffffffffffffffff \"$needle\""; }
b() { grep -c "$needle" "$full"; }
pair search
size_mb=$(($(stat -c %s "$full") / 1000000))
gbs() { awk -v mb="$size_mb" -v t="$(ms search "$1")" 'BEGIN {printf "%.2f", mb/t}'; }
search_met=$(awk -v a="$(gbs a)" -v b="$(gbs b)" 'BEGIN {print (a >= 1 && a >= b ? "yes" : "no")}')
rows+=("| memory search: \`s -a 0 L?… \"NEEDLE\"\` vs \`grep -c NEEDLE\` | 1 GiB full-memory minidump of text (scripts/benchdata) | $(ms search a) ($(gbs a) GB/s) | $(ms search b) ($(gbs b) GB/s) | $(ratio search)× | ≥ 1 GB/s and ≥ grep | $search_met |")

# 5. Ingest: small minidumps per second, and a re-index of unchanged files.
small=$work/data/small
n=$(find "$small" -type f | wc -l)
: >"$work/ingest.t"
: >"$work/reindex.t"
for ((i = 0; i < 3; i++)); do
	rm -f "$work/ws.db"*
	s=$(now_ns); $cb index --db "$work/ws.db" "$small" >/dev/null 2>&1; echo $(( ($(now_ns) - s) / 1000 )) >>"$work/ingest.t"
	s=$(now_ns); $cb index --db "$work/ws.db" "$small" >/dev/null 2>&1; echo $(( ($(now_ns) - s) / 1000 )) >>"$work/reindex.t"
done
ingest_ms=$(awk '{printf "%.0f", $1/1000}' <<<"$(median "$work/ingest.t")")
reindex_ms=$(awk '{printf "%.0f", $1/1000}' <<<"$(median "$work/reindex.t")")
rate=$(awk -v n="$n" -v t="$ingest_ms" 'BEGIN {printf "%.0f", n/(t/1000)}')
rows+=("| ingest: \`index --db DB DIR\` | $n small minidumps (scripts/benchdata), 2 cores | $ingest_ms ms = $rate dumps/s | — | — | ≥ 200 dumps/s | $(awk -v r="$rate" 'BEGIN {print (r >= 200 ? "yes" : "no")}') |")
rows+=("| re-index of the unchanged folder | same | $reindex_ms ms | — | — | < 1 s | $(awk -v t="$reindex_ms" 'BEGIN {print (t < 1000 ? "yes" : "no")}') |")

# 6. The workbench: from `crashbench FILE` to the summary on screen.
source scripts/xvfb.sh # the working directory is the repository
start_xvfb 1600x1000x24
display=$xvfb_display
trap 'kill $xvfb 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do DISPLAY=$display xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
: >"$work/gui.t"
for ((i = 0; i < 5; i++)); do
	priv=$(mktemp -d -p "$work")
	mkdir -m 700 "$priv/run" "$priv/data" "$priv/config"
	rm -f "$work/started"
	s=$(now_ns)
	DISPLAY=$display XDG_RUNTIME_DIR=$priv/run XDG_DATA_HOME=$priv/data XDG_CONFIG_HOME=$priv/config \
		CRASHBENCH_STARTUP_REPORT=$work/started $cb testdata/sample/sample.dmp >/dev/null 2>&1 &
	app=$!
	for _ in $(seq 300); do [ -s "$work/started" ] && break; sleep 0.02; done
	[ -s "$work/started" ] && echo $(( ($(cat "$work/started") - s) / 1000 )) >>"$work/gui.t"
	kill $app 2>/dev/null; wait $app 2>/dev/null || true
done
gui_ms=$(awk '{printf "%.0f", $1/1000}' <<<"$(median "$work/gui.t")")
rows+=("| workbench: \`crashbench FILE\` to the summary shown | testdata/sample/sample.dmp, Xvfb | $gui_ms ms | — | — | < 1 s | $(awk -v t="$gui_ms" 'BEGIN {print (t < 1000 ? "yes" : "no")}') |")

# Start-up alone: `version` does nothing else.
a() { $cb version; }
b() { $cbw version; }
pair startup

# 7. Open cost of big sparse kernel dumps (scripts/open-cost.sh).
opencost=""
if [ -f scripts/open-cost.sh ]; then
	opencost=$(bash scripts/open-cost.sh "$cb" 2>/dev/null || true)
fi

cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
{
	echo "# Performance"
	echo
	echo "Measured by \`scripts/bench-compare.sh -n $runs\` (\`make bench-compare\`) on $(date -u +%Y-%m-%d):"
	echo "$(nproc) cores ($cpu), $mem, $(uname -sr), $(go version | awk '{print $3}')."
	echo "Each pair runs alternately, $runs times after a warm-up run each (inputs page-cached); times are median wall-clock milliseconds."
	echo "\`bin/crashbench\` is the command-line build (\`-tags headless\`: no Fyne, GL or GTK to load at start); asked for the window it execs \`bin/crashbench-workbench\`, the GUI build, in place, which is what the workbench row measures."
	echo
	echo "| comparison | input | crashbench (ms) | peer (ms) | ratio | goal | met |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	printf '%s\n' "${rows[@]}"
	echo
	echo "Start-up: \`crashbench version\`, which does nothing else, takes $(ms startup a) ms with \`bin/crashbench\` and $(ms startup b) ms with \`bin/crashbench-workbench\` (which loads libGL and X11, linked by Fyne's GLFW driver, and initialises Fyne): why commands run from the command-line build. Peak RSS of the search is the dump's pages mapped from the page cache (the dump is read through mmap), not heap."
	echo
	echo "Peak RSS (MiB) of one run of each crashbench command above: ELF core $(rss $cb run "$core" -c '~*k'), vmcore log $(rss $cb run "$vmcore" -c log), minidump analyze $(rss $cb analyze --offline --sympath "$syms" "$md"), memory search $(rss $cb run "$full" -c "s -a 0 L?0xffffffffffffffff \"$needle\"")."
	echo
	if [ -n "$opencost" ]; then
		echo "## Opening big sparse kernel dumps"
		echo
		echo "\`scripts/open-cost.sh bin/crashbench\`: \`crashbench info FILE\` on sparse files written by \`scripts/sparsedumps\`; goal < 100 ms and < 100 MiB, flat as the size grows."
		echo
		echo "$opencost"
		echo
	fi
	echo "## Commands"
	echo
	echo '```'
	echo "crashbench run $core -c '~*k'"
	echo "gdb -nx -batch -ex 'file $exe' -ex 'core-file $core' -ex 'thread apply all bt'"
	echo "crashbench run $vmcore -c log"
	echo "makedumpfile --dump-dmesg $vmcore OUT"
	echo "crashbench analyze --offline --sympath $syms $md"
	echo "minidump_stackwalk $md $syms      # npm pack minidump@0.26.0, bin/linux-x64"
	echo "crashbench run fullmem.dmp -c 's -a 0 L?0xffffffffffffffff \"$needle\"'"
	echo "grep -c $needle fullmem.dmp"
	echo "crashbench index --db DB small/    # twice: ingest, then re-index"
	echo "CRASHBENCH_STARTUP_REPORT=F crashbench testdata/sample/sample.dmp"
	echo '```'
} >docs/PERFORMANCE.md
echo "bench-compare: wrote docs/PERFORMANCE.md" >&2
