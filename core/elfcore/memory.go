package elfcore

import (
	"cmp"
	"fmt"
	"iter"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// Memory returns the process address space: each PT_LOAD's first p_filesz
// bytes at p_vaddr, read from the file at p_offset. The rest of a segment
// (p_filesz < p_memsz: pages the kernel did not dump) and segments with
// p_filesz 0 are absent: reads there fault with mem.NotInDump. A segment
// that overlaps an earlier one, or wraps the address space, is dropped with
// a diagnostic. The space is built once.
//
// Its Regions are the process's mappings rather than the dumped runs: one
// per PT_LOAD (a VMA: the kernel writes one for every mapping, dumped or
// not) with the protections of p_flags, split where the dumped bytes end
// into a mem.Committed and a mem.Absent part, plus any NT_FILE mapping no
// PT_LOAD covers (mem.Absent, protections unknown and shown as none).
// Labels name what is mapped: model.FileLabel for file mappings (the path
// and the file offset of the region's first byte, from NT_FILE), "[stack]" for the
// main thread's stack, "[stack:TID]" for another thread's, "[vdso]" (from
// AT_SYSINFO_EHDR in NT_AUXV) and "[vsyscall]" for x86-64's fixed page;
// other anonymous memory has none.
func (f *File) Memory() (mem.Space, error) { return f.memory() }

func (f *File) buildMemory() (mem.Space, error) {
	const name = "elfcore"
	var runs []mem.Mapping
	for _, p := range f.Progs {
		if p.Type != elfx.PT_LOAD || p.Filesz == 0 || p.Memsz == 0 {
			continue
		}
		n := min(p.Filesz, p.Memsz)
		if n-1 > math.MaxUint64-p.Vaddr || n-1 > math.MaxUint64-p.Off {
			f.diag(model.Warning, -1, fmt.Sprintf("PT_LOAD %#x of %#x bytes wraps the address space: ignored", p.Vaddr, n))
			continue
		}
		runs = append(runs, mem.Mapping{Addr: p.Vaddr, Len: n, BaseAddr: p.Off})
	}
	slices.SortStableFunc(runs, func(a, b mem.Mapping) int { return cmp.Compare(a.Addr, b.Addr) })
	kept := runs[:0]
	for _, r := range runs {
		if len(kept) > 0 {
			prev := kept[len(kept)-1]
			if r.Addr <= prev.Addr+prev.Len-1 {
				f.diag(model.Warning, -1, fmt.Sprintf("PT_LOAD %#x overlaps PT_LOAD %#x: ignored", r.Addr, prev.Addr))
				continue
			}
		}
		kept = append(kept, r)
	}
	rs, err := mem.NewRuns(mem.NewFile(f.r, f.size, name+" file"), name, kept)
	if err != nil {
		return nil, err
	}
	return &coreSpace{Runs: rs, regions: sync.OnceValue(f.buildRegions)}, nil
}

// coreSpace reads through the dumped runs but lists the process's mappings
// (see Memory). Embedding *mem.Runs keeps it a mem.Mapper.
type coreSpace struct {
	*mem.Runs
	regions func() []mem.Region
}

// Regions yields the mappings in address order.
func (s *coreSpace) Regions() iter.Seq[mem.Region] {
	rs := s.regions()
	return func(yield func(mem.Region) bool) {
		for _, r := range rs {
			if !yield(r) {
				return
			}
		}
	}
}

// segment is a PT_LOAD as a half-open range, with the dumped prefix.
type segment struct {
	start, size, dumped uint64
	prot                mem.Prot
}

// loadSegments returns the PT_LOADs sorted by address, without empty,
// wrapping and overlapping ones (buildMemory diagnoses those).
func (f *File) loadSegments() []segment {
	var segs []segment
	for _, p := range f.Progs {
		if p.Type != elfx.PT_LOAD || p.Memsz == 0 || p.Memsz-1 > math.MaxUint64-p.Vaddr {
			continue
		}
		dumped := min(p.Filesz, p.Memsz)
		if dumped > 0 && dumped-1 > math.MaxUint64-p.Off {
			dumped = 0 // buildMemory dropped it
		}
		segs = append(segs, segment{start: p.Vaddr, size: p.Memsz, dumped: dumped, prot: protOf(p.Flags)})
	}
	slices.SortStableFunc(segs, func(a, b segment) int { return cmp.Compare(a.start, b.start) })
	kept := segs[:0]
	for _, s := range segs {
		if len(kept) > 0 {
			if prev := kept[len(kept)-1]; s.start-prev.start < prev.size {
				continue
			}
		}
		kept = append(kept, s)
	}
	return kept
}

// protOf converts p_flags (PF_X 1, PF_W 2, PF_R 4) to mem.Prot.
func protOf(flags uint32) mem.Prot {
	var p mem.Prot
	if flags&4 != 0 {
		p |= mem.R
	}
	if flags&2 != 0 {
		p |= mem.W
	}
	if flags&1 != 0 {
		p |= mem.X
	}
	return p
}

func (f *File) buildRegions() []mem.Region {
	segs := f.loadSegments()
	l := f.labels()
	var out []mem.Region
	for _, s := range segs {
		if s.dumped > 0 {
			out = append(out, mem.Region{Start: s.start, Size: s.dumped, Prot: s.prot, State: mem.Committed, Label: l.at(s.start, s)})
		}
		if s.dumped < s.size {
			a := s.start + s.dumped
			out = append(out, mem.Region{Start: a, Size: s.size - s.dumped, Prot: s.prot, State: mem.Absent, Label: l.at(a, s)})
		}
	}
	// NT_FILE mappings (or parts) no PT_LOAD describes: known mapped, not
	// dumped, protections unrecorded.
	for _, m := range l.files {
		for _, g := range uncovered(m.Start, m.End, segs) {
			out = append(out, mem.Region{Start: g[0], Size: g[1] - g[0], State: mem.Absent, Label: model.FileLabel(m.Name, m.Offset+(g[0]-m.Start))})
		}
	}
	slices.SortStableFunc(out, func(a, b mem.Region) int { return cmp.Compare(a.Start, b.Start) })
	// Overlapping NT_FILE entries (a corrupt note) must not make regions
	// overlap: the first one listed wins.
	kept := out[:0]
	for _, r := range out {
		if len(kept) > 0 {
			if prev := kept[len(kept)-1]; r.Start-prev.Start < prev.Size {
				continue
			}
		}
		kept = append(kept, r)
	}
	return kept
}

// uncovered returns the parts of [start, end) that no segment covers.
func uncovered(start, end uint64, segs []segment) [][2]uint64 {
	var gaps [][2]uint64
	cur := start
	i := sort.Search(len(segs), func(i int) bool { return segs[i].start+(segs[i].size-1) >= start })
	for ; i < len(segs) && cur < end; i++ {
		s := segs[i]
		if s.start >= end {
			break
		}
		if s.start > cur {
			gaps = append(gaps, [2]uint64{cur, s.start})
		}
		last := s.start + (s.size - 1)
		if last >= end-1 {
			return gaps
		}
		cur = max(cur, last+1)
	}
	if cur < end {
		gaps = append(gaps, [2]uint64{cur, end})
	}
	return gaps
}

// mapLabels names addresses: the NT_FILE mappings (sorted by start) and the
// threads' stack pointers.
type mapLabels struct {
	files    []MappedFile
	stacks   []uint64 // SP of each thread
	tids     []uint64
	pid      uint64
	vsyscall bool   // x86-64: the fixed vsyscall page
	vdso     uint64 // AT_SYSINFO_EHDR: the vDSO's ELF header, 0 when unknown
}

func (f *File) labels() *mapLabels {
	l := &mapLabels{vsyscall: f.Header.Machine == elfx.EM_X86_64}
	if files, ok := f.MappedFiles(); ok {
		for _, m := range files {
			if m.End > m.Start {
				l.files = append(l.files, m)
			}
		}
		slices.SortStableFunc(l.files, func(a, b MappedFile) int { return cmp.Compare(a.Start, b.Start) })
	}
	if p := f.Info().Process; p != nil {
		l.pid = p.PID
	}
	l.vdso = f.auxv(atSysinfoEHdr)
	if ths, err := f.Threads(); err == nil {
		for _, t := range ths {
			if t.Context != nil {
				l.stacks = append(l.stacks, t.Context.SP())
				l.tids = append(l.tids, t.ID)
			}
		}
	}
	return l
}

// at labels address a of segment s: the file mapped there, else the stack
// of a thread whose SP lies in s, else the vDSO or x86-64's vsyscall page.
func (l *mapLabels) at(a uint64, s segment) string {
	i := sort.Search(len(l.files), func(i int) bool { return l.files[i].End > a })
	if i < len(l.files) && l.files[i].Start <= a {
		m := l.files[i]
		return model.FileLabel(m.Name, m.Offset+(a-m.Start))
	}
	for k, sp := range l.stacks {
		if sp >= s.start && sp-s.start < s.size {
			if l.tids[k] == l.pid || len(l.stacks) == 1 {
				return "[stack]"
			}
			return "[stack:" + strconv.FormatUint(l.tids[k], 10) + "]"
		}
	}
	if l.vdso != 0 && l.vdso >= s.start && l.vdso-s.start < s.size {
		return "[vdso]"
	}
	if l.vsyscall && s.start == 0xffffffffff600000 {
		return "[vsyscall]"
	}
	return ""
}

// atSysinfoEHdr is the auxv entry holding the vDSO's address.
const atSysinfoEHdr = 33

// auxv returns the value of auxiliary-vector entry typ from NT_AUXV (pairs
// of words: type, value; AT_NULL ends it), or 0.
func (f *File) auxv(typ uint64) uint64 {
	ws, order := f.Header.WordSize(), f.Header.Order
	word := func(b []byte) uint64 {
		if ws == 8 {
			return order.Uint64(b)
		}
		return uint64(order.Uint32(b))
	}
	for _, n := range f.Notes {
		if n.Type != NT_AUXV {
			continue
		}
		for d := n.Desc; len(d) >= 2*ws; d = d[2*ws:] {
			switch word(d) {
			case 0:
				return 0
			case typ:
				return word(d[ws:])
			}
		}
	}
	return 0
}
