#!/bin/sh
# msvc-oracle.sh regenerates the llvm-undname oracle files of the MSVC
# demangler tests (core/symbols/msvc):
#
#   testdata/names.txt         decorated names, one a line, sorted, unique
#   testdata/undname.txt       MANGLED<TAB>llvm-undname output
#   testdata/undname-name.txt  MANGLED<TAB>llvm-undname with every --no-* option
#
# An empty right-hand side means llvm-undname rejected the name.
#
# Usage: scripts/msvc-oracle.sh [-names] [CORPUS_DIR...]
#   -names  first rebuild names.txt from the public symbols of every PDB
#           under CORPUS_DIR (default /work/shared/corpus) and then merge
#           testdata/extra-names.txt (hand-picked cases) into it.
set -eu
cd "$(dirname "$0")/.."
dir=core/symbols/msvc/testdata
UNDNAME=${UNDNAME:-llvm-undname}

if [ "${1:-}" = "-names" ]; then
	shift
	[ $# -gt 0 ] || set -- /work/shared/corpus
	tmp=$(mktemp)
	go run ./core/symbols/msvc/gen_names.go "$@" >"$tmp"
	if [ -f "$dir/extra-names.txt" ]; then
		grep -v '^#' "$dir/extra-names.txt" | grep . >>"$tmp" || true
	fi
	LC_ALL=C sort -u "$tmp" >"$dir/names.txt"
	rm -f "$tmp"
fi

oracle() {
	while IFS= read -r n; do
		[ -n "$n" ] || continue
		out=$("$UNDNAME" "$@" -- "$n" 2>/dev/null | sed -n 2p) || out=
		printf '%s\t%s\n' "$n" "$out"
	done <"$dir/names.txt" | LC_ALL=C sort -u
}

oracle >"$dir/undname.txt"
oracle --no-access-specifier --no-calling-convention --no-return-type \
	--no-member-type --no-variable-type >"$dir/undname-name.txt"
wc -l "$dir/names.txt" "$dir/undname.txt" "$dir/undname-name.txt"
