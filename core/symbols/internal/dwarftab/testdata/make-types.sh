#!/usr/bin/env bash
# Remakes types.o (gcc -g, DWARF 5 with DW_AT_data_bit_offset bitfields)
# and types-dwarf3.o (-gdwarf-3 -gstrict-dwarf: DW_AT_bit_offset, the
# pre-DWARF-4 bitfield form), and gdb's ptype /o of each type as the oracle.
set -euo pipefail
cd "$(dirname "$0")"
gcc -g -O0 -c types.c -o types.o
gcc -gdwarf-3 -gstrict-dwarf -O0 -c types.c -o types-dwarf3.o
gdb -nx -batch -ex 'ptype /o struct node' -ex 'ptype /o struct packed_rec' -ex 'ptype /o union either' -ex 'ptype enum color' types.o >types.ptype.txt 2>&1
