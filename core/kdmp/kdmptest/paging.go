package kdmptest

import (
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math/bits"
	"slices"
	"unicode/utf16"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// This file adds memory to the builder: sparse physical pages, page tables
// mapping chosen kernel addresses (x64 4- and 5-level, x86 PAE and 32-bit,
// ARM64), Windows software PTEs, and a synthetic kernel with a
// KDDEBUGGER_DATA64 block, a loaded-module list, a process list with
// threads and a stack page. Structures are written field by field from
// their published definitions: Intel SDM vol. 3A ch. 4 and the Arm ARM D8
// for page tables, wdbgexts.h for KDDEBUGGER_DATA64, the Vergilius/ReactOS
// definitions of KLDR_DATA_TABLE_ENTRY, EPROCESS and KTHREAD, and
// MemProcFS's mm_win.c for the software PTE encodings.

// PsLoadedModuleList sets DUMP_HEADER.PsLoadedModuleList.
func (b *Builder) PsLoadedModuleList(v uint64) *Builder { b.psLoaded = v; return b }

// PsActiveProcessHead sets DUMP_HEADER.PsActiveProcessHead.
func (b *Builder) PsActiveProcessHead(v uint64) *Builder { b.psActive = v; return b }

// PfnDataBase sets DUMP_HEADER.PfnDataBase.
func (b *Builder) PfnDataBase(v uint64) *Builder { b.pfnDB = v; return b }

// Memory is sparse physical memory: page contents by PFN. Pages the memory
// holds are the pages a dump built from it stores.
type Memory struct {
	pages map[uint64]*[PageSize]byte
	next  uint64 // next PFN Alloc tries
}

// NewMemory returns an empty memory whose allocations start at PFN 0x100.
func NewMemory() *Memory { return &Memory{pages: map[uint64]*[PageSize]byte{}, next: 0x100} }

// Alloc adds a zeroed page and returns its physical address.
func (m *Memory) Alloc() uint64 {
	for m.pages[m.next] != nil {
		m.next++
	}
	m.pages[m.next] = new([PageSize]byte)
	m.next++
	return (m.next - 1) * PageSize
}

func (m *Memory) page(pfn uint64) *[PageSize]byte {
	p := m.pages[pfn]
	if p == nil {
		p = new([PageSize]byte)
		m.pages[pfn] = p
	}
	return p
}

// WritePhys stores data at physical address pa, adding pages as needed.
func (m *Memory) WritePhys(pa uint64, data []byte) {
	for len(data) > 0 {
		off := pa % PageSize
		n := copy(m.page(pa / PageSize)[off:], data)
		data, pa = data[n:], pa+uint64(n)
	}
}

// ReadPhys returns n bytes at pa; absent pages read as zeros.
func (m *Memory) ReadPhys(pa uint64, n int) []byte {
	out := make([]byte, n)
	for done := 0; done < n; {
		off := (pa + uint64(done)) % PageSize
		k := min(int(PageSize-off), n-done)
		if p := m.pages[(pa+uint64(done))/PageSize]; p != nil {
			copy(out[done:done+k], p[off:])
		}
		done += k
	}
	return out
}

// Has reports whether the memory holds the page of pa.
func (m *Memory) Has(pa uint64) bool { return m.pages[pa/PageSize] != nil }

// Drop removes the page of pa, so that dumps built from m lack it.
func (m *Memory) Drop(pa uint64) { delete(m.pages, pa/PageSize) }

// PFNs returns the page numbers the memory holds, ascending.
func (m *Memory) PFNs() []uint64 {
	out := make([]uint64, 0, len(m.pages))
	for p := range m.pages {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// runsOf coalesces ascending PFNs into runs.
func runsOf(pfns []uint64) []Run {
	var runs []Run
	for _, p := range pfns {
		if k := len(runs) - 1; k >= 0 && runs[k].BasePage+runs[k].PageCount == p {
			runs[k].PageCount++
			continue
		}
		runs = append(runs, Run{BasePage: p, PageCount: 1})
	}
	return runs
}

// Dump makes b store m's pages (as runs for a full dump, as the page set of
// a bitmap or RDMP dump) and assembles it with each page holding m's
// contents instead of PageData. Patches are applied last; Truncate cuts as
// usual. A bitmap dump stores only PFNs below 0x8000 (the builder's bitmap
// limit).
func (m *Memory) Dump(b *Builder) ([]byte, error) {
	pfns := m.PFNs()
	switch b.dumpType {
	case Full:
		b.runs = runsOf(pfns)
	case Bitmap, LiveKernelBitmap, KernelMemory, KernelAndUserMemory, CompleteMemory:
		b.pages = pfns
	}
	truncate, patches := b.truncate, b.patches
	b.truncate, b.patches = -1, nil
	out, err := b.Bytes()
	b.truncate, b.patches = truncate, patches
	if err != nil {
		return nil, err
	}
	for pfn, off := range b.pageOffsets(out) {
		if p := m.pages[pfn]; p != nil && off+PageSize <= len(out) {
			copy(out[off:], p[:])
		}
	}
	for _, p := range b.patches {
		if end := p.off + len(p.data); end > len(out) {
			out = append(out, make([]byte, end-len(out))...)
		}
		copy(out[p.off:], p.data)
	}
	if b.truncate >= 0 && b.truncate < len(out) {
		out = out[:b.truncate]
	}
	return out, nil
}

// pageOffsets maps each stored PFN to its file offset in the assembled
// (untruncated) dump out, following the layouts Bytes writes.
func (b *Builder) pageOffsets(out []byte) map[uint64]int {
	hdr := 0x1000
	if b.is64 {
		hdr = 0x2000
	}
	offs := map[uint64]int{}
	le := binary.LittleEndian
	switch b.dumpType {
	case Full:
		off := hdr
		for _, r := range b.runs {
			for i := range r.PageCount {
				offs[r.BasePage+i] = off
				off += PageSize
			}
		}
	case Bitmap, LiveKernelBitmap:
		if len(out) < hdr+0x28 {
			return offs
		}
		off := int(le.Uint64(out[hdr+0x20:])) // BMP_HEADER64.FirstPage
		limit := min(b.defaultBits(), maxBitmap)
		for _, p := range b.pages {
			if p < limit {
				offs[p] = off
				off += PageSize
			}
		}
	case KernelMemory, KernelAndUserMemory, CompleteMemory:
		if len(out) < hdr+0x20 {
			return offs
		}
		off := int(le.Uint64(out[hdr+0x18:])) // RDMP_HEADER64.FirstPageOffset
		for _, p := range b.pages {
			offs[p] = off
			off += PageSize
		}
	}
	return offs
}

// WriteSparseBitmap writes to w a bitmap dump (DumpType 5, "SDMP" unless b
// says otherwise) of a machine with totalPages physical pages, of which the
// pages of present and of m are stored. Only the headers, the bitmap and m's
// pages are written: the other stored pages are left as holes, so a 64 GiB
// dump costs no disk on file systems with sparse files. It returns the file
// size. RequiredDumpSpace is not meaningful in the result.
func (m *Memory) WriteSparseBitmap(w io.WriterAt, b *Builder, totalPages uint64, present []Run) (int64, error) {
	b.dumpType = Bitmap
	saved := b.pages
	b.pages = nil
	hdrBytes, err := b.Bytes()
	b.pages = saved
	if err != nil {
		return 0, err
	}
	hdr := 0x1000
	if b.is64 {
		hdr = 0x2000
	}
	bitmap := make([]byte, (totalPages+7)/8)
	set := func(p uint64) {
		if p < totalPages {
			bitmap[p/8] |= 1 << (p % 8)
		}
	}
	for _, r := range present {
		for i := range r.PageCount {
			set(r.BasePage + i)
		}
	}
	for p := range m.pages {
		set(p)
	}
	var count uint64
	for _, v := range bitmap {
		count += uint64(bits.OnesCount8(v))
	}
	first := uint64(hdr+0x38+len(bitmap)+PageSize-1) &^ (PageSize - 1)
	s := testasm.New(binary.LittleEndian)
	s.String(b.bmpSig, 4).Append([]byte("DUMP"))
	fill(s, 0x20-8)
	s.D64(first).D64(count).D64(totalPages)
	bmp, err := s.Bytes()
	if err != nil {
		return 0, err
	}
	for _, c := range []struct {
		off  int64
		data []byte
	}{{0, hdrBytes[:hdr]}, {int64(hdr), bmp}, {int64(hdr + 0x38), bitmap}} {
		if _, err := w.WriteAt(c.data, c.off); err != nil {
			return 0, err
		}
	}
	off := int64(first)
	for p := uint64(0); p < totalPages; p++ {
		if bitmap[p/8]&(1<<(p%8)) == 0 {
			if bitmap[p/8] == 0 {
				p |= 7 // skip the rest of an empty byte
			}
			continue
		}
		if pg := m.pages[p]; pg != nil {
			if _, err := w.WriteAt(pg[:], off); err != nil {
				return 0, err
			}
		}
		off += PageSize
	}
	// Give the file its full length (a hole up to the last page).
	if _, err := w.WriteAt([]byte{0}, off-1); err != nil {
		return 0, err
	}
	return off, nil
}

// Paging is a page-table format the builder can lay out.
type Paging int

const (
	PagingAMD64 Paging = iota // x64 4-level
	PagingLA57                // x64 5-level
	PagingPAE                 // x86 PAE
	PagingX86                 // x86 32-bit (PSE)
	PagingARM64               // AArch64 4 KiB granule, 48-bit
)

// String names the format.
func (p Paging) String() string {
	switch p {
	case PagingAMD64:
		return "amd64"
	case PagingLA57:
		return "la57"
	case PagingPAE:
		return "pae"
	case PagingX86:
		return "x86"
	case PagingARM64:
		return "arm64"
	}
	return fmt.Sprintf("paging(%d)", int(p))
}

type pagingSpec struct {
	shifts []uint // per level, top first
	bits   []uint
	entry  int
	frame  uint64
}

func (p Paging) spec() pagingSpec {
	switch p {
	case PagingLA57:
		return pagingSpec{[]uint{48, 39, 30, 21, 12}, []uint{9, 9, 9, 9, 9}, 8, 0x000ffffffffff000}
	case PagingPAE:
		return pagingSpec{[]uint{30, 21, 12}, []uint{2, 9, 9}, 8, 0x000ffffffffff000}
	case PagingX86:
		return pagingSpec{[]uint{22, 12}, []uint{10, 10}, 4, 0xfffff000}
	case PagingARM64:
		return pagingSpec{[]uint{39, 30, 21, 12}, []uint{9, 9, 9, 9}, 8, 0x0000fffffffff000}
	}
	return pagingSpec{[]uint{39, 30, 21, 12}, []uint{9, 9, 9, 9}, 8, 0x000ffffffffff000}
}

// Is64 reports whether the format belongs to a 64-bit kernel.
func (p Paging) Is64() bool { return p != PagingPAE && p != PagingX86 }

// Machine returns the MachineImageType of the format's machine.
func (p Paging) Machine() uint32 {
	switch p {
	case PagingPAE, PagingX86:
		return X86
	case PagingARM64:
		return ARM64
	}
	return AMD64
}

// Entry bits: x86 P, RW, A, D, PS, NX (SDM tables 4-14..4-20); ARM64
// valid, table/page, AF, PXN, UXN (Arm ARM D8.3).
const (
	x86Present = 1 << 0
	x86Write   = 1 << 1
	x86Access  = 1 << 5
	x86Dirty   = 1 << 6
	x86Large   = 1 << 7
	x86NX      = 1 << 63
	armValid   = 1 << 0
	armTable   = 1 << 1
	armAF      = 1 << 10
	armPXN     = 1 << 53
	armUXN     = 1 << 54

	// Windows software PTE fields (MMPTE_SOFTWARE, MMPTE_TRANSITION,
	// MMPTE_PROTOTYPE): Protection bits 5..9 (MM_READWRITE is 4),
	// Prototype bit 10, Transition bit 11, SwizzleBit 4 (build 17134+).
	mmReadWrite   = 4 << 5
	pteProto      = 1 << 10
	pteTransition = 1 << 11
	pteSwizzle    = 1 << 4
)

// TransitionPTE returns a non-present PTE whose page (at pa) is still in
// RAM on a standby or modified list: Transition set, Prototype clear.
func (p Paging) TransitionPTE(pa uint64) uint64 {
	return pa&p.spec().frame | pteTransition | mmReadWrite
}

// PagedOutPTE returns a software PTE saying the page is at byte offset off
// (page-aligned) of page file pf (0..15). From build 17134 on PageFileLow is
// at bits 12..15 and the SwizzleBit is set (the offset is not swizzled);
// before, at bits 1..4. 32-bit paging keeps PageFileHigh at bits 12..31.
func (p Paging) PagedOutPTE(pf int, off uint64, build uint32) uint64 {
	page := off / PageSize
	if p == PagingX86 {
		return page<<12 | uint64(pf&0xf)<<1 | mmReadWrite
	}
	e := page<<32 | mmReadWrite
	if build >= 17134 {
		return e | uint64(pf&0xf)<<12 | pteSwizzle
	}
	return e | uint64(pf&0xf)<<1
}

// PrototypePTE returns a PTE referring to the prototype PTE at proto:
// ProtoAddress in bits 16..63 (x64), 32..63 (PAE), or scattered around the
// flag bits of 32-bit paging (the inverse of MemProcFS's
// MMWINX86_PTE_PROTOTYPE, which expects proto 16-byte aligned there).
func (p Paging) PrototypePTE(proto uint64) uint64 {
	switch p {
	case PagingPAE:
		return proto<<32 | pteProto
	case PagingX86:
		return (proto&0x3fc)>>1 | (proto&0x7ffffc00)<<1 | pteProto
	}
	return proto<<16 | pteProto
}

// AddressSpace builds a page-table hierarchy in a Memory.
type AddressSpace struct {
	mem    *Memory
	paging Paging
	root   uint64
}

// NewAddressSpace allocates an empty top-level table.
func (m *Memory) NewAddressSpace(p Paging) *AddressSpace {
	return &AddressSpace{mem: m, paging: p, root: m.Alloc()}
}

// DTB returns the DirectoryTableBase (the top table's physical address).
func (a *AddressSpace) DTB() uint64 { return a.root }

// Paging returns the format.
func (a *AddressSpace) Paging() Paging { return a.paging }

func (a *AddressSpace) read(pa uint64) uint64 {
	b := a.mem.ReadPhys(pa, a.paging.spec().entry)
	if len(b) == 4 {
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

func (a *AddressSpace) write(pa, v uint64) {
	b := make([]byte, a.paging.spec().entry)
	if len(b) == 4 {
		binary.LittleEndian.PutUint32(b, uint32(v))
	} else {
		binary.LittleEndian.PutUint64(b, v)
	}
	a.mem.WritePhys(pa, b)
}

// tableEntry is a present entry pointing at the table at pa.
func (a *AddressSpace) tableEntry(pa uint64, level int) uint64 {
	switch {
	case a.paging == PagingARM64:
		return pa | armValid | armTable
	case a.paging == PagingPAE && level == 0:
		return pa | x86Present // PDPTEs have no RW/A bits
	}
	return pa | x86Present | x86Write | x86Access
}

// EntryAddr returns the physical address of va's entry at level (0 is the
// top), creating present tables above it as needed.
func (a *AddressSpace) EntryAddr(va uint64, level int) uint64 {
	s := a.paging.spec()
	table := a.root
	for i := 0; ; i++ {
		idx := (va >> s.shifts[i]) & (1<<s.bits[i] - 1)
		addr := table + idx*uint64(s.entry)
		if i == level {
			return addr
		}
		e := a.read(addr)
		if !a.presentTable(e) {
			e = a.tableEntry(a.mem.Alloc(), i)
			a.write(addr, e)
		}
		table = e & s.frame
	}
}

func (a *AddressSpace) presentTable(e uint64) bool {
	if a.paging == PagingARM64 {
		return e&(armValid|armTable) == armValid|armTable
	}
	return e&x86Present != 0 || e&(pteProto|pteTransition) == pteTransition
}

// Levels returns the number of levels of the format.
func (a *AddressSpace) Levels() int { return len(a.paging.spec().shifts) }

// SetEntry stores a raw entry for va at level.
func (a *AddressSpace) SetEntry(va uint64, level int, e uint64) {
	a.write(a.EntryAddr(va, level), e)
}

// SetPTE stores a raw last-level entry for va (a software PTE, say).
func (a *AddressSpace) SetPTE(va, e uint64) { a.SetEntry(va, a.Levels()-1, e) }

// Map maps the 4 KiB page at va to the page at pa, writable and
// non-executable.
func (a *AddressSpace) Map(va, pa uint64) {
	pa &^= PageSize - 1
	var e uint64
	switch a.paging {
	case PagingARM64:
		e = pa | armValid | armTable | armAF | armPXN | armUXN
	case PagingX86:
		e = pa | x86Present | x86Write | x86Access | x86Dirty
	default:
		e = pa | x86Present | x86Write | x86Access | x86Dirty | x86NX
	}
	a.SetPTE(va, e)
}

// MapLarge maps a large page of size bytes (2 MiB or 1 GiB; 4 MiB for
// 32-bit paging) at va to pa. 32-bit paging stores physical bits 32..39 in
// entry bits 13..20 (PSE-36).
func (a *AddressSpace) MapLarge(va, pa, size uint64) error {
	s := a.paging.spec()
	level := -1
	for i, sh := range s.shifts[:len(s.shifts)-1] {
		if uint64(1)<<sh == size {
			level = i
		}
	}
	if level < 0 || (a.paging == PagingPAE && level == 0) || va%size != 0 || pa%size != 0 {
		return fmt.Errorf("kdmptest: no %#x-byte page at %#x -> %#x in %v paging", size, va, pa, a.paging)
	}
	var e uint64
	switch a.paging {
	case PagingARM64:
		e = pa | armValid | armAF | armPXN | armUXN
	case PagingX86:
		e = pa&0xffc00000 | (pa>>32&0xff)<<13 | x86Present | x86Write | x86Access | x86Dirty | x86Large
	default:
		e = pa | x86Present | x86Write | x86Access | x86Dirty | x86Large | x86NX
	}
	a.SetEntry(va, level, e)
	return nil
}

// Translate returns the physical address the builder mapped va to (4 KiB
// pages only), for tests checking a reader's translation.
func (a *AddressSpace) Translate(va uint64) (uint64, bool) { return a.translate(va) }

// translate follows present entries (and transition tables) to the
// physical address of va; ok is false at any other entry. Large pages are
// not followed: it serves the builder's own writes.
func (a *AddressSpace) translate(va uint64) (uint64, bool) {
	s := a.paging.spec()
	table := a.root
	for i := range s.shifts {
		idx := (va >> s.shifts[i]) & (1<<s.bits[i] - 1)
		e := a.read(table + idx*uint64(s.entry))
		leaf := i == len(s.shifts)-1
		ok := a.presentTable(e)
		if leaf {
			ok = e&1 != 0 || e&(pteProto|pteTransition|1) == pteTransition
		}
		if !ok {
			return 0, false
		}
		table = e & s.frame
	}
	return table | va&(PageSize-1), true
}

// Alloc maps fresh zeroed pages over [va, va+n).
func (a *AddressSpace) Alloc(va uint64, n uint64) {
	for p := va &^ (PageSize - 1); p < va+n; p += PageSize {
		if _, ok := a.translate(p); !ok {
			a.Map(p, a.mem.Alloc())
		}
	}
}

// Write stores data at va through 4 KiB mappings, which must exist.
func (a *AddressSpace) Write(va uint64, data []byte) error {
	for len(data) > 0 {
		pa, ok := a.translate(va)
		if !ok {
			return fmt.Errorf("kdmptest: %#x is not mapped", va)
		}
		n := min(len(data), int(PageSize-va%PageSize))
		a.mem.WritePhys(pa, data[:n])
		data, va = data[n:], va+uint64(n)
	}
	return nil
}

// Read returns n bytes at va through 4 KiB mappings (zeros where unmapped).
func (a *AddressSpace) Read(va uint64, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		k := min(n-len(out), int(PageSize-va%PageSize))
		pa, ok := a.translate(va)
		if ok {
			out = append(out, a.mem.ReadPhys(pa, k)...)
		} else {
			out = append(out, make([]byte, k)...)
		}
		va += uint64(k)
	}
	return out
}

// Offsets are the structure offsets the synthetic kernel uses: Windows 10
// 2004 x64 and Windows 10 x86 values (Vergilius).
type Offsets struct {
	EprocessSize       uint64
	DirectoryTableBase uint64 // KPROCESS.DirectoryTableBase
	ThreadListHead     uint64 // KPROCESS.ThreadListHead
	UniqueProcessID    uint64
	ActiveProcessLinks uint64
	ParentPID          uint64 // InheritedFromUniqueProcessId
	Peb                uint64
	ImageFileName      uint64
	EthreadSize        uint64
	KThreadApcProcess  uint64 // KTHREAD.ApcState.Process
	KThreadListEntry   uint64 // KTHREAD.ThreadListEntry
	LdrSize            uint64 // sizeof(KLDR_DATA_TABLE_ENTRY)
}

// OffsetsFor returns the offsets for a pointer size.
func OffsetsFor(is64 bool) Offsets {
	if is64 {
		return Offsets{0xa40, 0x28, 0x30, 0x440, 0x448, 0x540, 0x550, 0x5a8, 0x898, 0xb8, 0x2f8, 0xa0}
	}
	return Offsets{0x2c0, 0x18, 0x2c, 0xb4, 0xb8, 0x140, 0x1a8, 0x16c, 0x2b8, 0x50, 0x1e0, 0x5c}
}

// KernelModule is one loaded-module list entry the kernel holds.
type KernelModule struct {
	Entry         uint64 // KLDR_DATA_TABLE_ENTRY address
	Base, Size    uint64
	EntryPoint    uint64
	Path, Name    string // FullDllName, BaseDllName
	TimeDateStamp uint32
	CheckSum      uint32
	// Exports are written as the image's export table (name -> RVA) when
	// the PE header is resident.
	Exports  map[string]uint32
	PEHeader bool // the image's first page (with the PE header) is mapped
}

// KernelProcess is one EPROCESS the kernel holds.
type KernelProcess struct {
	EPROCESS  uint64
	PID, PPID uint64
	Name      string
	DTB       uint64
	Threads   []uint64 // KTHREAD addresses
	Space     *AddressSpace
}

// Machine is a synthetic Windows machine: a Memory holding page tables for
// the kernel and each process, KDDEBUGGER_DATA64, PsLoadedModuleList with
// three drivers, PsActiveProcessHead with System (PID 4) and two processes
// with threads, a stack page, large pages and the software PTE cases.
//
// The fields say where everything is; change the machine through Mem, AS
// and WritePtr before calling Bytes (damage included).
type Machine struct {
	Paging  Paging
	Build   uint32        // MinorVersion written by Configure; 19041
	Mem     *Memory       // all physical pages; the dump stores exactly these
	AS      *AddressSpace // the kernel's (and System's) page tables
	Ptr     int           // pointer size: 8 or 4
	Offsets Offsets       // structure offsets used

	KernBase            uint64 // ntoskrnl.exe's base
	KdDebuggerDataBlock uint64 // KDDEBUGGER_DATA64
	KDBGSize            uint32 // its Header.Size
	PsLoadedModuleList  uint64 // list heads
	PsActiveProcessHead uint64
	PfnDatabase         uint64 // MmPfnDatabase (a value only: not mapped)

	Modules   []KernelModule  // in load order
	Processes []KernelProcess // in list order, System first

	StackVA uint64 // a mapped page holding StackData
	// UserVA is mapped (to a page holding UserData) in the last process's
	// space only.
	UserVA uint64

	LargeVA, LargePA uint64 // a 2 MiB page (4 MiB with 32-bit paging) onto PA 0
	HugeVA, HugePA   uint64 // a 1 GiB page onto PA 0; 0 without 1 GiB pages

	TransitionVA, TransitionPA uint64 // a transition PTE
	// TransitionTableVA is mapped through a page table whose PDE is in
	// transition (the table page is on the standby list).
	TransitionTableVA, TransitionTablePA uint64
	PagedOutVA                           uint64 // a PTE paged out to PageFile at PageFileOffset
	PageFile                             int
	PageFileOffset                       uint64
	PrototypeVA, ProtoAddress            uint64 // a prototype PTE (not on ARM64)
	MissingTableVA                       uint64 // its page table is not in the dump
	MissingPageVA                        uint64 // mapped to a page the dump lacks

	next uint64 // kernel VA bump allocator
	err  error  // first layout error (see must)
}

// StackData is the content of the kernel's stack page: quadword i holds
// 0x5700000000000000 + i.
func StackData() []byte {
	b := make([]byte, PageSize)
	for i := 0; i < PageSize/8; i++ {
		binary.LittleEndian.PutUint64(b[8*i:], 0x5700000000000000+uint64(i))
	}
	return b
}

// UserData is the content of the last process's user page.
func UserData() []byte {
	b := make([]byte, PageSize)
	copy(b, "user page of notepad.exe")
	return b
}

// DefaultKernelBase returns where NewMachine places the kernel: in the
// x64/ARM64 system range, above 2 GiB for x86, and (LA57) at an address
// only 57-bit paging makes canonical.
func DefaultKernelBase(p Paging) uint64 {
	switch p {
	case PagingPAE, PagingX86:
		return 0x80000000
	case PagingLA57:
		return 0xff7ff80000000000
	}
	return 0xfffff80000000000
}

// NewMachine builds the machine with its kernel at DefaultKernelBase.
func NewMachine(p Paging) *Machine { return NewMachineAt(p, DefaultKernelBase(p)) }

// NewMachineAt builds the machine with the kernel image at base (1 GiB
// aligned).
func NewMachineAt(p Paging, base uint64) *Machine {
	return NewMachineWith(p, base, OffsetsFor(p.Is64()))
}

// NewMachineWith builds the machine with the kernel image at base and its
// structures laid out by o: a kernel whose layout the search in
// kdmp.Processes does not expect, as only symbols describe it.
func NewMachineWith(p Paging, base uint64, o Offsets) *Machine {
	m := NewMemory()
	k := &Machine{Paging: p, Build: 19041, Mem: m, AS: m.NewAddressSpace(p), Ptr: 4, KernBase: base}
	if p.Is64() {
		k.Ptr = 8
	}
	k.Offsets = o
	k.next = base + 0x100000
	k.PfnDatabase = base + 0x3000000
	k.build()
	return k
}

// alloc returns n bytes of mapped kernel memory aligned to 16.
func (k *Machine) alloc(n uint64) uint64 {
	va := (k.next + 15) &^ 15
	k.next = va + n
	k.AS.Alloc(va, n)
	return va
}

// must records the first error of the builder's own writes (an unmapped
// address means a bug in this file); Bytes returns it.
func (k *Machine) must(err error) {
	if err != nil && k.err == nil {
		k.err = err
	}
}

// WritePtr stores a pointer (4 or 8 bytes) at va.
func (k *Machine) WritePtr(va, v uint64) {
	b := make([]byte, k.Ptr)
	if k.Ptr == 8 {
		binary.LittleEndian.PutUint64(b, v)
	} else {
		binary.LittleEndian.PutUint32(b, uint32(v))
	}
	k.must(k.AS.Write(va, b))
}

func (k *Machine) write(va uint64, b []byte) { k.must(k.AS.Write(va, b)) }

func (k *Machine) u16(va uint64, v uint16) {
	k.write(va, binary.LittleEndian.AppendUint16(nil, v))
}

func (k *Machine) u32(va uint64, v uint32) {
	k.write(va, binary.LittleEndian.AppendUint32(nil, v))
}

// listInsert links the LIST_ENTRY at entry before head (at the tail).
func (k *Machine) listInsert(head, entry uint64) {
	ptr := uint64(k.Ptr)
	blink := k.readPtr(head + ptr)
	k.WritePtr(entry, head)
	k.WritePtr(entry+ptr, blink)
	k.WritePtr(blink, entry)
	k.WritePtr(head+ptr, entry)
}

func (k *Machine) listInit(head uint64) {
	k.WritePtr(head, head)
	k.WritePtr(head+uint64(k.Ptr), head)
}

func (k *Machine) readPtr(va uint64) uint64 {
	b := k.AS.Read(va, k.Ptr)
	if k.Ptr == 8 {
		return binary.LittleEndian.Uint64(b)
	}
	return uint64(binary.LittleEndian.Uint32(b))
}

// unicodeString writes a UNICODE_STRING {Length, MaximumLength, Buffer}
// at va with its buffer allocated separately.
func (k *Machine) unicodeString(va uint64, s string) {
	u := utf16.Encode([]rune(s))
	buf := k.alloc(uint64(2*len(u) + 2))
	raw := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(raw[2*i:], c)
	}
	k.write(buf, raw)
	k.u16(va, uint16(len(raw)))
	k.u16(va+2, uint16(len(raw)+2))
	k.WritePtr(va+uint64(k.Ptr), buf) // Buffer follows the two USHORTs, pointer-aligned
}

func (k *Machine) build() {
	ptr := uint64(k.Ptr)
	o := k.Offsets

	// KDDEBUGGER_DATA64 and the list heads live in the kernel's data.
	k.PsLoadedModuleList = k.alloc(2 * ptr)
	k.listInit(k.PsLoadedModuleList)
	k.PsActiveProcessHead = k.alloc(2 * ptr)
	k.listInit(k.PsActiveProcessHead)

	// Loaded modules: two with a resident PE header, one without.
	for i, m := range []KernelModule{
		{Base: k.KernBase, Size: 0x1046000, Path: `\SystemRoot\system32\ntoskrnl.exe`, Name: "ntoskrnl.exe", TimeDateStamp: 0x5f8d3e1a, CheckSum: 0xa8b61d, PEHeader: true,
			Exports: map[string]uint32{"KeBugCheckEx": 0x1000, "KeBugCheck": 0x1100, "ExAllocatePool2": 0x2000}},
		{Base: k.KernBase + 0x400000, Size: 0x6000, Path: `\SystemRoot\system32\hal.dll`, Name: "hal.dll", TimeDateStamp: 0x1b3f2a07, CheckSum: 0x12b4e, PEHeader: true},
		{Base: k.KernBase + 0x800000, Size: 0x9000, Path: `\SystemRoot\System32\drivers\mydrv.sys`, Name: "mydrv.sys", TimeDateStamp: 0x61a2b3c4},
	} {
		m.EntryPoint = m.Base + 0x1000 + uint64(i)
		if m.PEHeader {
			k.AS.Alloc(m.Base, PageSize)
			k.peHeader(m)
		}
		m.Entry = k.alloc(o.LdrSize)
		k.ldrEntry(m)
		k.listInsert(k.PsLoadedModuleList, m.Entry)
		k.Modules = append(k.Modules, m)
	}

	// Processes: System (the kernel's space), smss.exe, notepad.exe.
	for i, p := range []KernelProcess{
		{PID: 4, PPID: 0, Name: "System", Space: k.AS},
		{PID: 0x1a4, PPID: 4, Name: "smss.exe"},
		{PID: 0x1f30, PPID: 0x1a4, Name: "notepad.exe"},
	} {
		if p.Space == nil {
			p.Space = k.Mem.NewAddressSpace(k.Paging)
		}
		p.DTB = p.Space.DTB()
		p.EPROCESS = k.alloc(o.EprocessSize)
		e := p.EPROCESS
		k.write(e, []byte{3})                     // Pcb.Header.Type = ProcessObject
		k.WritePtr(e+o.DirectoryTableBase, p.DTB) // Pcb.DirectoryTableBase
		k.listInit(e + o.ThreadListHead)
		k.WritePtr(e+o.UniqueProcessID, p.PID)
		k.WritePtr(e+o.ParentPID, p.PPID)
		name := make([]byte, 15)
		copy(name, p.Name)
		k.write(e+o.ImageFileName, name)
		k.listInsert(k.PsActiveProcessHead, e+o.ActiveProcessLinks)
		for range 3 - i {
			t := k.alloc(o.EthreadSize)
			k.write(t, []byte{6}) // Tcb.Header.Type = ThreadObject
			k.WritePtr(t+o.KThreadApcProcess, e)
			k.listInsert(e+o.ThreadListHead, t+o.KThreadListEntry)
			p.Threads = append(p.Threads, t)
		}
		k.Processes = append(k.Processes, p)
	}
	last := k.Processes[len(k.Processes)-1]
	k.UserVA = 0x10000
	up := k.Mem.Alloc()
	last.Space.Map(k.UserVA, up)
	k.Mem.WritePhys(up, UserData())

	k.StackVA = k.alloc(2*PageSize) + PageSize
	k.StackVA &^= PageSize - 1
	k.write(k.StackVA, StackData())

	k.KdDebuggerDataBlock = k.alloc(0x400)
	k.writeKDBG()

	k.pageTableCases()
}

// peHeader writes the DOS header, "PE\0\0", IMAGE_FILE_HEADER and the
// optional header's CheckSum of m at its base.
func (k *Machine) peHeader(m KernelModule) {
	const lfanew = 0x80
	k.write(m.Base, []byte("MZ"))
	k.u32(m.Base+0x3c, lfanew)
	k.write(m.Base+lfanew, []byte("PE\x00\x00"))
	k.u16(m.Base+lfanew+4, uint16(k.Paging.Machine())) // Machine
	k.u32(m.Base+lfanew+8, m.TimeDateStamp)            // TimeDateStamp
	k.u32(m.Base+lfanew+24+64, m.CheckSum)             // OptionalHeader.CheckSum
	if len(m.Exports) > 0 {
		k.exportTable(m, lfanew+24)
	}
}

// exportTable writes an optional-header magic, the export data directory
// and IMAGE_EXPORT_DIRECTORY (winnt.h) with its three arrays and names in
// the header page, as a resident kernel image holds them: readers name
// frames from it without symbols (nt!KeBugCheckEx is an export).
func (k *Machine) exportTable(m KernelModule, opt uint64) {
	const dirRVA, funcsRVA, namesRVA, ordsRVA, strRVA = 0x400, 0x440, 0x480, 0x4c0, 0x500
	magic, dirs := uint16(0x20b), opt+112 // PE32+: DataDirectory at 112
	if k.Ptr == 4 {
		magic, dirs = 0x10b, opt+96 // PE32
	}
	k.u16(m.Base+opt, magic)
	k.u32(m.Base+dirs-4, 16) // NumberOfRvaAndSizes
	names := slices.Sorted(maps.Keys(m.Exports))
	k.u32(m.Base+dirs, dirRVA)
	k.u32(m.Base+dirs+4, uint32(strRVA+0x100-dirRVA))
	d := m.Base + dirRVA
	k.u32(d+16, 1)                  // Base (first ordinal)
	k.u32(d+20, uint32(len(names))) // NumberOfFunctions
	k.u32(d+24, uint32(len(names))) // NumberOfNames
	k.u32(d+28, funcsRVA)
	k.u32(d+32, namesRVA)
	k.u32(d+36, ordsRVA)
	str := uint64(strRVA)
	for i, n := range names {
		k.u32(m.Base+funcsRVA+4*uint64(i), m.Exports[n])
		k.u32(m.Base+namesRVA+4*uint64(i), uint32(str))
		k.u16(m.Base+ordsRVA+2*uint64(i), uint16(i))
		k.write(m.Base+str, append([]byte(n), 0))
		str += uint64(len(n)) + 1
	}
}

// ldrEntry writes KLDR_DATA_TABLE_ENTRY (Windows 10) field by field:
// InLoadOrderLinks, ExceptionTable, ExceptionTableSize, GpValue,
// NonPagedDebugInfo, DllBase, EntryPoint, SizeOfImage, FullDllName,
// BaseDllName, Flags, LoadCount, u1, SectionPointer, CheckSum,
// CoverageSectionSize, CoverageSection, LoadedImports, Spare,
// SizeOfImageNotRounded, TimeDateStamp.
func (k *Machine) ldrEntry(m KernelModule) {
	ptr := uint64(k.Ptr)
	ustr := 2*ptr + 0                    // sizeof(UNICODE_STRING): 16 or 8
	va := m.Entry + 2*ptr                // after InLoadOrderLinks
	va += ptr                            // ExceptionTable
	va = (va + 4 + ptr - 1) &^ (ptr - 1) // ExceptionTableSize, aligned
	va += 2 * ptr                        // GpValue, NonPagedDebugInfo
	k.WritePtr(va, m.Base)
	k.WritePtr(va+ptr, m.EntryPoint)
	va += 2 * ptr
	k.u32(va, uint32(m.Size))
	va = (va + 4 + ptr - 1) &^ (ptr - 1)
	k.unicodeString(va, m.Path)
	k.unicodeString(va+ustr, m.Name)
	va += 2 * ustr
	va += 4 + 2 + 2 // Flags, LoadCount, u1
	va += ptr       // SectionPointer
	k.u32(va, m.CheckSum)
	va += 4 + 4               // CheckSum, CoverageSectionSize
	va += 3 * ptr             // CoverageSection, LoadedImports, Spare
	k.u32(va, uint32(m.Size)) // SizeOfImageNotRounded
	k.u32(va+4, m.TimeDateStamp)
	if va+8 != m.Entry+k.Offsets.LdrSize {
		k.must(fmt.Errorf("kdmptest: KLDR_DATA_TABLE_ENTRY is %#x bytes, want %#x", va+8-m.Entry, k.Offsets.LdrSize))
	}
}

// kdbgSize is the Size the builder records: the structure up to
// OffsetPrcbExceptionStack (Windows 11), rounded to 8.
const kdbgSize = 0x3a0

// kdbgBytes lays out KDDEBUGGER_DATA64 in declaration order (wdbgexts.h).
// 32-bit kernels store sign-extended pointers.
func (k *Machine) kdbgBytes() []byte {
	s := testasm.New(binary.LittleEndian)
	ptr := func(v uint64) {
		if k.Ptr == 4 {
			v = uint64(int64(int32(uint32(v))))
		}
		s.D64(v)
	}
	q := func(n int) { s.Repeat(0, 8*n) } // ULONG64 fields left zero
	w := func(v uint64) { s.D16(uint16(v)) }
	o := k.Offsets
	// DBGKD_DEBUG_DATA_HEADER64: List (Flink, Blink), OwnerTag, Size.
	ptr(k.KdDebuggerDataBlock)
	ptr(k.KdDebuggerDataBlock)
	s.Append([]byte("KDBG")).D32(kdbgSize)
	ptr(k.KernBase) // KernBase
	q(2)            // BreakpointWithStatus, SavedContext
	w(0)            // ThCallbackStack
	w(0)            // NextCallback
	w(0)            // FramePointer
	pae := uint64(0)
	if k.Paging == PagingPAE {
		pae = 1
	}
	w(pae)                     // PaeEnabled:1
	q(2)                       // KiCallUserMode, KeUserCallbackDispatcher
	ptr(k.PsLoadedModuleList)  // PsLoadedModuleList
	ptr(k.PsActiveProcessHead) // PsActiveProcessHead
	// PspCidTable .. MmSystemCacheWs (13 fields), then MmPfnDatabase.
	q(13)
	ptr(k.PfnDatabase)
	// MmSystemPtesStart .. MmLoadedUserImageList (40 fields), NtBuildLab,
	// KiNormalSystemCall, KiProcessorBlock .. CmNtCSDVersion (11),
	// MmPhysicalMemoryBlock .. MmSystemParentTablePage (4),
	// MmVirtualTranslationBase.
	q(40 + 2 + 11 + 4 + 1)
	w(0)                    // OffsetKThreadNextProcessor
	w(0)                    // OffsetKThreadTeb
	w(0)                    // OffsetKThreadKernelStack
	w(0)                    // OffsetKThreadInitialStack
	w(o.KThreadApcProcess)  // OffsetKThreadApcProcess
	w(0)                    // OffsetKThreadState
	w(0)                    // OffsetKThreadBStore
	w(0)                    // OffsetKThreadBStoreLimit
	w(o.EprocessSize)       // SizeEProcess
	w(o.Peb)                // OffsetEprocessPeb
	w(o.ParentPID)          // OffsetEprocessParentCID
	w(o.DirectoryTableBase) // OffsetEprocessDirectoryTableBase
	for range 8 {
		w(0) // SizePrcb .. OffsetPrcbNumber
	}
	w(o.EthreadSize) // SizeEThread
	s.D8(0).D8(0)    // L1tfHighPhysicalBitIndex, L1tfSwizzleBitIndex
	s.D32(0)         // Padding0
	q(3)             // KdPrintCircularBufferPtr, KdPrintBufferSize, KeLoaderBlock
	for range 20 {
		w(0) // SizePcr .. Gdt64R3CmTeb
	}
	q(2 + 3 + 1) // IopNumTriageDumpDataBlocks, IopTriageDumpDataBlocks, Vf.., MmBad.., MmZeroed.., EtwpDebuggerData
	w(0)         // OffsetPrcbContext
	w(0)         // OffsetPrcbMaxBreakpoints
	w(0)         // OffsetPrcbMaxWatchpoints
	s.Align(4)
	s.D32(0).D32(0).D32(0).D32(0) // OffsetKThreadStackLimit, StackBase, QueueListEntry, OffsetEThreadIrpList
	for range 8 {
		w(0) // OffsetPrcbIdleThread .. Padding1
	}
	q(2)                   // PteBase, RetpolineStubFunctionTable
	s.D32(0).D32(0).D32(0) // RetpolineStubFunctionTableSize, Offset, Size
	w(0)                   // OffsetEProcessMmHotPatchContext
	s.Align(4)
	s.D32(0).D32(0) // OffsetKThreadShadowStackLimit, ShadowStackBase
	q(2)            // ShadowStackEnabled, PointerAuthMask
	w(0)            // OffsetPrcbExceptionStack
	s.Align(8)
	out, err := s.Bytes()
	k.must(err)
	return out
}

func (k *Machine) writeKDBG() {
	b := k.kdbgBytes()
	k.KDBGSize = kdbgSize
	k.write(k.KdDebuggerDataBlock, b)
}

// EncodeKDBG rewrites the KDDEBUGGER_DATA64 block encoded as Windows 8+
// keeps it (KdCopyDataBlock): each quadword d becomes
// ror(bswap(d ^ waitAlways) ^ dataBlockEncoded, waitNever & 0xff) ^
// waitNever, the inverse of the decoding in QEMU's elf2dmp.
func (k *Machine) EncodeKDBG(waitNever, waitAlways, dataBlockEncoded uint64) {
	b := k.kdbgBytes()
	for i := 0; i+8 <= len(b); i += 8 {
		d := binary.LittleEndian.Uint64(b[i:])
		w := bits.RotateLeft64(bits.ReverseBytes64(d^waitAlways)^dataBlockEncoded, -int(waitNever&0xff)) ^ waitNever
		binary.LittleEndian.PutUint64(b[i:], w)
	}
	k.write(k.KdDebuggerDataBlock, b)
}

// pageTableCases maps the large pages and writes the software PTEs.
func (k *Machine) pageTableCases() {
	base := k.KernBase
	large := uint64(2 << 20)
	if k.Paging == PagingX86 {
		large = 4 << 20
	}
	k.LargeVA, k.LargePA = base+0x10000000, 0
	k.must(k.AS.MapLarge(k.LargeVA, k.LargePA, large))
	if k.Paging != PagingPAE && k.Paging != PagingX86 {
		k.HugeVA, k.HugePA = base+0x40000000, 0
		k.must(k.AS.MapLarge(k.HugeVA, k.HugePA, 1<<30))
	}

	k.TransitionVA = base + 0x20000000
	k.TransitionPA = k.Mem.Alloc()
	k.Mem.WritePhys(k.TransitionPA, []byte("transition page"))
	k.AS.SetPTE(k.TransitionVA, k.Paging.TransitionPTE(k.TransitionPA))

	// A page table on the standby list: the PDE is a transition entry.
	k.TransitionTableVA = base + 0x20400000
	k.TransitionTablePA = k.Mem.Alloc()
	k.Mem.WritePhys(k.TransitionTablePA, []byte("behind a transition PDE"))
	k.AS.Map(k.TransitionTableVA, k.TransitionTablePA)
	pde := k.AS.EntryAddr(k.TransitionTableVA, k.AS.Levels()-2)
	pt := k.AS.read(pde) & k.Paging.spec().frame
	if k.Paging != PagingARM64 { // ARM64 has transition entries at the last level only
		k.AS.write(pde, k.Paging.TransitionPTE(pt))
	}

	k.PagedOutVA = base + 0x20800000
	k.PageFile, k.PageFileOffset = 2, 0x1234000
	k.AS.SetPTE(k.PagedOutVA, k.Paging.PagedOutPTE(k.PageFile, k.PageFileOffset, k.Build))

	if k.Paging != PagingARM64 {
		k.PrototypeVA = base + 0x20c00000
		k.ProtoAddress = base + 0x5010
		if k.Paging == PagingLA57 {
			// How LA57 kernels fit a 57-bit address in the 48-bit
			// ProtoAddress is not public: use one that fits.
			k.ProtoAddress = DefaultKernelBase(PagingAMD64) + 0x5010
		}
		k.AS.SetPTE(k.PrototypeVA, k.Paging.PrototypePTE(k.ProtoAddress))
	}

	k.MissingTableVA = base + 0x21000000
	k.AS.Map(k.MissingTableVA, k.Mem.Alloc())
	k.Mem.Drop(k.AS.read(k.AS.EntryAddr(k.MissingTableVA, k.AS.Levels()-2)) & k.Paging.spec().frame)

	k.MissingPageVA = base + 0x21400000
	k.AS.Map(k.MissingPageVA, 0x7ff0000) // PFN 0x7ff0 is never allocated
}

// Configure sets b's header for this kernel: machine, build, PAE flag,
// DirectoryTableBase, KdDebuggerDataBlock and the list heads.
func (k *Machine) Configure(b *Builder) *Builder {
	b.machine = k.Paging.Machine()
	b.build = k.Build
	b.pae = k.Paging == PagingPAE
	b.dtb = k.AS.DTB()
	b.kdDebug = k.KdDebuggerDataBlock
	b.psLoaded = k.PsLoadedModuleList
	b.psActive = k.PsActiveProcessHead
	b.pfnDB = k.PfnDatabase
	return b
}

// Bytes configures b for the kernel and assembles the dump with the
// kernel's memory.
func (k *Machine) Bytes(b *Builder) ([]byte, error) {
	if k.err != nil {
		return nil, k.err
	}
	return k.Mem.Dump(k.Configure(b))
}

// NewBuilder returns New() or New32() as the kernel's pointer size needs.
func (k *Machine) NewBuilder() *Builder {
	if k.Paging.Is64() {
		return New()
	}
	return New32()
}
