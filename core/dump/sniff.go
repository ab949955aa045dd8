package dump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/crashbench/crashbench/core/internal/elfx"
)

// formatOffset is the fallback for errors that carry no format offset.
func formatOffset(err error) (int64, string) {
	var ee *elfx.Error
	if errors.As(err, &ee) {
		return ee.Off, ee.What
	}
	return 0, err.Error()
}

// sniff describes a file no dump format claimed: what it looks like, the
// offset that shows it, and why it is not a dump. It is for error messages
// only; nothing is opened on its word.
func sniff(r io.ReaderAt, size int64) (looks string, off int64, what string) {
	if size == 0 {
		return "an empty file", 0, "no dump header (the file is empty)"
	}
	head := make([]byte, min(size, 4096))
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case elfx.IsELF(head):
		return sniffELF(head)
	case len(head) >= 2 && string(head[:2]) == "MZ":
		return "a Windows PE image (executable or DLL)", 0, "\"MZ\" header of a program, not a dump: open the .dmp file instead"
	case bytes.HasPrefix(head, []byte("Microsoft C/C++ MSF 7.00")):
		return "a PDB symbol file", 0, "MSF 7.00 signature of a symbol file, not a dump: add its folder to the symbol path instead"
	case bytes.HasPrefix(head, []byte("Microsoft C/C++ program database 2.00")):
		return "a PDB 2.0 symbol file", 0, "program database signature, not a dump"
	case bytes.HasPrefix(head, []byte("MODULE ")):
		return "a Breakpad symbol file", 0, "\"MODULE\" record of a Breakpad .sym file, not a dump: pass its folder with --sympath"
	case bytes.HasPrefix(head, []byte("\xfe\xed\xfa\xce")), bytes.HasPrefix(head, []byte("\xfe\xed\xfa\xcf")),
		bytes.HasPrefix(head, []byte("\xce\xfa\xed\xfe")), bytes.HasPrefix(head, []byte("\xcf\xfa\xed\xfe")):
		return "a Mach-O file", 0, "Mach-O header; macOS cores are not supported, but Crashpad/Breakpad minidumps are"
	case bytes.HasPrefix(head, []byte("%PDF")):
		return "a PDF document", 0, "no dump signature"
	case isText(head):
		return "a text file", 0, "printable text, no dump signature"
	}
	return "unrecognized binary data", 0, fmt.Sprintf("no known dump signature (first bytes % x)", head[:min(len(head), 8)])
}

func sniffELF(head []byte) (string, int64, string) {
	if len(head) < 18 {
		return "a truncated ELF file", int64(len(head)), "ELF header cut short"
	}
	var order binary.ByteOrder = binary.LittleEndian
	if head[5] == elfx.ELFDATA2MSB {
		order = binary.BigEndian
	}
	switch order.Uint16(head[16:]) {
	case elfx.ET_EXEC:
		return "an ELF executable", 16, "e_type is ET_EXEC, not ET_CORE: this is a program, not a core dump (pass it beside the core for symbols)"
	case elfx.ET_DYN:
		return "an ELF shared object or PIE executable", 16, "e_type is ET_DYN, not ET_CORE: this is a program or library, not a core dump"
	case 1:
		return "an ELF relocatable object", 16, "e_type is ET_REL, not ET_CORE"
	}
	return "an ELF file", 16, fmt.Sprintf("e_type %d is not ET_CORE", order.Uint16(head[16:]))
}

// isText reports whether b is UTF-8 without control characters other than
// whitespace.
func isText(b []byte) bool {
	if len(b) > 0 && !utf8.Valid(b) {
		// A multi-byte rune may be cut at the end of the buffer.
		cut := max(len(b)-3, 0)
		if !utf8.Valid(b[:cut]) {
			return false
		}
		b = b[:cut]
	}
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			return false
		}
	}
	return true
}
