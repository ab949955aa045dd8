package kdmptest

import (
	"encoding/binary"
	"testing"
)

// TestLayout checks the builder against the offsets the structure
// definitions imply, so a slip in the sequential layout shows here and not
// only as a parser disagreement.
func TestLayout(t *testing.T) {
	t.Parallel()
	le := binary.LittleEndian
	b, err := New().BugCheck(0xD1, 1, 2, 3, 4).Comment("hi").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 0x2000+3*PageSize {
		t.Fatalf("default dump is %#x bytes", len(b))
	}
	for _, c := range []struct {
		off  int
		got  uint64
		want uint64
	}{
		{0x38, uint64(le.Uint32(b[0x38:])), 0xD1},
		{0x40, le.Uint64(b[0x40:]), 1},
		{0x58, le.Uint64(b[0x58:]), 4},
		{0x88, uint64(le.Uint32(b[0x88:])), 2},      // NumberOfRuns
		{0x90, le.Uint64(b[0x90:]), 3},              // NumberOfPages
		{0xF98, uint64(le.Uint32(b[0xF98:])), Full}, // DumpType
		{0xFA0, le.Uint64(b[0xFA0:]), uint64(len(b))},
		{0x1040, uint64(le.Uint32(b[0x1040:])), 1}, // ProductType
	} {
		if c.got != c.want {
			t.Errorf("offset %#x = %#x, want %#x", c.off, c.got, c.want)
		}
	}
	if string(b[0xFB0:0xFB2]) != "hi" {
		t.Errorf("Comment at 0xFB0 = %q", b[0xFB0:0xFB4])
	}

	b32, err := New32().DumpType(Triage).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if got := le.Uint32(b32[0xF88:]); got != Triage {
		t.Errorf("32-bit DumpType at 0xF88 = %d", got)
	}
	if got := le.Uint64(b32[0xFC0:]); got != le.Uint64(b[0xFA8:]) {
		t.Errorf("32-bit SystemTime at 0xFC0 = %#x, want the 64-bit one %#x", got, le.Uint64(b[0xFA8:]))
	}
	// TRIAGE_DUMP: SizeOfDump is the file size, ValidOffset points at "TRGD".
	if size := le.Uint32(b32[0x1004:]); int(size) != len(b32) {
		t.Errorf("SizeOfDump = %#x, file %#x", size, len(b32))
	}
	if vo := le.Uint32(b32[0x1008:]); string(b32[vo:vo+4]) != "TRGD" {
		t.Errorf("ValidOffset %#x does not point at TRGD", vo)
	}
}
