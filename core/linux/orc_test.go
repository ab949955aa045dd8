package linux

import (
	"errors"
	"testing"
)

// TestDecodeORC decodes one entry in each layout of orc_types.h.
func TestDecodeORC(t *testing.T) {
	entry := func(sp, bp int16, flags uint16) []byte {
		return []byte{byte(sp), byte(uint16(sp) >> 8), byte(bp), byte(uint16(bp) >> 8), byte(flags), byte(flags >> 8)}
	}
	for _, c := range []struct {
		version int
		flags   uint16
		want    orcEntry
	}{
		// sp_reg SP (5), bp_reg PREV_SP (1), type call.
		{1, 0x015, orcEntry{spOff: 16, bpOff: -16, spReg: orcRegSP, bpReg: orcRegPrevSP, kind: orcCall}},
		{2, 0x015, orcEntry{spOff: 16, bpOff: -16, spReg: orcRegSP, bpReg: orcRegPrevSP, kind: orcCall}},
		{3, 0x215, orcEntry{spOff: 16, bpOff: -16, spReg: orcRegSP, bpReg: orcRegPrevSP, kind: orcCall}},
		// regs, and v2/v3's signal bit.
		{1, 0x115, orcEntry{spOff: 16, bpOff: -16, spReg: orcRegSP, bpReg: orcRegPrevSP, kind: orcRegs}},
		{2, 0x515, orcEntry{spOff: 16, bpOff: -16, spReg: orcRegSP, bpReg: orcRegPrevSP, kind: orcRegs, signal: true}},
		{3, 0xb15, orcEntry{spOff: 16, bpOff: -16, spReg: orcRegSP, bpReg: orcRegPrevSP, kind: orcRegs, signal: true}},
		// The end of a kernel thread's stack: bit 10 in v1, 11 in v2, a type in v3.
		{1, 0x400, orcEntry{spOff: 16, bpOff: -16, kind: orcEndOfStack}},
		{2, 0x800, orcEntry{spOff: 16, bpOff: -16, kind: orcEndOfStack}},
		{3, 0x100, orcEntry{spOff: 16, bpOff: -16, kind: orcEndOfStack}},
		{3, 0x000, orcEntry{spOff: 16, bpOff: -16, kind: orcUndefined}},
		{2, 0x215, orcEntry{spOff: 16, bpOff: -16, spReg: orcRegSP, bpReg: orcRegPrevSP, kind: orcRegsPartial}},
	} {
		if got := decodeORC(entry(16, -16, c.flags), c.version); got != c.want {
			t.Errorf("version %d flags %#x: %+v, want %+v", c.version, c.flags, got, c.want)
		}
	}
	for rel, want := range map[string]int{"6.1.0-56-cloud-amd64": 1, "5.10.0-28-amd64": 1, "6.2.16": 2, "6.3.0-rc1": 2, "6.4.0": 3, "6.12.9+bpo-amd64": 3, "7.0": 3, "garbage": 3} {
		if got := orcVersion(rel); got != want {
			t.Errorf("orcVersion(%q) = %d, want %d", rel, got, want)
		}
	}
}

// FuzzUnwindORC walks made-up stacks with made-up ORC entries: the walk
// must end (at most maxORCFrames frames) without panicking, whatever the
// entries and the stack hold.
func FuzzUnwindORC(f *testing.F) {
	// A call frame (sp+8), a regs frame, an end-of-stack marker.
	f.Add([]byte{8, 0, 0xf0, 0xff, 0x15, 0x02, 0, 0, 0, 0, 0x05, 0x03, 0, 0, 0, 0, 0x00, 0x01}, make([]byte, 512), uint8(0))
	f.Add([]byte{0xf8, 0xff, 0, 0, 0x09, 0x02}, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, entries, stack []byte, version uint8) {
		const text, base = 0xffffffff81000000, 0xffffc90000000000
		n := len(entries) / 6
		if n == 0 {
			return
		}
		tab := &orcTable{entries: entries[:6*n], version: int(version%3) + 1}
		for i := range n {
			tab.ips = append(tab.ips, text+uint64(16*i))
		}
		read := func(p []byte, va uint64) error {
			if va < base || va-base >= uint64(len(stack)) || uint64(len(p)) > uint64(len(stack))-(va-base) {
				return errors.New("unmapped")
			}
			copy(p, stack[va-base:])
			return nil
		}
		st := unwindORC(tab.find, read, text+8, base, base, true)
		if len(st.Frames) == 0 || len(st.Frames) > maxORCFrames {
			t.Fatalf("%d frames", len(st.Frames))
		}
	})
}
