// Package disasm decodes machine code for the console's u and ub commands
// and the workbench's disassembly view. It puts golang.org/x/arch's x86asm
// and arm64asm behind one Decoder interface and formats instructions the way
// WinDbg does: lowercase mnemonics, operands without spaces after commas,
// hexadecimal constants as 10h, and addresses shown through a symbol callback
// as module!sym+0x10 with the absolute address beside them.
//
// RIP-relative operands are shown as absolute addresses: x86asm only does
// that through its symbol callback, so Text wraps the caller's callback and
// answers for every RIP-relative and branch target even when the caller has
// no symbol for it.
//
// # Robustness
//
// Decoding is safe on arbitrary bytes (x86asm and arm64asm never panic on
// input, and the wrappers bound every slice); fuzzed by FuzzDecode.
package disasm
