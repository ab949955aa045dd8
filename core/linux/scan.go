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
// with "OSRELEASE=". Each readable page of phys is checked, lowest first,
// until one starts so and holds a SYMBOL( entry too; it returns the text
// up to its NUL and the page's physical address. ctx cancels the scan,
// which reads ten bytes per page.
func FindVMCOREINFO(ctx context.Context, phys mem.Space) ([]byte, uint64, error) {
	const page = 4096
	head := make([]byte, 10)
	for r := range phys.Regions() {
		start := (r.Start + page - 1) &^ (page - 1)
		for a := start; a >= start && a+page-1 <= r.Start+r.Size-1; a += page {
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
	return nil, 0, ErrNoVMCOREINFO
}
