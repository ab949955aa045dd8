package bin

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func TestCursorSticky(t *testing.T) {
	t.Parallel()
	c := New([]byte{1, 0, 2, 0, 0, 0, 9}, 0x100, binary.LittleEndian)
	if got := c.U16(); got != 1 {
		t.Fatalf("U16 = %d, want 1", got)
	}
	if got := c.U32(); got != 2 {
		t.Fatalf("U32 = %d, want 2", got)
	}
	if got := c.U32(); got != 0 {
		t.Fatalf("short U32 = %d, want 0", got)
	}
	if got := c.U8(); got != 0 {
		t.Fatalf("U8 after error = %d, want 0 (sticky)", got)
	}
	var se *ShortError
	if !errors.As(c.Err(), &se) || se.Off != 0x106 || se.Need != 4 || se.Have != 1 {
		t.Fatalf("err = %#v, want ShortError at 0x106 need 4 have 1", c.Err())
	}
	if !errors.Is(c.Err(), io.ErrUnexpectedEOF) {
		t.Fatalf("err does not match io.ErrUnexpectedEOF")
	}
}

func TestCursorBigEndianAndStrings(t *testing.T) {
	t.Parallel()
	c := New([]byte{0, 0, 0, 7, 'a', 'b', 0, 'z', 0, 'h', 0, 'i', 0, 0}, 0, binary.BigEndian)
	if got := c.U32(); got != 7 {
		t.Fatalf("U32 = %d", got)
	}
	if got := c.CString(4); got != "ab" {
		t.Fatalf("CString = %q", got)
	}
	if got := UTF16(c.Bytes(6), binary.BigEndian); got != "hi" {
		t.Fatalf("UTF16 = %q", got)
	}
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
	c.Seek(100)
	if c.Err() == nil {
		t.Fatal("Seek past end: no error")
	}
}
