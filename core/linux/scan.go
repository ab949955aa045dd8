package linux

import (
	"bytes"
	"context"
	"errors"

	"github.com/crashbench/crashbench/core/mem"
)

// ErrNoVMCOREINFO says a memory image holds no VMCOREINFO page.
var ErrNoVMCOREINFO = errors.New("linux: no VMCOREINFO page found in memory")

// maxVMCOREINFO bounds the text read from the page: the kernel's buffer
// is one page (VMCOREINFO_BYTES).
const maxVMCOREINFO = 4096

// FindVMCOREINFO looks for the kernel's VMCOREINFO text in physical
// memory, for images that carry no copy of it (LiME): the kernel keeps it
// in a page of its own (vmcoreinfo_data, from get_zeroed_page) that starts
// with "OSRELEASE=". Each readable page of phys is checked until one
// starts so and holds a SYMBOL( entry too; it returns the text up to its
// NUL and the page's physical address. ctx cancels the scan, which reads
// ten bytes per page.
//
// Pages from 4 GiB up are checked first, lowest first, then those below:
// the page is allocated early in boot, and since Linux 5.10 the buddy
// allocator hands out the lowest free pages of the highest zone first
// (ZONE_NORMAL, which starts at 4 GiB on x86-64 and arm64 machines with
// more RAM than that). A 24 GiB x86-64 guest running 6.18 has the
// VMCOREINFO note, allocated right after the page, 12 MiB above 4 GiB, so
// a big image is found in a few thousand pages instead of after the 3 GiB
// below 4 GiB: every page checked costs a page fault on the mapped file.
func FindVMCOREINFO(ctx context.Context, phys mem.Space) ([]byte, uint64, error) {
	const page = 4096
	head := make([]byte, 10)
	for _, pass := range [2]struct{ lo, hi uint64 }{{highMem, ^uint64(0)}, {0, highMem - 1}} { // hi inclusive
		for r := range phys.Regions() {
			if r.Size == 0 {
				continue
			}
			lo, hi := max(r.Start, pass.lo), min(r.Start+r.Size-1, pass.hi)
			start := (lo + page - 1) &^ (page - 1) // below lo if it wrapped
			for a := start; lo <= hi && start >= lo && a >= start && a <= hi && hi-a >= page-1; a += page {
				if a&0xffff == 0 && ctx.Err() != nil {
					return nil, 0, ctx.Err()
				}
				if n, _ := phys.ReadMemory(head, a); n < len(head) || !bytes.Equal(head, []byte("OSRELEASE=")) {
					continue
				}
				b := make([]byte, maxVMCOREINFO)
				n, _ := phys.ReadMemory(b, a)
				b = b[:n]
				if i := bytes.IndexByte(b, 0); i >= 0 {
					b = b[:i]
				}
				if bytes.Contains(b, []byte("\nSYMBOL(")) {
					return b, a, nil
				}
			}
		}
	}
	return nil, 0, ErrNoVMCOREINFO
}

// highMem is where FindVMCOREINFO starts looking: 4 GiB.
const highMem = 4 << 30
