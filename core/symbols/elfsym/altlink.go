package elfsym

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"

	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
)

// dwz supplementary files. A debug file that dwz processed names, in
// .gnu_debugaltlink, the file holding what it shares with others: the
// file's path (absolute, or relative to the debug file) then its build
// id. Distributions install it under /usr/lib/debug/.dwz/ and link it by
// build id as <debugdir>/.build-id/xx/rest.debug, and debuginfod serves
// it as the build id's debuginfo. GDB looks for it in the same places.

// altLink is a .gnu_debugaltlink: the supplementary file's name and
// build id.
type altLink struct {
	name string
	id   []byte
}

// readAltLink returns f's link to its supplementary file: dwz's
// .gnu_debugaltlink, else DWARF 5's .debug_sup (section 7.3.6: version 5,
// is_supplementary 0, the file name, a checksum that dwz fills with the
// supplementary file's id); ok is false when it has neither.
func readAltLink(f *elf.File) (altLink, bool) {
	if b, ok := smallSection(f, ".gnu_debugaltlink"); ok {
		i := bytes.IndexByte(b, 0)
		if i <= 0 || len(b)-i-1 < 8 {
			return altLink{}, false
		}
		return altLink{name: string(b[:i]), id: bytes.Clone(b[i+1:])}, true
	}
	if b, ok := smallSection(f, ".debug_sup"); ok {
		if sup, name, sum, ok := parseDebugSup(b, f.ByteOrder); ok && !sup && name != "" && len(sum) >= 8 {
			return altLink{name: name, id: sum}, true
		}
	}
	return altLink{}, false
}

// parseDebugSup reads a .debug_sup section: whether the file is itself
// the supplementary file, the name of the one it refers to, and the
// checksum.
func parseDebugSup(b []byte, order binary.ByteOrder) (isSup bool, name string, sum []byte, ok bool) {
	if len(b) < 4 || order.Uint16(b) != 5 {
		return false, "", nil, false
	}
	isSup = b[2] != 0
	rest := b[3:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return false, "", nil, false
	}
	name, rest = string(rest[:i]), rest[i+1:]
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return false, "", nil, false
	}
	return isSup, name, bytes.Clone(rest[k : k+int(n)]), true
}

// smallSection returns the contents of f's section name when it is
// present with data and small (a link, not a table).
func smallSection(f *elf.File, name string) ([]byte, bool) {
	sec := f.Section(name)
	if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Size > 4096 {
		return nil, false
	}
	b, err := sec.Data()
	return b, err == nil
}

// supID returns the id a supplementary file answers to: its GNU build id,
// else the checksum of its own .debug_sup (DWARF 5 files made by dwz -5
// have no build-id note).
func supID(p string) ([]byte, bool) {
	if info, ok := inspect(p); ok && len(info.buildID) > 0 {
		return info.buildID, true
	}
	ef, err := elf.Open(p)
	if err != nil {
		return nil, false
	}
	defer ef.Close()
	b, ok := smallSection(ef, ".debug_sup")
	if !ok {
		return nil, false
	}
	if isSup, _, sum, ok := parseDebugSup(b, ef.ByteOrder); ok && isSup && len(sum) > 0 {
		return sum, true
	}
	return nil, false
}

// findAlt returns the supplementary file of link for the debug file at
// referrer: the path it names (under Sysroot when absolute, else beside
// referrer), then by build id in each debug directory's .build-id tree,
// in Dirs (a .build-id tree or a debuginfod cache), and from Fetch. Only
// a file with the link's build id is taken.
func (f *Finder) findAlt(ctx context.Context, link altLink, referrer string) (string, bool) {
	if f == nil {
		f = &Finder{}
	}
	var cands []string
	if filepath.IsAbs(link.name) {
		if p := f.hostPath(filepath.ToSlash(link.name)); p != "" {
			cands = append(cands, p)
		}
	} else if referrer != "" {
		cands = append(cands, filepath.Join(filepath.Dir(referrer), link.name))
	}
	hexID := hex.EncodeToString(link.id)
	if rel := buildIDPath(hexID, ".debug"); rel != "" {
		for _, d := range f.debugDirs() {
			cands = append(cands, filepath.Join(d, rel))
		}
		for _, dir := range f.Dirs {
			cands = append(cands, filepath.Join(dir, rel), filepath.Join(dir, hexID, KindDebuginfo))
		}
	}
	for _, p := range cands {
		if id, ok := supID(p); ok && bytes.Equal(id, link.id) && !sameFile(p, referrer) {
			return p, true
		}
	}
	if f.Fetch != nil {
		if p, err := f.Fetch(ctx, link.id, KindDebuginfo); err == nil {
			if id, ok := supID(p); ok && bytes.Equal(id, link.id) {
				return p, true
			}
		}
	}
	return "", false
}

// maxAltFile bounds a supplementary file read whole (glibc's is a few
// MiB; the largest distribution ones are a few hundred).
const maxAltFile = 1 << 30

// loadAlt reads the supplementary file at path, nil when it cannot.
func loadAlt(path string) *dwarftab.Alt {
	if st, err := os.Stat(path); err != nil || st.Size() > maxAltFile {
		return nil
	}
	ef, err := elf.Open(path)
	if err != nil {
		return nil
	}
	defer ef.Close()
	d, err := ef.DWARF()
	if err != nil {
		return nil
	}
	var str []byte
	if sec := ef.Section(".debug_str"); sec != nil {
		if str, err = sec.Data(); err != nil {
			return nil
		}
	}
	return dwarftab.NewAlt(d, str)
}

// altCache keeps the supplementary files a provider loaded (or failed to),
// by path: one is shared by every library of a source package.
type altCache struct {
	mu   sync.Mutex
	alts map[string]*dwarftab.Alt
}

func (c *altCache) get(path string) *dwarftab.Alt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.alts[path]; ok {
		return a
	}
	a := loadAlt(path)
	if c.alts == nil {
		c.alts = map[string]*dwarftab.Alt{}
	}
	c.alts[path] = a
	return a
}
