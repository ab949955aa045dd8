// Package vmcoretest builds synthetic Linux kernel vmcores for tests: ELF
// /proc/vmcore files, makedumpfile kdump-compressed dumps and the flattened
// format that wraps either.
//
// The builders encode from the C layouts (the System V gABI, makedumpfile's
// diskdump_mod.h and makedumpfile.h, laid out with the C alignment rules of
// the dumped machine) and import nothing from package vmcore, so a field that
// is wrong in the parser fails a test instead of agreeing with itself.
//
// Defaults make a minimal valid dump that parses with zero diagnostics; each
// option changes one thing; damage (Truncate, Patch and the sizes that lie)
// is first-class.
//
//	b, err := vmcoretest.NewKdump(binary.LittleEndian).Status(vmcoretest.CompressedZstd).Bytes()
//	flat, err := vmcoretest.Flatten(vmcoretest.NewELF(binary.BigEndian).Machine(vmcoretest.EM_PPC64)).Order(vmcoretest.Reverse).Bytes()
package vmcoretest

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Dump is anything the package builds.
type Dump interface {
	// Bytes lays out the dump.
	Bytes() ([]byte, error)
}

// ReaderAt lays out d and returns a reader over it, for NewFile. It panics if
// the builder fails (an undefined label: a bug in the test).
func ReaderAt(d Dump) (io.ReaderAt, int64) {
	b, err := d.Bytes()
	if err != nil {
		panic(fmt.Sprintf("vmcoretest: %v", err))
	}
	return bytes.NewReader(b), int64(len(b))
}

// Defaults shared by the builders.
const (
	DefaultRelease   = "6.1.0-26-amd64"
	DefaultVersion   = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.112-1 (2024-09-30)"
	DefaultCrashTime = 1700000000 // CRASHTIME and the kdump timestamp
	DefaultCPUs      = 2
	DefaultPageSize  = 4096
)

// VMCOREINFO is an ordered list of KEY=VALUE entries, as the kernel writes
// them.
type VMCOREINFO struct {
	keys []string
	vals map[string]string
}

// DefaultVMCOREINFO returns the entries every default dump carries.
func DefaultVMCOREINFO() VMCOREINFO {
	var v VMCOREINFO
	v = v.Set("OSRELEASE", DefaultRelease)
	v = v.Set("PAGESIZE", "4096")
	v = v.Set("SYMBOL(swapper_pg_dir)", "ffffffff82a10000")
	v = v.Set("NUMBER(phys_base)", "0")
	v = v.Set("KERNELOFFSET", "0")
	v = v.Set("CRASHTIME", fmt.Sprint(DefaultCrashTime))
	return v
}

// Set returns v with key set (appended if new).
func (v VMCOREINFO) Set(key, value string) VMCOREINFO {
	w := VMCOREINFO{keys: slices.Clone(v.keys), vals: maps.Clone(v.vals)}
	if w.vals == nil {
		w.vals = map[string]string{}
	}
	if _, ok := w.vals[key]; !ok {
		w.keys = append(w.keys, key)
	}
	w.vals[key] = value
	return w
}

// Delete returns v without key.
func (v VMCOREINFO) Delete(key string) VMCOREINFO {
	w := VMCOREINFO{keys: slices.DeleteFunc(slices.Clone(v.keys), func(k string) bool { return k == key }), vals: maps.Clone(v.vals)}
	delete(w.vals, key)
	return w
}

// Text renders the entries, one "KEY=VALUE\n" line each.
func (v VMCOREINFO) Text() []byte {
	var sb strings.Builder
	for _, k := range v.keys {
		sb.WriteString(k + "=" + v.vals[k] + "\n")
	}
	return []byte(sb.String())
}
