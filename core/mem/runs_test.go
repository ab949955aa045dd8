package mem_test

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
)

const top = math.MaxUint64

// fileBytes is the content of the fake dump file the runs point into.
var fileBytes = func() []byte {
	b := make([]byte, 0x3000)
	for i := range b {
		b[i] = byte(i*13 + 5)
	}
	return b
}()

// xorKey is the toy "compression" used by decoded runs: stored bytes are the
// page XOR xorKey.
const xorKey = 0x5a

func xorDecode(dst, src []byte) error {
	if len(src) != len(dst) {
		return fmt.Errorf("xor: src %d bytes, dst %d", len(src), len(dst))
	}
	for i := range dst {
		dst[i] = src[i] ^ xorKey
	}
	return nil
}

var errBadBlock = errors.New("bad block")

func failDecode(dst, src []byte) error { return errBadBlock }

// testRuns is the physical space used by most Runs tests:
//
//	A [0x10000,0x11000) -> file 0x0000        identity
//	B [0x11000,0x12000) -> file 0x2000        identity, adjacent to A
//	  [0x12000,0x14000)                       gap
//	C [0x14000,0x15000) -> file 0x1000 XOR    decoded
//	D [0x15000,0x16000) -> file 0x2800        identity, file ends at 0x3000
//	F [0x20000,0x20100) -> corrupt            decode fails
//	G [0x21000,0x22000) -> file 0x2f00 XOR    source runs past end of file
//	E [top-0xfff, top]  -> file 0x0000        touches 2^64
func testRuns(t testing.TB) *mem.Runs {
	t.Helper()
	file := mem.NewFile(bytes.NewReader(fileBytes), int64(len(fileBytes)), "file")
	r, err := mem.NewRuns(file, "phys", []mem.Mapping{
		{Addr: top - 0xfff, Len: 0x1000, BaseAddr: 0},
		{Addr: 0x15000, Len: 0x1000, BaseAddr: 0x2800},
		{Addr: 0x10000, Len: 0x1000, BaseAddr: 0},
		{Addr: 0x11000, Len: 0x1000, BaseAddr: 0x2000},
		{Addr: 0x14000, Len: 0x1000, BaseAddr: 0x1000, Decode: xorDecode, SrcLen: 0x1000},
		{Addr: 0x20000, Len: 0x100, BaseAddr: 0, Decode: failDecode, SrcLen: 0x10},
		{Addr: 0x21000, Len: 0x1000, BaseAddr: 0x2f00, Decode: xorDecode, SrcLen: 0x1000},
	})
	if err != nil {
		t.Fatalf("NewRuns: %v", err)
	}
	return r
}

// physByte is the reference model of testRuns: the byte at addr, if readable.
func physByte(addr uint64) (byte, bool) {
	file := func(off uint64) (byte, bool) {
		if off < uint64(len(fileBytes)) {
			return fileBytes[off], true
		}
		return 0, false
	}
	switch {
	case addr >= 0x10000 && addr < 0x11000:
		return file(addr - 0x10000)
	case addr >= 0x11000 && addr < 0x12000:
		return file(addr - 0x11000 + 0x2000)
	case addr >= 0x14000 && addr < 0x15000:
		return fileBytes[addr-0x14000+0x1000] ^ xorKey, true
	case addr >= 0x15000 && addr < 0x16000:
		return file(addr - 0x15000 + 0x2800)
	case addr >= top-0xfff:
		return file(addr - (top - 0xfff))
	}
	return 0, false
}

func TestRunsRead(t *testing.T) {
	t.Parallel()
	r := testRuns(t)
	tests := []struct {
		name    string
		addr    uint64
		n       int
		wantN   int
		kind    mem.FaultKind
		faultAt uint64
		cause   error // also expected in the chain, if set
	}{
		{name: "inside A", addr: 0x10010, n: 16, wantN: 16},
		{name: "A to B boundary", addr: 0x10ff8, n: 16, wantN: 16},
		{name: "all of A and B", addr: 0x10000, n: 0x2000, wantN: 0x2000},
		{name: "B into gap", addr: 0x11ff0, n: 32, wantN: 16, kind: mem.NotInDump, faultAt: 0x12000},
		{name: "in gap", addr: 0x12100, n: 1, wantN: 0, kind: mem.NotInDump, faultAt: 0x12100},
		{name: "gap into C", addr: 0x13ff0, n: 32, wantN: 0, kind: mem.NotInDump, faultAt: 0x13ff0},
		{name: "before all runs", addr: 0, n: 8, wantN: 0, kind: mem.NotInDump, faultAt: 0},
		{name: "zero length in gap", addr: 0x12000, n: 0, wantN: 0},
		{name: "decoded middle", addr: 0x14100, n: 64, wantN: 64},
		{name: "decoded whole", addr: 0x14000, n: 0x1000, wantN: 0x1000},
		{name: "decoded to identity", addr: 0x14ff0, n: 32, wantN: 32},
		{name: "identity past file end", addr: 0x157f0, n: 32, wantN: 16, kind: mem.OutsideFile, faultAt: 0x15800},
		{name: "decoded then file end", addr: 0x14ff0, n: 0x1000, wantN: 0x810, kind: mem.OutsideFile, faultAt: 0x15800},
		{name: "corrupt block", addr: 0x20010, n: 4, wantN: 0, kind: mem.Corrupt, faultAt: 0x20010, cause: errBadBlock},
		{name: "decoded source outside file", addr: 0x21010, n: 4, wantN: 0, kind: mem.OutsideFile, faultAt: 0x21010},
		{name: "last bytes of address space", addr: top - 7, n: 8, wantN: 8},
		{name: "read wraps past 2^64", addr: top - 7, n: 16, wantN: 8, kind: mem.Unmapped, faultAt: 0},
		{name: "after last run before top", addr: top - 0x1000, n: 2, wantN: 0, kind: mem.NotInDump, faultAt: top - 0x1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := make([]byte, tt.n)
			n, err := r.ReadMemory(p, tt.addr)
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d (err %v)", n, tt.wantN, err)
			}
			for i := range n {
				want, ok := physByte(tt.addr + uint64(i))
				if !ok || p[i] != want {
					t.Fatalf("byte at %#x = %#x, want %#x (readable %v)", tt.addr+uint64(i), p[i], want, ok)
				}
			}
			if n == tt.n {
				if err != nil {
					t.Fatalf("full read returned %v", err)
				}
				return
			}
			fe := wantFault(t, err, tt.kind, tt.faultAt)
			if fe.Space != "phys" {
				t.Errorf("fault space = %q, want phys", fe.Space)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("errors.Is(err, %v) = false: %v", tt.cause, err)
			}
		})
	}
}

// TestRunsFaultChain checks that a fault in the file is reported in physical
// coordinates with the file's own fault (offset 0x3000) as the cause.
func TestRunsFaultChain(t *testing.T) {
	t.Parallel()
	_, err := testRuns(t).ReadMemory(make([]byte, 32), 0x157f0)
	outer := wantFault(t, err, mem.OutsideFile, 0x15800)
	var inner *mem.FaultError
	if !errors.As(outer.Err, &inner) || inner.Space != "file" || inner.Addr != 0x3000 {
		t.Fatalf("cause = %v, want file fault at 0x3000", outer.Err)
	}
	if got, want := err.Error(), "phys: 0x15800: file: 0x3000: outside file"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestNewRunsValidation(t *testing.T) {
	t.Parallel()
	base := memtest.Map{}
	tests := []struct {
		name    string
		base    mem.Space
		runs    []mem.Mapping
		wantErr string // substring; empty means success
		wantLen int
	}{
		{name: "empty", base: base, runs: nil},
		{name: "unsorted", base: base, runs: []mem.Mapping{{Addr: 0x3000, Len: 0x1000}, {Addr: 0x1000, Len: 0x1000}}, wantLen: 2},
		{name: "adjacent", base: base, runs: []mem.Mapping{{Addr: 0x1000, Len: 0x1000}, {Addr: 0x2000, Len: 0x1000}}, wantLen: 2},
		{name: "zero length dropped", base: base, runs: []mem.Mapping{{Addr: 0x1000, Len: 0}, {Addr: 0x1000, Len: 1}}, wantLen: 1},
		{name: "overlap", base: base, runs: []mem.Mapping{{Addr: 0x1000, Len: 0x1001}, {Addr: 0x2000, Len: 0x1000}}, wantErr: "overlaps"},
		{name: "duplicate", base: base, runs: []mem.Mapping{{Addr: 0x1000, Len: 1}, {Addr: 0x1000, Len: 1}}, wantErr: "overlaps"},
		{name: "contained", base: base, runs: []mem.Mapping{{Addr: 0x1000, Len: 0x3000}, {Addr: 0x2000, Len: 0x10}}, wantErr: "overlaps"},
		{name: "ends at 2^64", base: base, runs: []mem.Mapping{{Addr: top - 0xfff, Len: 0x1000}}, wantLen: 1},
		{name: "whole address space", base: base, runs: []mem.Mapping{{Addr: 0, Len: top}, {Addr: top, Len: 1}}, wantLen: 2},
		{name: "addr overflow", base: base, runs: []mem.Mapping{{Addr: top - 0xfff, Len: 0x1001}}, wantErr: "top of the address space"},
		{name: "base overflow", base: base, runs: []mem.Mapping{{Addr: 0, Len: 0x1000, BaseAddr: top}}, wantErr: "top of the base space"},
		{name: "decoded base near top ok", base: base, runs: []mem.Mapping{{Addr: 0, Len: 0x1000, BaseAddr: top, Decode: xorDecode, SrcLen: 1}}, wantLen: 1},
		{name: "decoded too long", base: base, runs: []mem.Mapping{{Addr: 0, Len: mem.MaxDecodeLen + 1, Decode: xorDecode}}, wantErr: "exceeds"},
		{name: "decoded source too long", base: base, runs: []mem.Mapping{{Addr: 0, Len: 1, Decode: xorDecode, SrcLen: 1 << 40}}, wantErr: "exceeds"},
		{name: "nil base", base: nil, runs: nil, wantErr: "nil base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := slices.Clone(tt.runs)
			r, err := mem.NewRuns(tt.base, "phys", in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewRuns error = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewRuns: %v", err)
			}
			if r.Len() != tt.wantLen {
				t.Errorf("Len() = %d, want %d", r.Len(), tt.wantLen)
			}
			for i := range in { // NewRuns must not sort the caller's slice
				if in[i].Addr != tt.runs[i].Addr {
					t.Fatal("NewRuns modified its argument")
				}
			}
		})
	}
}

func TestRunsMap(t *testing.T) {
	t.Parallel()
	r := testRuns(t)
	type step struct {
		addr    uint64 // mapping Addr, or fault address
		fault   bool
		kind    mem.FaultKind
		decoded bool
	}
	tests := []struct {
		name string
		addr uint64
		n    uint64
		want []step
	}{
		{"nothing", 0x10000, 0, nil},
		{"one run, clipped by caller", 0x10100, 0x10, []step{{addr: 0x10000}}},
		{"two runs", 0x10ff0, 0x20, []step{{addr: 0x10000}, {addr: 0x11000}}},
		{"into gap", 0x11ff0, 0x100, []step{{addr: 0x11000}, {addr: 0x12000, fault: true, kind: mem.NotInDump}}},
		{"starts in gap", 0x12000, 0x10, []step{{addr: 0x12000, fault: true, kind: mem.NotInDump}}},
		{"decoded then identity", 0x14800, 0x1000, []step{{addr: 0x14000, decoded: true}, {addr: 0x15000}}},
		{"past everything", 0x30000, 1, []step{{addr: 0x30000, fault: true, kind: mem.NotInDump}}},
		{"wraps", top - 0xf, 0x20, []step{{addr: top - 0xfff}, {addr: 0, fault: true, kind: mem.Unmapped}}},
		{"whole space", 0, top, []step{{addr: 0, fault: true, kind: mem.NotInDump}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []step
			for m, err := range r.Map(tt.addr, tt.n) {
				if err != nil {
					var fe *mem.FaultError
					if !errors.As(err, &fe) {
						t.Fatalf("Map error %v is not a fault", err)
					}
					got = append(got, step{addr: fe.Addr, fault: true, kind: fe.Kind})
					continue
				}
				got = append(got, step{addr: m.Addr, decoded: m.Decode != nil})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Map(%#x, %#x) = %+v, want %+v", tt.addr, tt.n, got, tt.want)
			}
		})
	}
	t.Run("consumer stops early", func(t *testing.T) {
		t.Parallel()
		for range r.Map(0x10000, 0x6000) {
			break
		}
		for _, err := range r.Map(0x11ff0, 0x100) {
			if err != nil {
				break
			}
		}
	})
}

func TestRunsRegions(t *testing.T) {
	t.Parallel()
	r := testRuns(t)
	want := []mem.Region{
		{Start: 0x10000, Size: 0x2000, Prot: mem.R},
		{Start: 0x14000, Size: 0x2000, Prot: mem.R},
		{Start: 0x20000, Size: 0x100, Prot: mem.R},
		{Start: 0x21000, Size: 0x1000, Prot: mem.R},
		{Start: top - 0xfff, Size: 0x1000, Prot: mem.R},
	}
	if got := slices.Collect(r.Regions()); !slices.Equal(got, want) {
		t.Errorf("Regions() =\n%v\nwant\n%v", got, want)
	}
	for range r.Regions() {
		break // stopping early must be safe
	}
	if r.Name() != "phys" || r.Base().Name() != "file" {
		t.Errorf("Name, Base().Name = %q, %q", r.Name(), r.Base().Name())
	}
}

// TestRunsMany builds a run table the size of a large kernel dump (one run
// per page, every other page missing) and checks reads land in the right
// run and gaps fault at the right address.
func TestRunsMany(t *testing.T) {
	t.Parallel()
	n := 1 << 20
	if testing.Short() {
		n = 1 << 14
	}
	base := memtest.Map{0: seq(0, 0x1000), 0x1000: seq(0x80, 0x1000)}
	runs := make([]mem.Mapping, n)
	for i := range runs {
		runs[i] = mem.Mapping{Addr: uint64(i) * 0x2000, Len: 0x1000, BaseAddr: uint64(i%2) * 0x1000}
	}
	r, err := mem.NewRuns(base, "big", runs)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Len(); got != n {
		t.Fatalf("Len() = %d, want %d", got, n)
	}
	tests := []struct {
		name    string
		run     int
		off     uint64
		size    int
		wantN   int
		faultAt uint64
	}{
		{"first", 0, 0x10, 4, 4, 0},
		{"middle", n / 2, 0xff0, 8, 8, 0},
		{"odd run", n/2 + 1, 0, 4, 4, 0},
		{"last", n - 1, 0xffc, 4, 4, 0},
		{"into gap", n / 3, 0xffc, 8, 4, uint64(n/3)*0x2000 + 0x1000},
		{"past last", n - 1, 0x1000, 1, 0, uint64(n-1)*0x2000 + 0x1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := uint64(tt.run)*0x2000 + tt.off
			p := make([]byte, tt.size)
			got, err := r.ReadMemory(p, addr)
			if got != tt.wantN {
				t.Fatalf("n = %d, want %d (%v)", got, tt.wantN, err)
			}
			want := base[uint64(tt.run%2)*0x1000][tt.off:]
			if !bytes.Equal(p[:got], want[:got]) {
				t.Errorf("bytes = %x, want %x", p[:got], want[:got])
			}
			if got < tt.size {
				wantFault(t, err, mem.NotInDump, tt.faultAt)
			} else if err != nil {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func BenchmarkRunsRead(b *testing.B) {
	const n = 1 << 20
	base := memtest.Map{0: seq(0, 0x1000)}
	runs := make([]mem.Mapping, n)
	for i := range runs {
		runs[i] = mem.Mapping{Addr: uint64(i) * 0x1000, Len: 0x1000}
	}
	r, err := mem.NewRuns(base, "big", runs)
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, 16)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Each read crosses from one run into the next, so it never
		// starts in the last run (there is no next one).
		if _, err := r.ReadMemory(p, uint64(i*7919%(n-1))*0x1000+0xff8); err != nil {
			b.Fatal(err)
		}
	}
}

// scripted is a Mapper whose Map yields a fixed script, to check that
// ReadMapped survives Mappers that break their contract.
type scripted struct {
	base   mem.Space
	script []mapStep
}

type mapStep struct {
	m   mem.Mapping
	err error
}

func (s *scripted) Name() string                               { return "scripted" }
func (s *scripted) Regions() iter.Seq[mem.Region]              { return func(func(mem.Region) bool) {} }
func (s *scripted) Base() mem.Space                            { return s.base }
func (s *scripted) ReadMemory(p []byte, a uint64) (int, error) { return mem.ReadMapped(s, p, a) }
func (s *scripted) Map(addr, n uint64) iter.Seq2[mem.Mapping, error] {
	return func(yield func(mem.Mapping, error) bool) {
		for _, st := range s.script {
			if !yield(st.m, st.err) {
				return
			}
		}
	}
}

func TestReadMappedContract(t *testing.T) {
	t.Parallel()
	base := memtest.Map{0: seq(0, 0x100)}
	pteFault := &mem.FaultError{Space: "scripted", Addr: 0x1008, Kind: mem.NotPresent, Level: "PTE", Entry: 0x2}
	tests := []struct {
		name    string
		base    mem.Space
		script  []mapStep
		addr    uint64
		n       int
		wantN   int
		kind    mem.FaultKind
		faultAt uint64
		level   string
	}{
		{name: "good", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0x1000, Len: 0x10}}}, addr: 0x1004, n: 8, wantN: 8},
		{name: "ends early", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0x1000, Len: 0x8}}}, addr: 0x1004, n: 8, wantN: 4, kind: mem.NotInDump, faultAt: 0x1008},
		{name: "yields nothing", base: base, addr: 0x1004, n: 8, wantN: 0, kind: mem.NotInDump, faultAt: 0x1004},
		{name: "mapping after addr", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0x1005, Len: 0x10}}}, addr: 0x1004, n: 8, wantN: 0, kind: mem.NotInDump, faultAt: 0x1004},
		{name: "mapping before addr", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0x0, Len: 0x10}}}, addr: 0x1004, n: 8, wantN: 0, kind: mem.NotInDump, faultAt: 0x1004},
		{name: "zero length mapping", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0x1004}}}, addr: 0x1004, n: 8, wantN: 0, kind: mem.NotInDump, faultAt: 0x1004},
		{name: "repeats a mapping", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0x1000, Len: 0x6}}, {m: mem.Mapping{Addr: 0x1000, Len: 0x6}}}, addr: 0x1004, n: 8, wantN: 2, kind: mem.NotInDump, faultAt: 0x1006},
		{name: "page-table fault keeps level", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0x1000, Len: 0x8}}, {err: pteFault}}, addr: 0x1004, n: 8, wantN: 4, kind: mem.NotPresent, faultAt: 0x1008, level: "PTE"},
		{name: "foreign error", base: base, script: []mapStep{{err: errors.New("walker broke")}}, addr: 0x1004, n: 8, wantN: 0, kind: mem.ReadFailed, faultAt: 0x1004},
		{name: "huge decode len", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0, Len: 1 << 40, Decode: xorDecode, SrcLen: 1}}}, addr: 0x1004, n: 8, wantN: 0, kind: mem.Corrupt, faultAt: 0x1004},
		{name: "huge decode src", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0, Len: 0x2000, Decode: xorDecode, SrcLen: 1 << 40}}}, addr: 0x1004, n: 8, wantN: 0, kind: mem.Corrupt, faultAt: 0x1004},
		{name: "decode without source", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0x1000, Len: 0x10, Decode: func(dst, src []byte) error { clear(dst); return nil }}}}, addr: 0x1004, n: 8, wantN: 8},
		{name: "base faults mid read", base: base, script: []mapStep{{m: mem.Mapping{Addr: 0x1000, Len: 0x1000, BaseAddr: 0xf0}}}, addr: 0x1004, n: 0x20, wantN: 0xc, kind: mem.Unmapped, faultAt: 0x1010},
		{name: "nil base", base: nil, script: []mapStep{{m: mem.Mapping{Addr: 0x1000, Len: 0x10}}}, addr: 0x1004, n: 8, wantN: 0, kind: mem.ReadFailed, faultAt: 0x1004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &scripted{base: tt.base, script: tt.script}
			p := make([]byte, tt.n)
			n, err := m.ReadMemory(p, tt.addr)
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d (%v)", n, tt.wantN, err)
			}
			if n == tt.n {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fe := wantFault(t, err, tt.kind, tt.faultAt)
			if fe.Level != tt.level {
				t.Errorf("Level = %q, want %q", fe.Level, tt.level)
			}
		})
	}
	if n, err := mem.ReadMapped(nil, make([]byte, 1), 5); n != 0 || err == nil {
		t.Errorf("ReadMapped(nil) = %d, %v", n, err)
	}
}
