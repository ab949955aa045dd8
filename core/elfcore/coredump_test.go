package elfcore

import (
	"encoding/binary"
	"testing"
	"time"
)

func TestParseCoredumpName(t *testing.T) {
	t.Parallel()
	// As systemd 252 names them (coredump.c: make_filename), comm escaped
	// with \xNN for "/", "." and " ".
	c, ok := ParseCoredumpName("core.my\\x2eapp.1000.0b3a1f3e2d4c4b5a9f8e7d6c5b4a3928.4242.1763852580123456.zst")
	if !ok {
		t.Fatal("not parsed")
	}
	want := Coredump{Comm: "my.app", UID: 1000, BootID: "0b3a1f3e2d4c4b5a9f8e7d6c5b4a3928", PID: 4242,
		Time: time.Date(2025, 11, 22, 23, 3, 0, 123456000, time.UTC)}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	for _, bad := range []string{
		"core.4242", // the kernel's core_pattern default
		"core.crashc.sigsegv",
		"core.x.1000.nothex-nothex-nothex-nothex-nothex12.1.2.zst",
		"core.x.1000.0b3a1f3e2d4c4b5a9f8e7d6c5b4a3928.notapid.1.zst",
		"vmcore.x.1000.0b3a1f3e2d4c4b5a9f8e7d6c5b4a3928.1.2",
	} {
		if _, ok := ParseCoredumpName(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestNTFileWideFieldsOn32Bit reads an NT_FILE whose fields are 64-bit in
// a 32-bit core, as lldb's mipsel o32 test core has it.
func TestNTFileWideFieldsOn32Bit(t *testing.T) {
	t.Parallel()
	le := binary.LittleEndian
	var d []byte
	for _, v := range []uint64{1, 4096, 0x400000, 0x401000, 0} {
		d = le.AppendUint64(d, v)
	}
	d = append(d, "/home/u/a.out\x00"...)
	files, ok := parseNTFile(d, 4, le)
	if !ok || len(files) != 1 || files[0] != (MappedFile{Start: 0x400000, End: 0x401000, Name: "/home/u/a.out"}) {
		t.Fatalf("files %+v ok %v", files, ok)
	}
	// The same mapping with 32-bit fields stays as it is.
	var n []byte
	for _, v := range []uint32{1, 4096, 0x400000, 0x401000, 2} {
		n = le.AppendUint32(n, v)
	}
	n = append(n, "/bin/x\x00"...)
	files, ok = parseNTFile(n, 4, le)
	if !ok || len(files) != 1 || files[0] != (MappedFile{Start: 0x400000, End: 0x401000, Offset: 0x2000, Name: "/bin/x"}) {
		t.Fatalf("32-bit: files %+v ok %v", files, ok)
	}
}
