#!/usr/bin/env bash
# open-cost.sh: the open cost of big kernel dumps (issue 11): time and peak
# RSS of `crashbench info FILE` on sparse 1, 16 and 64 GiB dumps of each
# kernel format. Goal: < 100 ms and < 100 MiB, flat as the size grows.
#
#   scripts/open-cost.sh [BINARY [RUNS]]
#
# BINARY defaults to bin/crashbench (`make build`); a headless build
# (go build -tags 'sqlite_fts5 headless') leaves out GTK's start-up, which
# is not parsing. RUNS (default 5) runs per file, after one warm-up run;
# the table gives the median wall time and the highest peak RSS
# (/usr/bin/time's %M). Wall time is measured around /usr/bin/time, so it
# includes about a millisecond of its fork and exec.
#
# SIZES (default "1,16,64", GiB) and FORMATS (default all) in the
# environment pick the files; the dumps are written by
# `go run ./scripts/sparsedumps` into a temporary folder removed at exit.
# The files are sparse, except the kdump-compressed one, which holds a
# 24-byte page descriptor per page (384 MiB for 64 GiB). lime-novmcoreinfo
# is the worst case of LiME: no VMCOREINFO page, so the session's scan for
# it reads every page (seconds and GiB of mapped page cache at 64 GiB).
set -euo pipefail

cd "$(dirname "$0")/.."
bin=${1:-bin/crashbench}
runs=${2:-5}
sizes=${SIZES:-1,16,64}
formats=${FORMATS:-}

if [[ ! -x $bin ]]; then
	echo "open-cost: $bin is not an executable (run make build, or pass one)" >&2
	exit 1
fi
if [[ ! -x /usr/bin/time ]]; then
	echo "open-cost: needs GNU time at /usr/bin/time (apt-get install time)" >&2
	exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/open-cost.XXXXXX")
trap 'rm -rf "$dir"' EXIT

go run ./scripts/sparsedumps -sizes "$sizes" ${formats:+-formats "$formats"} "$dir/dumps" >"$dir/list"

# median prints the middle value of its arguments (the lower middle for an
# even count).
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }

echo "binary: $bin; $runs runs per file after a warm-up; $(nproc) cores; $(uname -sr)"
echo
echo "| format | size | median ms | peak RSS MiB |"
echo "| --- | --- | ---: | ---: |"
while IFS=$'\t' read -r format size path; do
	"$bin" info "$path" >/dev/null 2>"$dir/err" || {
		echo "| $format | $size GiB | failed: $(head -1 "$dir/err") | |"
		continue
	}
	ms=() rss=0
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		/usr/bin/time -f '%e %M' -o "$dir/time" "$bin" info "$path" >/dev/null
		t1=$(date +%s%N)
		ms+=("$(( (t1 - t0) / 1000000 ))")
		read -r _ kib <"$dir/time"
		(( kib > rss )) && rss=$kib
	done
	printf '| %s | %s GiB | %s | %s |\n' "$format" "$size" "$(median "${ms[@]}")" "$(( (rss + 1023) / 1024 ))"
done <"$dir/list"
