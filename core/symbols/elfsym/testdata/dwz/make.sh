#!/bin/sh
# Builds prog1 and prog2 with their DWARF shared through dwz: what both
# use (struct shared_state, the inline functions twice and bump, strings
# such as "main") moves to common.debug, which each names in
# .gnu_debugaltlink and points into with DW_FORM_GNU_ref_alt and
# DW_FORM_GNU_strp_alt, as Debian's and Fedora's debug packages are
# made. prog1.gdb is the oracle: what GDB says is at each address of
# prog1's work_one, inlined calls included.
set -eu
cd "$(dirname "$0")"
gcc -g -O2 -o prog1 prog1.c
gcc -g -O2 -o prog2 prog2.c
dwz -m common.debug -M common.debug prog1 prog2
rm prog2
# The same, in DWARF 5's standard form (dwz -5: .debug_sup,
# DW_FORM_ref_sup4 and DW_FORM_strp_sup; the supplementary file has no
# build-id note, only its .debug_sup checksum). The code is prog1's, byte
# for byte, so prog1.gdb is its oracle too (GDB 13 cannot read these
# forms).
gcc -g -O2 -o prog1.dwarf5 prog1.c
gcc -g -O2 -o prog2 prog2.c
dwz -5 -m common5.debug -M common5.debug prog1.dwarf5 prog2
rm prog2
# At every byte of work_one, the function of GDB's innermost block:
# an inlined call's function where one is inlined.
start=$(nm prog1 | awk '$3 == "work_one" { print $1 }')
size=$(nm -S prog1 | awk '$4 == "work_one" { print $2 }')
args=""
i=0
while [ $i -lt $((0x$size)) ]; do
	args="$args -ex 'python b = gdb.block_for_pc(0x$start + $i); print(\"%x %s\" % (0x$start + $i, b.function.name if b.function else \"?\"))'"
	i=$((i + 1))
done
eval gdb -nx -batch "$args" prog1 2>/dev/null > prog1.gdb
