package limetest

import (
	"encoding/binary"
	"testing"
)

func TestLayout(t *testing.T) {
	t.Parallel()
	b, err := New().Ranges(Range{Start: 0x1000, Size: 0x10}, Range{Start: 0x5000, Size: 2}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) != 2*32+0x12 {
		t.Fatalf("image is %d bytes", len(b))
	}
	if string(b[:4]) != "EMiL" || le.Uint32(b[4:]) != 1 || le.Uint64(b[8:]) != 0x1000 || le.Uint64(b[16:]) != 0x100f {
		t.Errorf("first header = % x", b[:32])
	}
	second := b[32+0x10:]
	if le.Uint64(second[8:]) != 0x5000 || le.Uint64(second[16:]) != 0x5001 {
		t.Errorf("second header = % x", second[:32])
	}
	if got := b[32 : 32+0x10]; string(got) != string(Data(0x1000, 0x10)) {
		t.Errorf("range data = % x", got)
	}
}
