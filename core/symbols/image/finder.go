package image

import (
	"context"
	"debug/pe"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Finder locates module images under a list of directories.
//
// For a module named "foo.dll" it tries, in each directory in order,
// "<dir>/foo.dll" and the symbol-store path
// "<dir>/foo.dll/<TIMESTAMP><sizeofimage>/foo.dll" (TimeDateStamp as eight
// upper-case hex digits, SizeOfImage in lower-case hex as Microsoft's
// stores use; the all-upper-case and all-lower-case spellings and the
// module's own CodeID are tried too), each also with the name in lower
// case.
type Finder struct {
	Dirs []string
	// Fetch, when set, is asked after the folders fail, with the module's
	// file name and its symbol-store key (TimeDateStamp %08X, SizeOfImage
	// %x): a symbol-server client (core/symbols/symsrv) plugs in here. The
	// file it returns must match like any other.
	Fetch func(ctx context.Context, name, key string) (string, error)
}

// Find returns the path of an image file for m whose PE headers match the
// module: TimeDateStamp (when the module records one) and SizeOfImage
// (when the module's Size is known). Files that are not PE images or do
// not match are skipped.
func (f *Finder) Find(m model.Module) (path string, ok bool) {
	return f.FindContext(context.Background(), m)
}

// FindContext is Find under ctx: ctx cancels the Fetch, and a trace on
// ctx (symbols.WithTrace) hears of each file tried.
func (f *Finder) FindContext(ctx context.Context, m model.Module) (path string, ok bool) {
	if f == nil {
		return "", false
	}
	name := m.Name()
	if name == "" || name == "." || name == ".." {
		return "", false
	}
	stamp, haveStamp := moduleStamp(m)
	names := []string{name}
	if l := strings.ToLower(name); l != name {
		names = append(names, l)
	}
	var ids []string
	addID := func(id string) {
		if id == "" {
			return
		}
		for _, x := range ids {
			if x == id {
				return
			}
		}
		ids = append(ids, id)
	}
	if haveStamp && m.Size != 0 {
		addID(fmt.Sprintf("%08X%x", stamp, m.Size))
		addID(fmt.Sprintf("%08X%X", stamp, m.Size))
		// Stores copied from case-insensitive servers to a case-sensitive
		// disk are often all lower case (rizin's test store is).
		addID(fmt.Sprintf("%08x%x", stamp, m.Size))
	}
	addID(m.CodeID)
	addID(strings.ToUpper(m.CodeID))
	for _, dir := range f.Dirs {
		var cands []string
		for _, n := range names {
			cands = append(cands, filepath.Join(dir, n))
			for _, id := range ids {
				cands = append(cands, filepath.Join(dir, n, id, n))
			}
		}
		for _, p := range cands {
			if matches(p, m, stamp, haveStamp) {
				symtab.Tracef(ctx, "image: %s: found", p)
				return p, true
			}
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				symtab.Tracef(ctx, "image: %s: not this module's image (TimeDateStamp or SizeOfImage differ)", p)
			}
		}
	}
	if len(f.Dirs) > 0 {
		symtab.Tracef(ctx, "image: %s: not in %s", name, strings.Join(f.Dirs, ";"))
	}
	if f.Fetch != nil && haveStamp && m.Size != 0 && ctx.Err() == nil {
		p, err := f.Fetch(ctx, name, fmt.Sprintf("%08X%x", stamp, m.Size))
		if err == nil && matches(p, m, stamp, haveStamp) {
			return p, true
		}
		if err == nil {
			symtab.Tracef(ctx, "image: %s: downloaded, but not this module's image", p)
		}
	}
	return "", false
}

// moduleStamp returns the module's PE TimeDateStamp: from its CodeID
// (eight hex digits followed by SizeOfImage) or else its Time.
func moduleStamp(m model.Module) (uint32, bool) {
	if len(m.CodeID) > 8 {
		if v, err := strconv.ParseUint(m.CodeID[:8], 16, 32); err == nil {
			return uint32(v), true
		}
	}
	if !m.Time.IsZero() {
		if u := m.Time.Unix(); u > 0 && u <= 0xffffffff {
			return uint32(u), true
		}
	}
	return 0, false
}

// matches reports whether the file at p is a PE image whose headers agree
// with the module.
func matches(p string, m model.Module, stamp uint32, haveStamp bool) (ok bool) {
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
	pf, err := pe.NewFile(fh)
	if err != nil {
		return false
	}
	defer pf.Close()
	if haveStamp && pf.FileHeader.TimeDateStamp != stamp {
		return false
	}
	if m.Size != 0 {
		size, ok := sizeOfImage(pf)
		if !ok || uint64(size) != m.Size {
			return false
		}
	}
	return true
}

func sizeOfImage(f *pe.File) (uint32, bool) {
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		return oh.SizeOfImage, true
	case *pe.OptionalHeader64:
		return oh.SizeOfImage, true
	}
	return 0, false
}

func imageBase(f *pe.File) (uint64, bool) {
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		return uint64(oh.ImageBase), true
	case *pe.OptionalHeader64:
		return oh.ImageBase, true
	}
	return 0, false
}
