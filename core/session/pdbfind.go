package session

import (
	"context"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/breakpad"
	"github.com/crashbench/crashbench/core/symbols/image"
	"github.com/crashbench/crashbench/core/symbols/pdb"
)

// imageDebugID reads the CodeView (RSDS) record of the PE image at path:
// the PDB file name and the symbol-store key of the PDB (GUID as
// Microsoft prints it, then the age in hex), what a kernel driver found
// in a symbol store says about its PDB when the dump itself does not
// (triage dumps record no CodeView records).
func imageDebugID(path string) (pdbName, id string, ok bool) {
	mf, err := mem.OpenFile(path)
	if err != nil {
		return "", "", false
	}
	defer mf.Close()
	f, err := pe.NewFile(mf)
	if err != nil {
		return "", "", false
	}
	var dir pe.DataDirectory
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		if len(oh.DataDirectory) > pe.IMAGE_DIRECTORY_ENTRY_DEBUG {
			dir = oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_DEBUG]
		}
	case *pe.OptionalHeader32:
		if len(oh.DataDirectory) > pe.IMAGE_DIRECTORY_ENTRY_DEBUG {
			dir = oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_DEBUG]
		}
	}
	const entrySize, codeView = 28, 2 // IMAGE_DEBUG_DIRECTORY, IMAGE_DEBUG_TYPE_CODEVIEW
	if dir.Size == 0 || dir.Size > 64*entrySize {
		return "", "", false
	}
	entries, ok := readRVA(f, dir.VirtualAddress, dir.Size)
	if !ok {
		return "", "", false
	}
	for off := 0; off+entrySize <= len(entries); off += entrySize {
		e := entries[off:]
		if binary.LittleEndian.Uint32(e[12:]) != codeView {
			continue
		}
		size, raw := binary.LittleEndian.Uint32(e[16:]), binary.LittleEndian.Uint32(e[24:])
		if size < 24 || size > 4096 {
			continue
		}
		cv := make([]byte, size)
		if _, err := mf.ReadAt(cv, int64(raw)); err != nil || string(cv[:4]) != "RSDS" {
			continue
		}
		g := cv[4:20]
		name := cv[24:]
		if i := strings.IndexByte(string(name), 0); i >= 0 {
			name = name[:i]
		}
		id = fmt.Sprintf("%08X%04X%04X%X%X", binary.LittleEndian.Uint32(g), binary.LittleEndian.Uint16(g[4:]),
			binary.LittleEndian.Uint16(g[6:]), g[8:16], binary.LittleEndian.Uint32(cv[20:]))
		// The record may hold a full build path: the store keys by file name.
		return filepath.Base(strings.ReplaceAll(string(name), `\`, "/")), id, true
	}
	return "", "", false
}

// readRVA reads size bytes at an RVA of the image from the section that
// holds it.
func readRVA(f *pe.File, rva, size uint32) ([]byte, bool) {
	for _, s := range f.Sections {
		if rva >= s.VirtualAddress && rva+size <= s.VirtualAddress+max(s.VirtualSize, s.Size) {
			b := make([]byte, size)
			if _, err := s.ReadAt(b, int64(rva-s.VirtualAddress)); err != nil {
				return nil, false
			}
			return b, true
		}
	}
	return nil, false
}

// pdbProvider loads a module's PDB: by the module's own DebugFile and
// DebugID when the dump records them (minidumps), else by the CodeView
// record of its image found on the symbol path (kernel triage dumps record
// none); from the local folders and stores first, then from the symbol
// servers of srv* entries, whose downloads land in their cache.
type pdbProvider struct {
	local  *pdb.Provider
	images *image.Finder
	fetch  func(ctx context.Context, name, key string) (string, error) // nil without servers
}

func (p pdbProvider) String() string { return "pdb symbols" } // lm's name for the source, as WinDbg prints it

func (p pdbProvider) Load(ctx context.Context, m model.Module) (symbols.Table, error) {
	if m.DebugFile == "" || m.DebugID == "" {
		path, ok := p.images.FindContext(ctx, m)
		if !ok {
			return nil, fmt.Errorf("pdb: %s records no PDB and its image is not found: %w", m.Name(), symbols.ErrNoSymbols)
		}
		name, id, ok := imageDebugID(path)
		if !ok {
			return nil, fmt.Errorf("pdb: %s has no CodeView record: %w", path, symbols.ErrNoSymbols)
		}
		m.DebugFile, m.DebugID = name, id
	}
	t, err := p.local.Load(ctx, m)
	if err == nil || !errors.Is(err, symbols.ErrNoSymbols) || p.fetch == nil {
		return t, err
	}
	name := model.Module{Path: m.DebugFile}.Name()
	path, ferr := p.fetch(ctx, name, strings.ToUpper(m.DebugID))
	if ferr != nil {
		return nil, err
	}
	if isBreakpadText(path) {
		// A store may keep a Breakpad text file in the PDB's place
		// (symbolicator's test store does); it names frames as well.
		return openBreakpadAs(path, m)
	}
	f, ferr := pdb.Open(path)
	if ferr != nil {
		return nil, ferr
	}
	if !strings.EqualFold(f.ID(), m.DebugID) {
		f.Close()
		return nil, fmt.Errorf("pdb: the server's %s has id %s, not %s: %w", name, f.ID(), m.DebugID, symbols.ErrNoSymbols)
	}
	return f.Table() // the file stays mapped for the table's lazy line reads
}

// isBreakpadText reports whether the file at path starts with a Breakpad
// MODULE line.
func isBreakpadText(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 7)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "MODULE "
}

// openBreakpadAs parses the Breakpad file at path as m's symbols, which it
// must be: its MODULE line names m's debug id.
func openBreakpadAs(path string, m model.Module) (symbols.Table, error) {
	f, err := breakpad.Open(path)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(f.Module.ID, m.DebugID) {
		return nil, fmt.Errorf("breakpad: %s has id %s, not %s: %w", path, f.Module.ID, m.DebugID, symbols.ErrNoSymbols)
	}
	return f, nil
}
