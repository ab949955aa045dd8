package session

import (
	"context"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/secrets"
	"github.com/crashbench/crashbench/core/vmcore"
)

// ScanSecrets scans the dump's memory for what it would leak if shared:
// private keys, cloud keys, tokens, passwords (core/secrets). Findings in
// a module's image name the module. The values themselves are in the
// report only when show is set. A dump that holds no memory gives an
// empty report (no regions; its Summary says so). When ctx is cancelled
// the report so far comes back with the context's error. progress, when
// not nil, hears of the bytes scanned out of the total.
//
// Only the bytes the dump holds are scanned: not the module images found
// on the symbol path that Memory lays underneath them, which are this
// machine's files and not part of what would be shared. A kernel dump's
// physical memory is scanned rather than its kernel address space,
// because user processes' pages (where most secrets live) are mapped in
// no kernel address space, and physical memory holds each page once.
func (s *Session) ScanSecrets(ctx context.Context, show bool, progress func(done, total int64)) (*secrets.Report, error) {
	sp, what, physical := s.secretsMemory()
	var regions []secrets.Region
	if sp != nil {
		stacks := s.stackPointers()
		for r := range sp.Regions() {
			if r.State != mem.Committed || r.Size == 0 {
				continue
			}
			label := r.Label
			if label == "" && !physical {
				for _, p := range stacks {
					if r.Contains(p) {
						label = "stack"
						break
					}
				}
			}
			regions = append(regions, secrets.Region{Start: r.Start, Size: r.Size, Label: label})
		}
	}
	var m secrets.Reader = emptyMemory{}
	if sp != nil {
		m = sp
	}
	rep, err := secrets.Scan(ctx, m, regions, secrets.Options{Show: show, Progress: progress})
	rep.Space, rep.Physical = what, physical
	if !physical {
		mods := s.dumpModules()
		for i := range rep.Findings {
			f := &rep.Findings[i]
			for _, mo := range mods {
				if !mo.Unloaded && mo.Contains(f.Addr) {
					f.Module = mo.Name()
					break
				}
			}
		}
	}
	return rep, err
}

// secretsMemory returns the memory the dump itself holds and says what it
// is: a kernel dump's physical memory where the format gives it, else the
// target's own address space; nil when the dump holds none.
func (s *Session) secretsMemory() (sp mem.Space, what string, physical bool) {
	t := s.d.Target
	if isKernel(t.Info().Format) {
		if vf, ok := t.(*vmcore.File); ok {
			if _, _, split := vf.SplitPart(); split {
				// The kernel joins the parts of a split vmcore.
				if k, err := s.linuxKernel(); err == nil && k.Physical() != nil {
					return k.Physical(), "physical memory", true
				}
			}
		}
		if pm, ok := t.(interface{ PhysicalMemory() (mem.Space, error) }); ok {
			if m, err := pm.PhysicalMemory(); err == nil && m != nil {
				return m, "physical memory", true
			}
		}
		if ps, ok := t.(interface{ PhysicalSpace() (*mem.Runs, error) }); ok {
			if m, err := ps.PhysicalSpace(); err == nil && m != nil {
				return m, "physical memory", true
			}
		}
	}
	if mr, ok := t.(model.MemoryReader); ok {
		if m, err := mr.Memory(); err == nil && m != nil {
			if isKernel(t.Info().Format) {
				return m, "kernel memory", false
			}
			return m, "process memory", false
		}
	}
	return nil, "", false
}

// stackPointers returns the threads' stack pointers, to label the regions
// holding their stacks.
func (s *Session) stackPointers() []uint64 {
	ts, err := s.Threads()
	if err != nil {
		return nil
	}
	var sps []uint64
	for _, t := range ts {
		if t.Context != nil {
			sps = append(sps, t.Context.SP())
		}
		if t.StackSize > 0 {
			sps = append(sps, t.StackStart)
		}
	}
	return sps
}

// dumpModules returns the modules the dump records (not those named with
// --image, which are no part of it).
func (s *Session) dumpModules() []model.Module {
	if ml, ok := s.d.Target.(model.ModuleLister); ok {
		if mods, err := ml.Modules(); err == nil {
			return mods
		}
	}
	return nil
}
