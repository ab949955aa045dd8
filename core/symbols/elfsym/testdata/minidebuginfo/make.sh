#!/bin/sh
# Builds prog.minidebuginfo: prog.c stripped, with the symbols .dynsym
# lacks kept in an xz-compressed .gnu_debugdata section, by the recipe of
# GDB's manual (MiniDebugInfo), and prog.nm, the unstripped binary's
# function symbols as nm prints them, and prog.gdb (below).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O1 -g -fPIE -pie -rdynamic -o "$tmp/prog" prog.c
nm --defined-only "$tmp/prog" | awk '$2 == "T" || $2 == "t" { print $1, $2, $3 }' | sort -k3 > prog.nm
nm -D "$tmp/prog" --format=posix --defined-only | awk '{ print $1 }' | sort > "$tmp/dynsyms"
nm "$tmp/prog" --format=posix --defined-only | awk '{ if ($2 == "T" || $2 == "t" || $2 == "D") print $1 }' | sort > "$tmp/funcsyms"
comm -13 "$tmp/dynsyms" "$tmp/funcsyms" > "$tmp/keep_symbols"
objcopy --only-keep-debug "$tmp/prog" "$tmp/mini_debuginfo"
objcopy -S --remove-section .gdb_index --remove-section .comment --keep-symbols="$tmp/keep_symbols" "$tmp/mini_debuginfo"
strip --strip-all -R .comment -o prog.minidebuginfo "$tmp/prog"
xz --keep "$tmp/mini_debuginfo"
objcopy --add-section .gnu_debugdata="$tmp/mini_debuginfo.xz" prog.minidebuginfo
# What GDB names each of those addresses in the stripped file (it reads
# .gnu_debugdata): "ADDRESS NAME" per line, the second oracle.
args=$(awk '{ printf " -ex \"info symbol 0x%s\"", $1 }' prog.nm)
eval gdb -nx -batch "$args" prog.minidebuginfo 2>/dev/null | awk '{ print $1 }' > "$tmp/names"
awk '{ print $1 }' prog.nm | paste -d' ' - "$tmp/names" > prog.gdb
