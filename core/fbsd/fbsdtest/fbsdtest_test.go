package fbsdtest

import (
	"encoding/binary"
	"testing"
)

// TestLayout checks the header offsets the C structs imply (natural
// alignment, so powerpc64's int hw_direct_map is followed by 4 bytes of
// padding) and the section layout.
func TestLayout(t *testing.T) {
	t.Parallel()
	le, be := binary.LittleEndian, binary.BigEndian
	b, err := New(AMD64).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:22]) != "minidump FreeBSD/amd64" || b[22] != 0 {
		t.Errorf("magic = %q", b[:24])
	}
	for _, c := range []struct{ off, got, want uint64 }{
		{24, uint64(le.Uint32(b[24:])), 3},                          // version
		{28, uint64(le.Uint32(b[28:])), uint64(len(DefaultMsgBuf))}, // msgbufsize
		{40, le.Uint64(b[40:]), 0xffffffff80000000},                 // kernbase
		{64, uint64(le.Uint32(b[64:])), 48},                         // dumpavailsize
	} {
		if c.got != c.want {
			t.Errorf("amd64 offset %d = %#x, want %#x", c.off, c.got, c.want)
		}
	}
	if string(b[4096:4096+len(DefaultMsgBuf)]) != DefaultMsgBuf {
		t.Errorf("message buffer not at 0x1000")
	}
	if len(b) != 8*4096 {
		t.Errorf("amd64 dump is %#x bytes, want 8 pages", len(b))
	}

	p, err := New(PowerPC64).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(p[32:41]) != "mmu_oea64" || be.Uint32(p[64:]) != 2 || be.Uint64(p[120:]) != 0x100000 || be.Uint32(p[136:]) != 48 {
		t.Errorf("powerpc64 header = % x", p[:144])
	}
	a, err := New(ARM64).Flags(1).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if le.Uint32(a[72:]) != 48 || le.Uint32(a[76:]) != 1 || len(a) != 8*16384 {
		t.Errorf("arm64 16K: dumpavailsize %d, flags %d, %#x bytes", le.Uint32(a[72:]), le.Uint32(a[76:]), len(a))
	}
}
