package elfsym

import (
	"bytes"
	"debug/elf"
	"io"

	"github.com/crashbench/crashbench/core/container"
	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
)

// MiniDebugInfo (https://sourceware.org/gdb/current/onlinedocs/gdb.html/MiniDebugInfo.html):
// Fedora, RHEL and their kin strip .symtab from their binaries but keep,
// in a .gnu_debugdata section, an xz-compressed ELF file whose .symtab
// holds the functions .dynsym lacks, so that backtraces name static
// functions without the debuginfo package. GDB reads it; so does this.

// Limits on a hostile section: the embedded file is a symbol table, a few
// hundred KiB for the largest libraries (libxul's is under 4 MiB), and xz
// compresses it about 5:1.
const (
	maxMiniDebugInfo = 64 << 20 // decompressed bytes
	maxMiniWindow    = 64 << 20 // LZMA2 dictionary (xz -9 uses 64 MiB)
)

// miniDebugInfo returns the function symbols of f's .gnu_debugdata as
// RVAs against base, nil when it has none or it cannot be read (a broken
// section costs the names it would have given, nothing else).
func miniDebugInfo(f *elf.File, base uint64) []dwarftab.Fn {
	sec := f.Section(".gnu_debugdata")
	if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Size == 0 {
		return nil
	}
	zr, err := container.NewXZReader(sec.Open(), maxMiniWindow)
	if err != nil {
		return nil
	}
	// The output is bounded by the section's size too (a symbol table
	// compresses about 5:1, never 100:1), so a small hostile section
	// cannot make a large allocation. One byte past the limit tells a
	// file at the limit from a larger one.
	limit := min(maxMiniDebugInfo, max(1<<20, 100*int64(sec.Size)))
	b, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil || int64(len(b)) > limit {
		return nil
	}
	mf, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	defer mf.Close()
	// objcopy --only-keep-debug keeps the image's program headers, so the
	// embedded file's link base is the image's; one without them (made
	// otherwise) is taken to share it.
	if mb, ok := linkBase(mf); ok {
		base = mb
	}
	// Its sections are NOBITS copies of the image's: elfSymbols checks
	// a symbol's section flags, which the copies keep.
	return elfSymbols(mf, base)
}
