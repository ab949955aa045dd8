package linux

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/mem/memtest"
)

// TestFindVMCOREINFO finds the page that starts with OSRELEASE= and holds
// SYMBOL( entries, skipping a page that only mentions OSRELEASE= (a log
// line, say) and text that is not at a page start.
func TestFindVMCOREINFO(t *testing.T) {
	page := func(s string) []byte { b := make([]byte, 4096); copy(b, s); return b }
	info := "OSRELEASE=6.1.0-56-cloud-amd64\nPAGESIZE=4096\nSYMBOL(init_top_pgt)=ffffffff9b210000\n"
	m := memtest.Map{
		0x1000: page("OSRELEASE=but no symbols here\n"),
		0x2000: append(make([]byte, 8), []byte(info)...), // not at a page start
		0x9000: page(info),
	}
	text, at, err := FindVMCOREINFO(context.Background(), m)
	if err != nil || at != 0x9000 || !bytes.Equal(text, []byte(info)) {
		t.Fatalf("%q at %#x, %v", text, at, err)
	}
	// Pages from 4 GiB up are checked first, also in a run that crosses 4 GiB.
	m[1<<32-0x1000] = append(make([]byte, 0x1000), page(info)...)
	if _, at, err := FindVMCOREINFO(context.Background(), m); err != nil || at != 1<<32 {
		t.Fatalf("with a page at 4 GiB: found at %#x, %v", at, err)
	}
	delete(m, 1<<32-0x1000)
	delete(m, 0x9000)
	if _, _, err := FindVMCOREINFO(context.Background(), m); !errors.Is(err, ErrNoVMCOREINFO) {
		t.Errorf("without the page: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big := memtest.Map{0: make([]byte, 1<<20)}
	if _, _, err := FindVMCOREINFO(ctx, big); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled scan: %v", err)
	}
}
