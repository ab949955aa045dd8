#!/usr/bin/env bash
# fuzz.sh [FUZZTIME]: every fuzz target for FUZZTIME (default 5s), one go
# test run each (`make fuzz`). A failure stops it, and go test writes the
# input to the package's testdata/fuzz, where it becomes a regression test.
#
# One failure is not a finding: Go 1.26's fuzz coordinator can report
# "context deadline exceeded" as the -fuzztime deadline passes while a
# worker is mid-call, with no input written (golang/go#75804, fixed in Go
# 1.27). It hit 2 of the 39 targets in one CI run, so such a run is
# retried up to twice (a target losing three races in a row is about one
# in 8,000); a real crasher always writes its input, and fails.
set -uo pipefail
fuzztime=${1:-5s}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for pkg in $(go list ./...); do
	for t in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		for try in 1 2 3; do
			echo "== $pkg $t ($fuzztime)"
			go test -run '^$' -fuzz "^$t\$" -fuzztime "$fuzztime" -fuzzminimizetime 5s "$pkg" </dev/null >"$out" 2>&1
			rc=$?
			cat "$out"
			[ $rc -eq 0 ] && break
			if [ $try -lt 3 ] && grep -q 'context deadline exceeded' "$out" && ! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$out"; then
				echo "fuzz.sh: $t: the coordinator's deadline race (golang/go#75804), not a finding: again"
				continue
			fi
			exit 1
		done
	done
done
