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

// TestMemoryBitmap checks the bitmap Page builds against vm_page_dump_add
// worked by hand: dump_avail {0x1000-0x9f000, 0x100000-0x1000000} numbers
// 0x1000 as bit 0, 0x9e000 as bit 157 and 0x100000 as bit 158.
func TestMemoryBitmap(t *testing.T) {
	b, _ := Memory(AMD64, 3, false)
	raw, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	const bitmapOff = 0x3000 // after the header, msgbuf and dump_avail pages
	bm := raw[bitmapOff : bitmapOff+0x1000]
	want := map[int]bool{}
	for _, pa := range []int{0x1000, 0x2000, 0x9e000} {
		want[pa/0x1000-1] = true
	}
	for _, pa := range []int{0x100000, 0x200000, 0x300000, 0x301000, 0x400000, 0x401000} {
		want[158+(pa-0x100000)/0x1000] = true
	}
	for bit := range len(bm) * 8 {
		if got := bm[bit/8]&(1<<(bit%8)) != 0; got != want[bit] {
			t.Errorf("bit %d = %v", bit, got)
		}
	}
	// The first page of data is 0x1000's.
	if got := string(raw[0x5000 : 0x5000+20]); got != "fbsdtest phys 0x1000" {
		t.Errorf("first page %q", got)
	}
}
