#!/usr/bin/env bash
# Remakes the process cores here with gcc and gdb's gcore (Debian 12:
# gcc 12.2, gdb 13.1, glibc 2.36), and gdb's own view of them as oracles.
# gcore honours /proc/PID/coredump_filter as the kernel does, so the cores
# hold the stacks, heap and data but not the libraries' text.
set -euo pipefail
cd "$(dirname "$0")"
for prog in assertc dfree sighandler; do
	gcc -g -O0 -o "$prog" "$prog.c"
	rm -f "core.$prog"
	# gdb stops at the SIGSEGV first; the handler then aborts.
	gdb -nx -batch -ex 'handle SIGSEGV nostop noprint pass' -ex run -ex "gcore core.$prog" "./$prog" >/dev/null 2>&1
	gdb -nx -batch -ex "core-file core.$prog" -ex 'thread apply all bt' \
		-ex 'p __abort_msg->msg' -ex 'info sharedlibrary' "./$prog" >"$prog.gdb.txt" 2>&1
	if [ "$prog" = sighandler ]; then
		# dt's oracle: main's struct sigaction, its layout and values.
		gdb -nx -batch -ex "core-file core.$prog" -ex 'ptype /o struct sigaction' -ex 'frame function main' \
			-ex 'p &sa' -ex 'p sa.__sigaction_handler.sa_handler' -ex 'p sa.sa_flags' "./$prog" 2>/dev/null |
			grep -v '^\[\|^#\|^Core\|^Program\|^Using\|^[0-9]' >"$prog.types.gdb.txt"
	fi
	zstd -19 -q -f "core.$prog" -o "core.$prog.zst"
	rm -f "core.$prog"
done
