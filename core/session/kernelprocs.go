package session

import (
	"context"
	"fmt"
	"strings"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/ctype"
)

// KernelProcesses lists a Windows kernel dump's processes for !process:
// with the EPROCESS layout from nt's symbols when the symbol path has
// them (loading them, as WinDbg's !process needs them), else as
// kdmp.Processes finds it. note says what the list lacks and why ("" when
// nothing); other dumps give their ProcessLister's list.
func (s *Session) KernelProcesses(ctx context.Context) (procs []model.KernelProcess, note string, err error) {
	defer s.useLoadContext(ctx)()
	if k, err := s.linuxKernel(); err == nil {
		procs, err := k.Processes()
		return procs, "", err
	}
	f, ok := s.d.Target.(*kdmp.File)
	if !ok {
		pl, ok := s.d.Target.(model.ProcessLister)
		if !ok {
			return nil, "", fmt.Errorf("a %s has no kernel process list", s.d.Target.Info().Format)
		}
		procs, err = pl.Processes()
		return procs, "", err
	}
	offs, oerr := s.ntProcessOffsets()
	if oerr == nil {
		procs, err = f.ProcessesWithOffsets(offs)
		if err == nil {
			return procs, "", nil
		}
		note = fmt.Sprintf("nt's symbols do not fit this kernel (%v); ids and names found by searching the list", err)
	} else {
		note = fmt.Sprintf("ids and names found by searching the list: nt has no type information (%v); .symfix and .reload load ntkrnlmp.pdb", oerr)
	}
	procs, err = f.Processes()
	return procs, note, err
}

// ntProcessOffsets reads the EPROCESS layout from nt's type information.
func (s *Session) ntProcessOffsets() (kdmp.ProcessOffsets, error) {
	src, err := s.Symbols().Types("nt")
	if err != nil {
		return kdmp.ProcessOffsets{}, err
	}
	ep, ok := src.Type("_EPROCESS")
	if !ok || ep.Incomplete {
		return kdmp.ProcessOffsets{}, fmt.Errorf("nt's types have no _EPROCESS")
	}
	return kdmp.ProcessOffsets{
		ActiveProcessLinks:           fieldOffset(ep, "ActiveProcessLinks"),
		UniqueProcessId:              fieldOffset(ep, "UniqueProcessId"),
		ImageFileName:                fieldOffset(ep, "ImageFileName"),
		InheritedFromUniqueProcessId: fieldOffset(ep, "InheritedFromUniqueProcessId"),
		DirectoryTableBase:           fieldOffset(ep, "Pcb.DirectoryTableBase"),
		ThreadListHead:               fieldOffset(ep, "Pcb.ThreadListHead"),
		Size:                         int64(ep.Size),
	}, nil
}

// fieldOffset returns the offset of a dotted field path in t ("Pcb.
// DirectoryTableBase"), -1 when a part is missing.
func fieldOffset(t *ctype.Type, path string) int64 {
	var off uint64
	for _, name := range strings.Split(path, ".") {
		u := t.Underlying()
		if u == nil {
			return -1
		}
		found := false
		for _, f := range u.Fields {
			if f.Name == name {
				off += f.Offset
				t, found = f.Type, true
				break
			}
		}
		if !found {
			return -1
		}
	}
	return int64(off)
}
