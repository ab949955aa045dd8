#!/usr/bin/env bash
# Times `crashbench run VMCORE -c log` against
# `makedumpfile --dump-dmesg VMCORE OUT` on the same vmcore, and prints the
# median of each and their ratio (the goal: crashbench takes at most as
# long as makedumpfile). It times both builds of crashbench: the workbench
# binary (bin/crashbench, which links Fyne, GL and GTK, whose shared
# libraries cost ~10 ms to load before main runs) and the headless one
# (go build -tags headless: the CLI alone).
#
# usage: scripts/bench-vs-makedumpfile.sh [-n RUNS] [VMCORE]
# Default: ../shared/corpus's panic-96M kdump-compressed (zlib) vmcore.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=20
if [ "${1:-}" = "-n" ]; then runs=$2; shift 2; fi
vmcore=${1:-../shared/corpus/generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump}
[ -f "$vmcore" ] || { echo "bench-vs-makedumpfile: $vmcore not found (is ../shared/corpus there?)" >&2; exit 1; }
command -v makedumpfile >/dev/null || { echo "bench-vs-makedumpfile: makedumpfile is not installed (apt-get install makedumpfile)" >&2; exit 1; }
[ -x bin/crashbench ] || make build >/dev/null
go build -tags headless -o bin/crashbench-headless .
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# median_us CMD...: runs CMD $runs times (after one warm-up run that fills
# the page cache) and prints the median wall time in microseconds.
median_us() {
	"$@" >/dev/null 2>&1 || true
	local times=() i start end
	for ((i = 0; i < runs; i++)); do
		rm -f "$out/dmesg"
		start=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		end=$(date +%s%N)
		times+=($(((end - start) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

cb=(bin/crashbench run "$vmcore" -c log)
hl=(bin/crashbench-headless run "$vmcore" -c log)
md=(makedumpfile --dump-dmesg "$vmcore" "$out/dmesg")
c=$(median_us "${cb[@]}")
h=$(median_us "${hl[@]}")
m=$(median_us "${md[@]}")
# The two must print the same log (crashbench's first line is its prompt).
"${cb[@]}" | tail -n +2 >"$out/cb"
rm -f "$out/dmesg" # makedumpfile will not overwrite it
"${md[@]}" >/dev/null 2>&1 || true
if cmp -s "$out/cb" "$out/dmesg"; then same="identical"; else same="DIFFERENT"; fi
echo "vmcore:        $vmcore"
awk -v c="$c" -v h="$h" -v m="$m" -v s="$same" -v r="$runs" 'BEGIN {
	printf "crashbench:           %.1f ms  (run VMCORE -c log; median of %d)\n", c / 1000, r
	printf "crashbench headless:  %.1f ms\n", h / 1000
	printf "makedumpfile:         %.1f ms  (--dump-dmesg; median of %d)\n", m / 1000, r
	printf "logs:                 %s\n", s
	if (m > 0) printf "ratio:                %.2f (workbench binary), %.2f (headless) of makedumpfile'"'"'s time (goal <= 1.0)\n", c / m, h / m
}'
