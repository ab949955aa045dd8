#!/usr/bin/env bash
# Writes gdb's view of the floating-point, vector and architecture
# registers of corpus process cores: the oracle of TestFPRegsAgreeWithGDB
# (core/elfcore/fpregs_oracle_test.go). Run on Debian 12 with gdb 13.1 and
# gdb-multiarch (apt-get install gdb gdb-multiarch bzip2).
#
# To keep the files small, each vector register's union is cut down to its
# integer lanes (the test compares those): "{v8_bfloat16 = ..., v2_int64 =
# {...}, uint128 = 0x...}" becomes "{... v2_int64 = {...}, uint128 =
# 0x...}", arm64's "{d = ..., q = {u = ...}}" becomes "{... q = {u =
# ...}}", and arm64's q/d/s/h/b registers, views of v0..v31 that repeat
# their bytes, are left out.
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
	*) out=$src ;;
	esac
	echo "$out"
}

trim() {
	sed -E -e 's/\{v[0-9]+_bfloat16 = .*, (v[0-9]+_int64 = )/{... \1/' \
		-e 's/\{d = \{f = .*(q = \{u = )/{... \1/' |
		grep -Ev '^[qdshb][0-9]+ '
}

# regs NAME GDB CORE COMMAND...: gdb's output for CORE after the commands.
regs() {
	local name=$1 gdb=$2 core
	core=$(get "$3")
	shift 3
	local args=()
	for c in "$@"; do args+=(-ex "$c"); done
	"$gdb" -nx -batch -ex "set sysroot /nonexistent" -ex "core-file $core" "${args[@]}" 2>&1 |
		grep -Ev '^(warning: |\[New LWP|Core was generated|Program terminated|#0 |\[Current thread)' | trim >"$here/$name.txt"
}

xmm16=$(echo xmm{0..15})
ymm16=$(echo ymm{0..15})
regs lldb-linux-fpr_sse_x86_64 gdb lldb/elf-core/linux-fpr_sse_x86_64.core 'info all-registers' "info registers $xmm16"
regs lldb-linux-fpr_sse_i386 gdb lldb/elf-core/linux-fpr_sse_i386.core 'info all-registers' "info registers $(echo xmm{0..7})"
regs lldb-linux-x86_64 gdb lldb/elf-core/linux-x86_64.core 'info all-registers' "info registers $xmm16"
# crashc's NT_X86_XSTATE follows NT_X86_XSAVE_LAYOUT, which gdb 13 does
# not read: it finds the note too small for the standard AVX-512 layout
# and takes st*, xmm* and mxcsr from NT_FPREGSET, leaving the rest
# unavailable.
regs generated-crashc gdb generated/linux-core/core.crashc.sigsegv \
	'info all-registers' "thread apply all info registers fctrl mxcsr $xmm16 $ymm16"
regs rizin-core-linux-arm64 gdb-multiarch rizin/elf-core/core-linux-arm64 'info all-registers'
regs elfutils-testfile_aarch64_core gdb-multiarch elfutils/testfile_aarch64_core.bz2 'info all-registers'
regs elfutils-backtrace.aarch64 gdb-multiarch elfutils/backtrace.aarch64.core.bz2 'thread apply all info all-registers'
