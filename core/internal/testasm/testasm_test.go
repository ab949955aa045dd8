package testasm

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestLabelsResolveForward(t *testing.T) {
	t.Parallel()
	count, dir := NewLabel("count"), NewLabel("dir")
	s := New(binary.LittleEndian).D32(0x504d444d).L32(count).L32(dir)
	s.Mark(dir).D16(0xbeef)
	count.Set(3)
	got, err := s.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{'M', 'D', 'M', 'P', 3, 0, 0, 0, 12, 0, 0, 0, 0xef, 0xbe}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

func TestBigEndianAndAppendSection(t *testing.T) {
	t.Parallel()
	l := NewLabel("x")
	inner := New(binary.BigEndian).L64(l)
	s := New(binary.BigEndian).D16(1).AppendSection(inner).Align(4)
	l.Set(0x0102030405060708)
	got := s.MustBytes()
	want := []byte{0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

func TestUndefinedLabel(t *testing.T) {
	t.Parallel()
	if _, err := New(binary.LittleEndian).L32(NewLabel("never")).Bytes(); err == nil {
		t.Fatal("no error for an undefined label")
	}
}
