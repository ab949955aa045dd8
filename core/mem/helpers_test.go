package mem_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
)

// wantFault checks that err is a *mem.FaultError of the given kind whose
// outermost Addr is addr, and that errors.Is agrees with the kind.
func wantFault(t *testing.T, err error, kind mem.FaultKind, addr uint64) *mem.FaultError {
	t.Helper()
	var fe *mem.FaultError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want *mem.FaultError", err, err)
	}
	if fe.Kind != kind || fe.Addr != addr {
		t.Fatalf("fault = %v (kind %v at %#x), want %v at %#x", err, fe.Kind, fe.Addr, kind, addr)
	}
	if !errors.Is(err, sentinel(kind)) {
		t.Errorf("errors.Is(%v, %v) = false", err, sentinel(kind))
	}
	return fe
}

func sentinel(k mem.FaultKind) error {
	return map[mem.FaultKind]error{
		mem.Unmapped:    mem.ErrUnmapped,
		mem.NotPresent:  mem.ErrNotPresent,
		mem.NotInDump:   mem.ErrNotInDump,
		mem.OutsideFile: mem.ErrOutsideFile,
		mem.ReadFailed:  mem.ErrReadFailed,
		mem.Corrupt:     mem.ErrCorrupt,
	}[k]
}

// seq returns n bytes counting up from first, wrapping at 256.
func seq(first byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = first + byte(i)
	}
	return b
}

// counting wraps a Space and counts ReadMemory calls, to observe caching.
type counting struct {
	mem.Space
	mu    sync.Mutex
	calls int
}

func (c *counting) ReadMemory(p []byte, addr uint64) (int, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Space.ReadMemory(p, addr)
}

func (c *counting) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}
