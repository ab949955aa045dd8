package vmcore

import (
	"bytes"
	"strconv"
	"time"
)

// maxVMCOREINFO caps the VMCOREINFO text read from a dump. The kernel sizes
// its buffer VMCOREINFO_BYTES = PAGE_SIZE (4 KiB to 64 KiB); makedumpfile
// copies it verbatim. A larger claim is damage.
const maxVMCOREINFO = 1 << 20

// ParseVMCOREINFO splits VMCOREINFO text into its KEY=VALUE lines
// ("OSRELEASE=6.1.0-26-amd64", "SYMBOL(swapper_pg_dir)=ffffffff9b210000").
// The text ends at the first NUL (note descriptors are NUL-padded). Lines
// without '=' or with an empty key are skipped; trailing '\r's are dropped. When a
// key repeats, the first value wins, as in makedumpfile's and crash's lookups,
// which search from the top. Values are returned verbatim: SYMBOL() values are
// hexadecimal without 0x, NUMBER() values signed decimal, CRASHTIME decimal
// seconds.
func ParseVMCOREINFO(b []byte) map[string]string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	m := make(map[string]string)
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, "\r")
		eq := bytes.IndexByte(line, '=')
		if eq <= 0 {
			continue
		}
		k := string(line[:eq])
		if _, dup := m[k]; dup {
			continue
		}
		m[k] = string(line[eq+1:])
	}
	return m
}

// crashTime returns CRASHTIME (decimal Unix seconds, written by
// crash_save_vmcoreinfo when the kernel entered __crash_kexec).
func crashTime(m map[string]string) (time.Time, bool) {
	s, ok := m["CRASHTIME"]
	if !ok {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0).UTC(), true
}

// vmcoreinfoDetailKeys are the VMCOREINFO entries worth showing in a header
// summary, in display order: page size, KASLR offset, the kernel page-table
// root and phys_base (which together make kernel virtual addresses readable),
// and the build ID for finding a matching vmlinux.
var vmcoreinfoDetailKeys = []string{
	"PAGESIZE",
	"KERNELOFFSET",
	"SYMBOL(swapper_pg_dir)",
	"NUMBER(phys_base)",
	"BUILD-ID",
	"CRASHTIME",
}
