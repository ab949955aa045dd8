#!/usr/bin/env bash
# Times `crashbench run CORE -c "~*k"` against
# `gdb -batch -ex "thread apply all bt"` on the same core and executable,
# and prints the median of each and their ratio (the goal: crashbench
# takes at most 0.2 of gdb's time).
#
# usage: scripts/bench-vs-gdb.sh [-n RUNS] [CORE EXECUTABLE [SYSROOT]]
# Default: the generated crashc core of ../shared/corpus, whose libraries
# are this machine's own (Debian 12), so both tools read libc's debug file.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=10
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
corpus=../shared/corpus/generated/linux-core
core=${1:-$corpus/core.crashc.sigsegv}
exe=${2:-$corpus/crashc}
sysroot=${3:-}
for f in "$core" "$exe"; do
	[ -f "$f" ] || { echo "bench-vs-gdb: $f not found (is ../shared/corpus there?)" >&2; exit 1; }
done
command -v gdb >/dev/null || { echo "bench-vs-gdb: gdb is not installed (apt-get install gdb)" >&2; exit 1; }
[ -x bin/crashbench ] || make build >/dev/null

cb=(bin/crashbench run "$core" -c '~*k')
gdbcmd=(gdb -nx -batch -ex "file $exe" -ex "core-file $core" -ex 'thread apply all bt')
if [ -n "$sysroot" ]; then
	cb=(bin/crashbench run --sysroot "$sysroot" "$core" -c '~*k')
	gdbcmd=(gdb -nx -batch -ex "set sysroot $sysroot" -ex "file $exe" -ex "core-file $core" -ex 'thread apply all bt')
fi

# median_ms CMD...: runs CMD $runs times (after one warm-up run that fills
# the page cache) and prints the median wall time in milliseconds.
median_ms() {
	"$@" >/dev/null 2>&1 || true
	local times=() i start end
	for ((i = 0; i < runs; i++)); do
		start=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		end=$(date +%s%N)
		times+=($(((end - start) / 1000000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

c=$(median_ms "${cb[@]}")
g=$(median_ms "${gdbcmd[@]}")
echo "core:        $core"
echo "crashbench:  ${c} ms  (${cb[*]})"
echo "gdb:         ${g} ms  (${gdbcmd[*]})"
awk -v c="$c" -v g="$g" 'BEGIN { if (g > 0) printf "ratio:       %.3f of gdb'"'"'s time (goal <= 0.2)\n", c / g }'
