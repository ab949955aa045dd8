package mem_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
)

// fuzzFile is the dump file behind fuzzed runs: short, so that runs often
// point past its end.
var fuzzFile = seq(7, 0x1000)

// fuzzRun is one run decoded from fuzz input, kept in a form the reference
// model can evaluate independently of package mem.
type fuzzRun struct {
	addr, len, baseAddr uint64
	decoded             bool
}

// parseFuzzRuns turns each 7-byte record (addr/16, len, base, flags) into a
// run. With high set, runs are placed in the top MiB of the address space so
// that they touch or overflow 2^64.
func parseFuzzRuns(table []byte, high bool) []fuzzRun {
	origin := uint64(0)
	if high {
		origin = math.MaxUint64 - 0xfffff
	}
	var runs []fuzzRun
	for len(table) >= 7 && len(runs) < 64 {
		runs = append(runs, fuzzRun{
			addr:     origin + uint64(binary.LittleEndian.Uint16(table))*16,
			len:      uint64(binary.LittleEndian.Uint16(table[2:])),
			baseAddr: uint64(binary.LittleEndian.Uint16(table[4:])),
			decoded:  table[6]&1 != 0,
		})
		table = table[7:]
	}
	return runs
}

// fuzzValid reports whether NewRuns should accept runs: no run past 2^64 and
// no two non-empty runs overlapping.
func fuzzValid(runs []fuzzRun) bool {
	for i, a := range runs {
		if a.len == 0 {
			continue
		}
		if a.len-1 > math.MaxUint64-a.addr {
			return false
		}
		for _, b := range runs[:i] {
			if b.len == 0 || b.len-1 > math.MaxUint64-b.addr {
				continue
			}
			if a.addr <= b.addr+b.len-1 && b.addr <= a.addr+a.len-1 {
				return false
			}
		}
	}
	return true
}

// fuzzByte is the reference model: the byte at addr, or why it cannot be
// read. A decoded run stands or falls as a whole.
func fuzzByte(runs []fuzzRun, addr uint64) (byte, mem.FaultKind, bool) {
	for _, r := range runs {
		if r.len == 0 || addr < r.addr || addr-r.addr >= r.len {
			continue
		}
		off := addr - r.addr
		if r.decoded {
			if r.baseAddr+r.len > uint64(len(fuzzFile)) {
				return 0, mem.OutsideFile, false
			}
			return fuzzFile[r.baseAddr+off] ^ xorKey, 0, true
		}
		if r.baseAddr+off >= uint64(len(fuzzFile)) {
			return 0, mem.OutsideFile, false
		}
		return fuzzFile[r.baseAddr+off], 0, true
	}
	return 0, mem.NotInDump, false
}

// FuzzRuns builds a run table from fuzz input, reads from it directly and
// through a small cache, and compares both with a byte-by-byte reference
// model: same count, same bytes, same fault kind at the same address.
func FuzzRuns(f *testing.F) {
	rec := func(addr16, length, base uint16, decoded bool) []byte {
		b := binary.LittleEndian.AppendUint16(nil, addr16)
		b = binary.LittleEndian.AppendUint16(b, length)
		b = binary.LittleEndian.AppendUint16(b, base)
		if decoded {
			return append(b, 1)
		}
		return append(b, 0)
	}
	cat := func(recs ...[]byte) []byte { return bytes.Join(recs, nil) }
	f.Add(cat(rec(0x100, 0x1000, 0, false), rec(0x200, 0x800, 0x800, true)), uint64(0x1ff0), uint16(0x40), false)
	f.Add(cat(rec(0x100, 0x100, 0xf80, false)), uint64(0x1000), uint16(0x200), false)
	f.Add(cat(rec(0xffff, 0x10, 0, false)), uint64(0xffff0), uint16(0x20), true)
	f.Add(cat(rec(0xfff0, 0x100, 0, true)), uint64(0xfff00), uint16(0x100), true)
	f.Add(cat(rec(0x10, 0x100, 0, false), rec(0x18, 0x100, 0, false)), uint64(0x100), uint16(8), false)
	f.Add([]byte{}, uint64(0), uint16(0), false)

	f.Fuzz(func(t *testing.T, table []byte, addr uint64, n uint16, high bool) {
		runs := parseFuzzRuns(table, high)
		ms := make([]mem.Mapping, len(runs))
		for i, r := range runs {
			ms[i] = mem.Mapping{Addr: r.addr, Len: r.len, BaseAddr: r.baseAddr}
			if r.decoded {
				ms[i].Decode, ms[i].SrcLen = xorDecode, r.len
			}
		}
		file := mem.NewFile(bytes.NewReader(fuzzFile), int64(len(fuzzFile)), "file")
		rs, err := mem.NewRuns(file, "phys", ms)
		if valid := fuzzValid(runs); (err == nil) != valid {
			t.Fatalf("NewRuns error = %v, but model says valid = %v", err, valid)
		}
		if err != nil {
			return
		}
		// Aim reads at the runs: the low MiB, or the top MiB (reads
		// there may run past 2^64).
		addr %= 0x110000
		if high {
			addr += math.MaxUint64 - 0xfffff
		}
		size := int(n % 0x2000)

		// Expected result from the model.
		want := make([]byte, 0, size)
		wantKind, wantAt, wantFault := mem.FaultKind(0), uint64(0), false
		for i := range size {
			a := addr + uint64(i)
			if i > 0 && a == 0 {
				wantKind, wantAt, wantFault = mem.Unmapped, 0, true
				break
			}
			b, kind, ok := fuzzByte(runs, a)
			if !ok {
				wantKind, wantAt, wantFault = kind, a, true
				break
			}
			want = append(want, b)
		}

		spaces := []mem.Space{rs, mem.NewCache(rs, 64, 4)}
		for _, s := range spaces {
			p := make([]byte, size)
			got, err := s.ReadMemory(p, addr)
			if got != len(want) || !bytes.Equal(p[:got], want) {
				t.Fatalf("%T: read %d bytes at %#x, model %d (err %v)", s, got, addr, len(want), err)
			}
			if !wantFault {
				if err != nil {
					t.Fatalf("%T: full read returned %v", s, err)
				}
				continue
			}
			var fe *mem.FaultError
			if !errors.As(err, &fe) || fe.Kind != wantKind || fe.Addr != wantAt {
				t.Fatalf("%T: err = %v, model says %v at %#x", s, err, wantKind, wantAt)
			}
		}

		// Map yields ascending runs, each covering the next address.
		var next uint64 = addr
		var prev uint64
		for i, m := range slices.Collect(func(yield func(mem.Mapping) bool) {
			for m, err := range rs.Map(addr, uint64(size)) {
				if err != nil || !yield(m) {
					return
				}
			}
		}) {
			if i > 0 && m.Addr <= prev {
				t.Fatalf("Map not ascending: %#x after %#x", m.Addr, prev)
			}
			if next < m.Addr || next-m.Addr >= m.Len {
				t.Fatalf("Map yielded [%#x,+%#x) not covering %#x", m.Addr, m.Len, next)
			}
			prev, next = m.Addr, m.Addr+m.Len
		}

		// Regions are sorted and non-overlapping.
		var last mem.Region
		for i, r := range slices.Collect(rs.Regions()) {
			if r.Size == 0 || (i > 0 && r.Start <= last.Last()) {
				t.Fatalf("bad region %v after %v", r, last)
			}
			last = r
		}
	})
}
