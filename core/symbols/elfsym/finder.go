package elfsym

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/crashbench/crashbench/core/model"
)

// ntGNUBuildID is the type of the GNU build-id note.
const ntGNUBuildID = 3

// maxNoteSize bounds the note data read from one section or segment.
const maxNoteSize = 1 << 20

// Finder locates ELF files for modules under a list of directories.
//
// For a module named "libfoo.so" with build id "abcdef..." it tries, in
// each directory in order, "<dir>/libfoo.so", "<dir>/abcdef.../debuginfo"
// (debuginfod cache), "<dir>/.build-id/ab/cdef....debug" and
// "<dir>/.build-id/ab/cdef..." (GDB's debug-file-directory layout).
type Finder struct {
	Dirs []string
}

// Find returns the path of an ELF file for m whose GNU build id equals
// the module's (Module.BuildID, else Module.CodeID decoded from hex). When
// the module records no build id, only files without a build-id note are
// accepted. Files that are not ELF or do not match are skipped.
func (f *Finder) Find(m model.Module) (path string, ok bool) {
	if f == nil {
		return "", false
	}
	id := moduleBuildID(m)
	hexID := hex.EncodeToString(id)
	var rels []string
	if name := m.Name(); name != "" && name != "." && name != ".." {
		rels = append(rels, name)
	}
	if len(id) > 0 {
		rels = append(rels, filepath.Join(hexID, "debuginfo"))
		if len(hexID) > 2 {
			rels = append(rels,
				filepath.Join(".build-id", hexID[:2], hexID[2:]+".debug"),
				filepath.Join(".build-id", hexID[:2], hexID[2:]))
		}
	}
	for _, dir := range f.Dirs {
		for _, rel := range rels {
			p := filepath.Join(dir, rel)
			if matches(p, id) {
				return p, true
			}
		}
	}
	return "", false
}

// moduleBuildID returns the module's GNU build id: BuildID, else CodeID
// when it is hex (a PE CodeID is hex too, but then no ELF note matches).
func moduleBuildID(m model.Module) []byte {
	if len(m.BuildID) > 0 {
		return m.BuildID
	}
	if m.CodeID != "" {
		if b, err := hex.DecodeString(strings.TrimSpace(m.CodeID)); err == nil && len(b) > 0 {
			return b
		}
	}
	return nil
}

// matches reports whether the file at p is ELF with build id id (or with
// none when id is empty).
func matches(p string, id []byte) (ok bool) {
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	fh, err := os.Open(p)
	if err != nil {
		return false
	}
	defer fh.Close()
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	ef, err := elf.NewFile(fh)
	if err != nil {
		return false
	}
	defer ef.Close()
	got, _ := buildID(ef)
	if len(id) == 0 {
		return got == nil
	}
	return bytes.Equal(got, id)
}

// BuildID returns the GNU build id of the ELF file at path, nil when it
// has none.
func BuildID(path string) (id []byte, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	defer func() {
		if p := recover(); p != nil {
			id, err = nil, fmt.Errorf("malformed ELF: %v", p)
		}
	}()
	ef, err := elf.NewFile(fh)
	if err != nil {
		return nil, err
	}
	defer ef.Close()
	return buildID(ef)
}

// buildID returns the desc of the first NT_GNU_BUILD_ID note in the
// file's SHT_NOTE sections, else its PT_NOTE segments (stripped files may
// lack section headers).
func buildID(ef *elf.File) ([]byte, error) {
	for _, s := range ef.Sections {
		if s.Type != elf.SHT_NOTE || s.Size == 0 || s.Size > maxNoteSize {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		if id := gnuBuildID(b, ef.ByteOrder); id != nil {
			return id, nil
		}
	}
	for _, p := range ef.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz == 0 || p.Filesz > maxNoteSize {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			continue
		}
		if id := gnuBuildID(b, ef.ByteOrder); id != nil {
			return id, nil
		}
	}
	return nil, nil
}

// gnuBuildID scans a run of ELF notes for NT_GNU_BUILD_ID owned by "GNU".
func gnuBuildID(b []byte, bo binary.ByteOrder) []byte {
	for len(b) >= 12 {
		namesz, descsz, typ := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		b = b[12:]
		nameEnd := (namesz + 3) &^ 3
		if nameEnd > uint64(len(b)) {
			return nil
		}
		name := b[:namesz]
		b = b[nameEnd:]
		descEnd := (descsz + 3) &^ 3
		if descsz > uint64(len(b)) {
			return nil
		}
		desc := b[:descsz]
		if descEnd > uint64(len(b)) {
			descEnd = uint64(len(b))
		}
		b = b[descEnd:]
		if typ == ntGNUBuildID && string(bytes.TrimRight(name, "\x00")) == "GNU" && len(desc) > 0 {
			return bytes.Clone(desc)
		}
	}
	return nil
}
