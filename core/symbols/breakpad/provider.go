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
type Dir struct {
	Roots []string
	Opts  Options
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
			continue
		}
		if err != nil {
			return nil, err
		}
		f, err := ParseOptions(fh, d.Opts)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("breakpad: %s: %w", path, err)
		}
		f.source = path
		return f, nil
	}
	return nil, fmt.Errorf("breakpad: no %s under %d roots: %w", rel, len(d.Roots), symtab.ErrNoSymbols)
}
