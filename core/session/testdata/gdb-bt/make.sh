#!/usr/bin/env bash
# Writes gdb's backtraces of the corpus's process cores that come with
# their executables: the oracle of TestBacktracesAgreeWithGDB. Run on
# Debian 12 with gdb-multiarch 13.1 (apt-get install gdb-multiarch zstd).
# Libraries are looked for only under the sysroot given (or nowhere), so
# that the host's own libraries never stand in for the dump's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=${CORPUS:-$here/../../../../../shared/corpus}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# get SRC: a path to the corpus file SRC, decompressed into $tmp if needed.
get() {
	local src=$corpus/$1 out=$tmp/$(basename "${1%.*}")
	case $1 in
	*.bz2) bzip2 -dc "$src" >"$out" ;;
	*.zst) zstd -qdc "$src" >"$out" ;;
	*) out=$src ;;
	esac
	echo "$out"
}

# bt NAME CORE EXE [SYSROOT]
bt() {
	local name=$1 core exe sysroot=${4:-/nonexistent}
	core=$(get "$2")
	exe=$(get "$3")
	gdb-multiarch -nx -batch -ex "set sysroot $sysroot" -ex "file $exe" -ex "core-file $core" \
		-ex 'thread apply all bt' 2>&1 | grep -E '^(#|Thread )' >"$here/$name.txt" || true
}

for a in linux-x86_64 linux-i386 linux-ppc64le linux-s390x linux-mips64el-gnuabi64 linux-mipsel-gnuabio32 altmain; do
	bt "lldb-$a" "lldb/elf-core/$a.core" "lldb/elf-core/$a.out"
done
for a in x86_64 i386 aarch64 ppc s390x; do
	bt "elfutils-backtrace.$a" "elfutils/backtrace.$a.core.bz2" "elfutils/backtrace.$a.exec.bz2"
done
bt elfutils-testfiledwarfinlines elfutils/testfiledwarfinlines.core.bz2 elfutils/testfiledwarfinlines.bz2

# drgn's cores name their files under /home/osandov: make that a sysroot.
mkdir -p "$tmp/sysroot/home/osandov"
for f in crashme crashme.so crashme_pie crashme_static crashme_static_pie; do
	cp "$(get "drgn/$f.zst")" "$tmp/sysroot/home/osandov/$f"
done
for c in crashme crashme_pie crashme_static crashme_static_pie; do
	bt "drgn-$c" "drgn/$c.core.zst" "drgn/$c.zst" "$tmp/sysroot"
done
# Dumped without the ELF headers of its mappings: no build ids.
bt drgn-crashme_pie_no_headers drgn/crashme_pie_no_headers.core.zst drgn/crashme_pie.zst "$tmp/sysroot"
# golang-debug's core names /tmp/test; testdata/ is its sysroot.
bt golang-debug-core golang-debug/testdata/core golang-debug/testdata/tmp/test "$corpus/golang-debug/testdata"
