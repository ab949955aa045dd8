package pdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Finder locates the PDB of a module under local directories, trying for
// each root in order the symbol-server layout and then a flat file:
//
//	<root>/<pdbname>/<ID>/<pdbname>   (symstore, e.g. amdppm.pdb/1C19…F31/amdppm.pdb)
//	<root>/<pdbname>
//
// where pdbname is the file name of the module's DebugFile (either path
// spelling) and ID its DebugID in upper case. A flat file is used only
// when its own ID matches the module's DebugID.
type Finder struct {
	Roots []string
}

// Candidates returns the paths Find tries for m, in order, and false when
// m has no PDB name or debug id.
func (fd Finder) Candidates(m model.Module) ([]string, bool) {
	name := model.Module{Path: m.DebugFile}.Name()
	if name == "" || name == "." || name == ".." || m.DebugID == "" || strings.ContainsAny(m.DebugID, `/\.`) {
		return nil, false
	}
	id := strings.ToUpper(m.DebugID)
	var out []string
	for _, r := range fd.Roots {
		out = append(out, filepath.Join(r, name, id, name), filepath.Join(r, name))
	}
	return out, true
}

// Find opens the first candidate PDB whose ID matches m.DebugID. It
// returns an error wrapping symbols.ErrNoSymbols when there is none, and
// the error of a matching-path file that cannot be read.
func (fd Finder) Find(ctx context.Context, m model.Module) (*File, error) {
	paths, ok := fd.Candidates(m)
	if !ok {
		return nil, fmt.Errorf("pdb: module %s has no PDB name or debug id: %w", m.Name(), symtab.ErrNoSymbols)
	}
	var mismatched []error
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// A missing path, or one through a flat file (ENOTDIR), is no
		// candidate.
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			symtab.Tracef(ctx, "pdb: %s: not found", p)
			continue
		}
		f, err := Open(p)
		if err != nil {
			symtab.Tracef(ctx, "pdb: %s: %v", p, err)
			return nil, err
		}
		if !strings.EqualFold(f.ID(), m.DebugID) {
			// WinDbg's "mismatched pdb": same name, another build.
			symtab.Tracef(ctx, "pdb: %s: mismatched: id %s, the module wants %s", p, f.ID(), strings.ToUpper(m.DebugID))
			mismatched = append(mismatched, &symtab.MismatchError{Path: p, Have: f.ID(), Want: strings.ToUpper(m.DebugID)})
			f.Close()
			continue
		}
		symtab.Tracef(ctx, "pdb: %s: found", p)
		return f, nil
	}
	if len(mismatched) > 0 {
		return nil, fmt.Errorf("pdb: no PDB with id %s for %s: %w", m.DebugID, m.Name(), errors.Join(mismatched...))
	}
	return nil, fmt.Errorf("pdb: no %s/%s under %d roots: %w", model.Module{Path: m.DebugFile}.Name(), m.DebugID, len(fd.Roots), symtab.ErrNoSymbols)
}

// Provider is a symbols.Provider serving modules' PDBs: it finds the PDB,
// builds its Table and closes the file (a Table holds only decoded names
// and addresses, so no file stays open).
type Provider struct {
	Finder Finder
}

// NewProvider returns a provider using finder.
func NewProvider(finder Finder) *Provider { return &Provider{Finder: finder} }

// String names the provider for symbol-status displays.
func (p *Provider) String() string {
	return "pdb " + strings.Join(p.Finder.Roots, string(filepath.ListSeparator))
}

// Load returns the symbol table of m's PDB.
func (p *Provider) Load(ctx context.Context, m model.Module) (symtab.Table, error) {
	f, err := p.Finder.Find(ctx, m)
	if err != nil {
		return nil, err
	}
	// The file stays open (mapped) for the table: its line tables are
	// decoded on first lookup in each module.
	t, err := f.Table()
	if err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}
