// Package codes names the numbers crashes are reported with: Windows
// exception codes (NTSTATUS), POSIX signals and their si_code values, macOS
// Mach exceptions and Windows bug-check (stop) codes, spelled as WinDbg, gdb
// and the kernels' own headers spell them.
package codes
