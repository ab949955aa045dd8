package breakpad

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Dir is a symbols.Provider over Breakpad symbol directories, the layout
// minidump_stackwalk and symupload use:
//
//	<root>/<debug_file>/<DEBUG_ID>/<debug_file without .pdb>.sym
//
// for example test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym,
// or libc.so.6/<ID>/libc.so.6.sym for ELF modules, whose debug file is the
// module file itself. Roots are tried in order.
//
// Fetch, when set, is asked after the roots fail, with the debug file's
// name, the debug id and the .sym file's name: a Breakpad symbol server
// keeps the same layout (symbols.mozilla.org/xul.pdb/<ID>/xul.sym), and
// symsrv.Clients.FetchFile downloads from one into a cache laid out the
// same way.
type Dir struct {
	Roots []string
	Opts  Options
	Fetch func(ctx context.Context, name, key, file string) (string, error)
}

// NewDir returns a provider searching roots in order.
func NewDir(roots ...string) *Dir { return &Dir{Roots: roots} }

// String names the provider for symbol-status displays.
func (d *Dir) String() string {
	return "breakpad " + strings.Join(d.Roots, string(filepath.ListSeparator))
}

// RelPath returns the path of m's symbol file relative to a root, and
// false when m lacks a debug id. The debug file's directory part, in
// either spelling, is dropped.
func RelPath(m model.Module) (string, bool) {
	debugFile := m.DebugFile
	if debugFile == "" {
		debugFile = m.Name()
	}
	debugFile = model.Module{Path: debugFile}.Name()
	if debugFile == "" || m.DebugID == "" || strings.ContainsAny(m.DebugID, `/\`) || debugFile == ".." || debugFile == "." {
		return "", false
	}
	sym := debugFile
	if len(sym) > 4 && strings.EqualFold(sym[len(sym)-4:], ".pdb") {
		sym = sym[:len(sym)-4]
	}
	return filepath.Join(debugFile, strings.ToUpper(m.DebugID), sym+".sym"), true
}

// Load finds and parses m's symbol file. It returns an error wrapping
// symbols.ErrNoSymbols when no root has one, and the parse or I/O error
// when one exists but cannot be read.
func (d *Dir) Load(ctx context.Context, m model.Module) (symtab.Table, error) {
	rel, ok := RelPath(m)
	if !ok {
		return nil, fmt.Errorf("breakpad: module %s has no debug id: %w", m.Name(), symtab.ErrNoSymbols)
	}
	for _, root := range d.Roots {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		path := filepath.Join(root, rel)
		fh, err := os.Open(path)
		// ENOTDIR: a flat file (name.pdb itself) where the store layout
		// wants a folder; not this store's layout, so not found here.
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			symtab.Tracef(ctx, "breakpad: %s: not found", path)
			continue
		}
		if err != nil {
			return nil, err
		}
		return d.parse(ctx, fh, path)
	}
	if d.Fetch != nil {
		parts := strings.Split(filepath.ToSlash(rel), "/")
		path, err := d.Fetch(ctx, parts[0], parts[1], parts[2])
		if err == nil {
			fh, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			f, err := d.parse(ctx, fh, path)
			if err == nil && !strings.EqualFold(f.Module.ID, m.DebugID) {
				return nil, fmt.Errorf("breakpad: the server's %s has id %s, not %s: %w", path, f.Module.ID, m.DebugID, symtab.ErrNoSymbols)
			}
			return f, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("breakpad: no %s under %d roots: %w", rel, len(d.Roots), symtab.ErrNoSymbols)
}

// parse reads the symbol file open in fh, which it closes.
func (d *Dir) parse(ctx context.Context, fh *os.File, path string) (*File, error) {
	f, err := ParseOptions(fh, d.Opts)
	fh.Close()
	if err != nil {
		symtab.Tracef(ctx, "breakpad: %s: %v", path, err)
		return nil, fmt.Errorf("breakpad: %s: %w", path, err)
	}
	symtab.Tracef(ctx, "breakpad: %s: found", path)
	f.source = path
	return f, nil
}
