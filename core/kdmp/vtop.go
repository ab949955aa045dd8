package kdmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"sync"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// Paging names a page-table format. The walkers are one table-driven loop:
// each format is a list of levels (index bits, whether the level may map a
// page) plus the masks of its entries, as Volatility 3's Intel layers and
// MemProcFS's mm_x64/mm_x86pae/mm_x86/mm_arm64 describe them.
type Paging uint8

const (
	PagingUnknown Paging = iota
	// PagingAMD64 is x64 4-level paging (Intel SDM vol. 3A §4.5): PML4,
	// PDPT (1 GiB pages), PD (2 MiB pages), PT; 48-bit addresses.
	PagingAMD64
	// PagingAMD64LA57 is x64 5-level paging (CR4.LA57): a PML5 above the
	// PML4; 57-bit addresses.
	PagingAMD64LA57
	// PagingPAE is x86 PAE paging (§4.4): a 4-entry PDPT, PD (2 MiB pages),
	// PT, 8-byte entries.
	PagingPAE
	// PagingX86 is x86 32-bit paging (§4.3): PD (4 MiB pages, PSE-36), PT,
	// 4-byte entries.
	PagingX86
	// PagingARM64 is AArch64 stage-1 translation with a 4 KiB granule and
	// 48-bit addresses (Arm ARM D8.2): L0..L3, 1 GiB and 2 MiB blocks.
	// Windows keeps user and kernel halves in one table, so
	// DirectoryTableBase serves kernel addresses too (as MemProcFS walks
	// it).
	PagingARM64
)

// String returns the format's name, e.g. "x64 4-level".
func (p Paging) String() string {
	switch p {
	case PagingAMD64:
		return "x64 4-level"
	case PagingAMD64LA57:
		return "x64 5-level (LA57)"
	case PagingPAE:
		return "x86 PAE"
	case PagingX86:
		return "x86 32-bit"
	case PagingARM64:
		return "ARM64 4 KiB granule"
	}
	return fmt.Sprintf("paging(%d)", uint8(p))
}

// pteLevel is one level of a page-table walk.
type pteLevel struct {
	name  string // WinDbg's !pte name of the entry
	shift uint   // lowest virtual-address bit the level indexes
	bits  uint   // index width
	large bool   // an entry here may map a page (PS bit, ARM64 block)
}

// pagingFormat drives the walk.
type pagingFormat struct {
	paging Paging
	levels []pteLevel
	entry  uint64 // bytes per entry
	vaBits uint   // canonical virtual-address width
	frame  uint64 // entry bits addressing the next table or the page
	trans  uint64 // PFN bits of a Windows transition PTE
	root   uint64 // DirectoryTableBase bits addressing the top table
	arm    bool
}

// The level names follow WinDbg's !pte (PXE, PPE, PDE, PTE) for x64 and
// ARM64. Entry masks: x64 CR3/PTE frames are bits 12..51 (SDM table 4-19),
// PAE's PDPT is 32-byte aligned (CR3 bits 5..31), ARM64 output addresses are
// bits 12..49 as MemProcFS masks them (0x0003fffffffff000). Transition PFNs
// are MMPTE_TRANSITION.PageFrameNumber: 40 bits on x64, 26 with PAE, 20 on
// x86 (MemProcFS mm_win.c MMWIN*_PTE_TRANSITION).
var pagingFormats = [...]pagingFormat{
	PagingAMD64: {
		paging: PagingAMD64,
		levels: []pteLevel{{"PXE", 39, 9, false}, {"PPE", 30, 9, true}, {"PDE", 21, 9, true}, {"PTE", 12, 9, false}},
		entry:  8, vaBits: 48, frame: 0x000ffffffffff000, trans: 0x000ffffffffff000, root: 0x000ffffffffff000,
	},
	PagingAMD64LA57: {
		paging: PagingAMD64LA57,
		levels: []pteLevel{{"PML5E", 48, 9, false}, {"PXE", 39, 9, false}, {"PPE", 30, 9, true}, {"PDE", 21, 9, true}, {"PTE", 12, 9, false}},
		entry:  8, vaBits: 57, frame: 0x000ffffffffff000, trans: 0x000ffffffffff000, root: 0x000ffffffffff000,
	},
	PagingPAE: {
		paging: PagingPAE,
		levels: []pteLevel{{"PDPTE", 30, 2, false}, {"PDE", 21, 9, true}, {"PTE", 12, 9, false}},
		entry:  8, vaBits: 32, frame: 0x000ffffffffff000, trans: 0x0000003ffffff000, root: 0xffffffe0,
	},
	PagingX86: {
		paging: PagingX86,
		levels: []pteLevel{{"PDE", 22, 10, true}, {"PTE", 12, 10, false}},
		entry:  4, vaBits: 32, frame: 0xfffff000, trans: 0xfffff000, root: 0xfffff000,
	},
	PagingARM64: {
		paging: PagingARM64,
		levels: []pteLevel{{"PXE", 39, 9, false}, {"PPE", 30, 9, true}, {"PDE", 21, 9, true}, {"PTE", 12, 9, false}},
		entry:  8, vaBits: 48, frame: 0x0003fffffffff000, trans: 0x0003fffffffff000, root: 0x0000fffffffff000, arm: true,
	},
}

func formatOf(p Paging) *pagingFormat {
	if p == PagingUnknown || int(p) >= len(pagingFormats) {
		return nil
	}
	return &pagingFormats[p]
}

// canonical reports whether va is a valid address of the format: below
// 2^32 for x86, sign-extended from bit vaBits-1 otherwise.
func (pf *pagingFormat) canonical(va uint64) bool {
	if pf.vaBits == 32 {
		return va>>32 == 0
	}
	top := va >> (pf.vaBits - 1)
	return top == 0 || top == (uint64(1)<<(65-pf.vaBits))-1
}

// Windows software PTE bits (MMPTE_SOFTWARE / MMPTE_TRANSITION /
// MMPTE_PROTOTYPE, Windows Internals 7th ed. ch. 5 "Invalid PTEs"): a
// non-present entry with Transition set and Prototype clear still points at
// its page in RAM.
const (
	ptePresent    = 1 << 0
	pteLarge      = 1 << 7 // PS
	ptePrototype  = 1 << 10
	pteTransition = 1 << 11
	pteSwizzle    = 1 << 4 // MMPTE_SOFTWARE.SwizzleBit, build 17134+
	pteNX         = 1 << 63
	pteWrite      = 1 << 1

	armTable = 1 << 1  // table (levels 0-2) or page (level 3) descriptor
	armRO    = 1 << 7  // AP[2]: read-only
	armPXN   = 1 << 53 // privileged execute-never
	armUXN   = 1 << 54 // unprivileged execute-never

	// swizzleBuild is the first build whose software PTEs keep
	// PageFileLow at bits 12..15 and have a SwizzleBit (MemProcFS
	// MMWINX64_PTE_PAGE_FILE_NUMBER); older ones keep it at bits 1..4.
	swizzleBuild = 17134
)

// PTEState classifies a non-present entry that stopped a walk.
type PTEState uint8

const (
	// PTEEmpty is an all-zero entry: nothing was ever mapped there.
	PTEEmpty PTEState = iota
	// PTEDemandZero is a software PTE without a page-file location: the
	// page is created zero-filled on first touch.
	PTEDemandZero
	// PTEPagedOut is a software PTE naming a page file and offset.
	PTEPagedOut
	// PTEPrototype refers to a prototype PTE (shared or section memory).
	PTEPrototype
	// PTEInvalid is not present and not decodable as a Windows software
	// PTE (ARM64 invalid descriptors, reserved encodings).
	PTEInvalid
)

// String names the state.
func (s PTEState) String() string {
	switch s {
	case PTEEmpty:
		return "empty"
	case PTEDemandZero:
		return "demand-zero"
	case PTEPagedOut:
		return "paged out"
	case PTEPrototype:
		return "prototype"
	case PTEInvalid:
		return "invalid"
	}
	return fmt.Sprintf("PTEState(%d)", uint8(s))
}

// PTEError describes the non-present entry that stopped a walk, decoded as
// a Windows software PTE. It is the Err of the mem.FaultError (Kind
// NotPresent, Level and Entry set) that translation returns, so
// errors.As(err, &pteErr) reaches it and errors.Is(err, mem.ErrNotPresent)
// holds.
type PTEError struct {
	VA    uint64
	Level string // "PTE", "PDE", ...
	Entry uint64
	State PTEState

	// PTEPagedOut: the page file (MMPTE_SOFTWARE.PageFileLow) and the byte
	// offset in it (PageFileHigh pages). From build 17134 on, an entry whose
	// SwizzleBit is clear has its offset XOR-ed with
	// MiState.Hardware.InvalidPteMask, which only symbols reveal: Swizzled
	// says the offset shown is still swizzled.
	PageFile int
	Offset   uint64
	Swizzled bool

	// PTEPrototype: the address of the prototype PTE; 0 when the entry
	// defers to the VAD.
	ProtoAddress uint64
}

func (e *PTEError) Error() string {
	switch e.State {
	case PTEEmpty:
		return "empty entry"
	case PTEDemandZero:
		return "demand-zero page"
	case PTEPagedOut:
		s := fmt.Sprintf("paged out to pagefile %d offset %#x", e.PageFile, e.Offset)
		if e.Swizzled {
			s += " (swizzled with the unknown InvalidPteMask)"
		}
		return s
	case PTEPrototype:
		if e.ProtoAddress == 0 {
			return "prototype PTE (VAD-defined)"
		}
		return fmt.Sprintf("prototype PTE at %#x", e.ProtoAddress)
	}
	return "invalid entry"
}

var (
	errNonCanonical = errors.New("non-canonical address")
	errTopWrap      = errors.New("read crosses the top of the 64-bit address space")
)

// WalkStep is one page-table entry read by a translation.
type WalkStep struct {
	Level string // "PXE", "PPE", "PDE", "PTE"; "PML5E" (LA57), "PDPTE" (PAE)
	Addr  uint64 // physical address of the entry
	Entry uint64 // its raw value (0 if it could not be read)
}

// Walk is the page-table walk of one virtual address, what !pte shows.
type Walk struct {
	VA    uint64
	DTB   uint64
	Steps []WalkStep
	// PageSize is the size of the page the final entry maps (4 KiB, 2 MiB,
	// 1 GiB, 4 MiB); 0 when the walk failed.
	PageSize uint64
	// Transition is set when the final entry is a transition PTE: the page
	// is on the standby or modified list, still in RAM, and was translated.
	Transition bool
	// Prot is the effective protection: writable only if every level
	// allows it, executable unless one forbids it (read-only for a
	// transition page, whose hardware bits are gone).
	Prot mem.Prot
}

// walkBuf is the allocation-free form of Walk used on the read path.
type walkBuf struct {
	n          int
	steps      [5]WalkStep
	size       uint64
	transition bool
	prot       mem.Prot
}

func (w *walkBuf) add(level string, addr, entry uint64) {
	if w.n < len(w.steps) {
		w.steps[w.n] = WalkStep{Level: level, Addr: addr, Entry: entry}
		w.n++
	}
}

// VirtualSpace is a virtual address space of the dumped machine: a
// mem.Mapper from virtual to physical addresses through the page tables at
// a DirectoryTableBase. It caches the last translations (a 1024-entry
// direct-mapped TLB) and recently read page-table pages, so repeated
// accesses cost a lock and an array lookup. It is safe for concurrent use.
type VirtualSpace struct {
	name  string
	phys  mem.Space
	dtb   uint64
	pf    *pagingFormat
	build uint32

	tlb    tlb
	tables tableCache
}

var _ mem.Mapper = (*VirtualSpace)(nil)

// NewVirtualSpace returns the address space whose top page table is at
// physical address dtb (a CR3/TTBR value; flag bits are masked off) in phys.
// build is the Windows build number, which says how software PTEs are laid
// out (page-file fields moved in build 17134).
func NewVirtualSpace(phys mem.Space, name string, p Paging, dtb uint64, build uint32) (*VirtualSpace, error) {
	pf := formatOf(p)
	if pf == nil {
		return nil, fmt.Errorf("kdmp: unknown paging format %d", uint8(p))
	}
	if phys == nil {
		return nil, errors.New("kdmp: nil physical space")
	}
	return &VirtualSpace{name: name, phys: phys, dtb: dtb, pf: pf, build: build}, nil
}

// Name returns the name given to NewVirtualSpace ("kernel" for KernelSpace).
func (v *VirtualSpace) Name() string { return v.name }

// Base returns the physical space.
func (v *VirtualSpace) Base() mem.Space { return v.phys }

// Paging returns the page-table format.
func (v *VirtualSpace) Paging() Paging { return v.pf.paging }

// DTB returns the DirectoryTableBase the space was built with.
func (v *VirtualSpace) DTB() uint64 { return v.dtb }

// ReadMemory reads virtual memory; faults name the page-table level that
// stopped the walk, or the physical page the dump lacks.
func (v *VirtualSpace) ReadMemory(p []byte, addr uint64) (int, error) {
	return mem.ReadMapped(v, p, addr)
}

// Translate returns the physical address va maps to and the entries read
// on the way. A failure is a *mem.FaultError: Unmapped for a non-canonical
// address, NotPresent (with a *PTEError cause) for a non-present entry,
// NotInDump or OutsideFile when a page table is missing from the dump.
func (v *VirtualSpace) Translate(va uint64) (uint64, Walk, error) {
	var w walkBuf
	pa, err := v.walk(va, &w)
	walk := Walk{VA: va, DTB: v.dtb, Steps: append([]WalkStep(nil), w.steps[:w.n]...), Transition: w.transition}
	if err != nil {
		return 0, walk, err
	}
	walk.PageSize, walk.Prot = w.size, w.prot
	v.tlb.put(va, pa, w.size)
	return pa, walk, nil
}

// walk translates va, recording each entry in w.
func (v *VirtualSpace) walk(va uint64, w *walkBuf) (uint64, error) {
	pf := v.pf
	if !pf.canonical(va) {
		return 0, &mem.FaultError{Space: v.name, Addr: va, Kind: mem.Unmapped, Err: errNonCanonical}
	}
	table := v.dtb & pf.root
	prot := mem.R | mem.W | mem.X
	for i, lv := range pf.levels {
		idx := (va >> lv.shift) & (uint64(1)<<lv.bits - 1)
		addr := table + idx*pf.entry
		e, err := v.entry(addr)
		if err != nil {
			w.add(lv.name, addr, 0)
			var fe *mem.FaultError
			kind := mem.ReadFailed
			if errors.As(err, &fe) {
				kind = fe.Kind
			}
			return 0, &mem.FaultError{Space: v.name, Addr: va, Kind: kind,
				Err: fmt.Errorf("reading the %s at %#x: %w", lv.name, addr, err)}
		}
		w.add(lv.name, addr, e)
		leaf := i == len(pf.levels)-1
		if v.valid(e, i, leaf) {
			prot = v.narrow(prot, e, va, i, leaf || v.block(e, lv))
			if leaf || v.block(e, lv) {
				size := uint64(1) << lv.shift
				w.size, w.prot = size, prot
				return v.frameOf(e, lv, leaf)&^(size-1) | va&(size-1), nil
			}
			table = e & pf.frame
			continue
		}
		// Windows keeps a page (or a page-table page) it is about to
		// trim on the standby/modified list: Transition set, Prototype
		// clear, PFN intact (MMPTE_TRANSITION). ARM64 uses the same bits
		// at the last level only (MemProcFS MMARM64_PTE_IS_TRANSITION).
		if e&(ptePresent|ptePrototype|pteTransition) == pteTransition && (leaf || !pf.arm) {
			if leaf {
				w.size, w.prot, w.transition = PageSize, mem.R, true
				return e&pf.trans | va&(PageSize-1), nil
			}
			table = e & pf.trans
			continue
		}
		return 0, &mem.FaultError{Space: v.name, Addr: va, Kind: mem.NotPresent, Level: lv.name, Entry: e, Err: v.software(va, lv.name, e)}
	}
	return 0, &mem.FaultError{Space: v.name, Addr: va, Kind: mem.NotPresent} // unreachable: the leaf returns
}

// valid reports whether e is a present entry at level i.
func (v *VirtualSpace) valid(e uint64, i int, leaf bool) bool {
	if !v.pf.arm {
		return e&ptePresent != 0
	}
	// ARM64: bit 0 valid; bit 1 distinguishes table from block at levels
	// 1-2, must be set for a level-3 page, and a level-0 block is reserved.
	if e&1 == 0 {
		return false
	}
	return e&armTable != 0 || (i > 0 && !leaf)
}

// block reports whether the present non-leaf entry e maps a page.
func (v *VirtualSpace) block(e uint64, lv pteLevel) bool {
	if !lv.large {
		return false
	}
	if v.pf.arm {
		return e&armTable == 0
	}
	return e&pteLarge != 0
}

// frameOf returns the physical address an entry maps. A 4 MiB page of
// 32-bit paging keeps physical bits 32..39 in entry bits 13..20 (PSE-36).
func (v *VirtualSpace) frameOf(e uint64, lv pteLevel, leaf bool) uint64 {
	if v.pf.paging == PagingX86 && !leaf {
		return e&0xffc00000 | (e>>13&0xff)<<32
	}
	return e & v.pf.frame
}

// narrow applies an entry's permissions: writable only if every level
// allows it, executable unless some level forbids it (x86; PAE PDPTEs carry
// neither bit), or the leaf's AP[2]/PXN/UXN bits (ARM64).
func (v *VirtualSpace) narrow(p mem.Prot, e, va uint64, level int, leaf bool) mem.Prot {
	if v.pf.paging == PagingPAE && level == 0 {
		return p
	}
	if v.pf.arm {
		if !leaf {
			return p
		}
		if e&armRO != 0 {
			p &^= mem.W
		}
		xn := uint64(armUXN)
		if va>>63 != 0 {
			xn = armPXN
		}
		if e&xn != 0 {
			p &^= mem.X
		}
		return p
	}
	if e&pteWrite == 0 {
		p &^= mem.W
	}
	if v.pf.entry == 8 && e&pteNX != 0 {
		p &^= mem.X
	}
	return p
}

// software decodes a non-present entry as a Windows software PTE, with the
// bit positions MemProcFS's mm_win.c uses (MMWINX64_PTE_PROTOTYPE,
// _PAGE_FILE_NUMBER, _PAGE_FILE_OFFSET and their x86/PAE forms).
func (v *VirtualSpace) software(va uint64, level string, e uint64) *PTEError {
	pe := &PTEError{VA: va, Level: level, Entry: e}
	switch {
	case e == 0:
		pe.State = PTEEmpty
		return pe
	case v.pf.arm:
		pe.State = PTEInvalid
		return pe
	case e&ptePrototype != 0:
		pe.State = PTEPrototype
		switch v.pf.paging {
		case PagingAMD64, PagingAMD64LA57:
			// ProtoAddress is bits 16..63, a sign-extended kernel
			// address; 0xffffffff0000 there means "look in the VAD".
			// How 5-level kernels encode it is not public: the
			// 4-level reading is assumed.
			if e>>63 != 0 && e>>16 != 0xffffffff0000 {
				pe.ProtoAddress = uint64(int64(e) >> 16)
			}
		case PagingPAE:
			pe.ProtoAddress = e >> 32
		case PagingX86:
			pe.ProtoAddress = 0x80000000 | (e>>1)&0x7ffffc00 | (e<<1)&0x3ff
		}
		return pe
	}
	var high uint64
	if v.pf.paging == PagingX86 {
		pe.PageFile, high = int(e>>1&0xf), e>>12&0xfffff
	} else {
		shift := 1
		if v.build >= swizzleBuild {
			shift = 12
			pe.Swizzled = e&pteSwizzle == 0
		}
		pe.PageFile, high = int(e>>shift&0xf), e>>32
	}
	if high == 0 {
		pe.State, pe.PageFile, pe.Swizzled = PTEDemandZero, 0, false
		return pe
	}
	pe.State, pe.Offset = PTEPagedOut, high*PageSize
	return pe
}

// entry reads the page-table entry at physical address addr.
func (v *VirtualSpace) entry(addr uint64) (uint64, error) {
	page := addr &^ (PageSize - 1)
	if b, err := v.tablePage(page); err == nil {
		return v.decodeEntry(b[addr-page:]), nil
	}
	// The table page may be cut by the end of a truncated file: read
	// just the entry.
	var b [8]byte
	if err := mem.ReadFull(v.phys, b[:v.pf.entry], addr); err != nil {
		return 0, err
	}
	return v.decodeEntry(b[:]), nil
}

// tablePage returns the page at physical address page (page-aligned) from
// the table cache, reading it on a miss.
func (v *VirtualSpace) tablePage(page uint64) (*[PageSize]byte, error) {
	if b, ok := v.tables.get(page); ok {
		return b, nil
	}
	buf := new([PageSize]byte)
	if err := mem.ReadFull(v.phys, buf[:], page); err != nil {
		return nil, err
	}
	v.tables.put(page, buf)
	return buf, nil
}

func (v *VirtualSpace) decodeEntry(b []byte) uint64 {
	if v.pf.entry == 4 {
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// Map yields the pages covering [addr, addr+n): each mapping is the whole
// page (4 KiB or large) containing the first address not yet covered.
// A failed translation yields the walk's fault and stops.
func (v *VirtualSpace) Map(addr, n uint64) iter.Seq2[mem.Mapping, error] {
	return func(yield func(mem.Mapping, error) bool) {
		if n == 0 {
			return
		}
		last, wraps := addr+n-1, false
		if n-1 > math.MaxUint64-addr {
			last, wraps = math.MaxUint64, true
		}
		for cur := addr; ; {
			m, err := v.lookup(cur)
			if err != nil {
				yield(mem.Mapping{}, err)
				return
			}
			if !yield(m, nil) {
				return
			}
			end := m.Addr + m.Len - 1
			if end >= last {
				if wraps {
					yield(mem.Mapping{}, &mem.FaultError{Space: v.name, Addr: 0, Kind: mem.Unmapped, Err: errTopWrap})
				}
				return
			}
			cur = end + 1
		}
	}
}

// lookup returns the mapping of the page containing va, from the TLB when
// possible.
func (v *VirtualSpace) lookup(va uint64) (mem.Mapping, error) {
	if e, ok := v.tlb.get(va); ok {
		return e.mapping(), nil
	}
	var w walkBuf
	pa, err := v.walk(va, &w)
	if err != nil {
		return mem.Mapping{}, err
	}
	e := v.tlb.put(va, pa, w.size)
	return e.mapping(), nil
}

// tlbSize is the number of cached translations per space (40 KiB).
const tlbSize = 1024

type tlbEntry struct {
	vpn      uint64 // va >> 12 of the 4 KiB page looked up
	va, pa   uint64 // start of the mapped page (4 KiB or large)
	size     uint64
	occupied bool
}

func (e tlbEntry) mapping() mem.Mapping { return mem.Mapping{Addr: e.va, Len: e.size, BaseAddr: e.pa} }

// tlb is a direct-mapped translation cache keyed by 4 KiB page number.
// The dump is immutable, so entries never go stale.
type tlb struct {
	mu sync.Mutex
	e  [tlbSize]tlbEntry
}

func (t *tlb) get(va uint64) (tlbEntry, bool) {
	vpn := va >> 12
	t.mu.Lock()
	e := t.e[vpn%tlbSize]
	t.mu.Unlock()
	return e, e.occupied && e.vpn == vpn
}

func (t *tlb) put(va, pa, size uint64) tlbEntry {
	e := tlbEntry{vpn: va >> 12, va: va &^ (size - 1), pa: pa &^ (size - 1), size: size, occupied: true}
	t.mu.Lock()
	t.e[e.vpn%tlbSize] = e
	t.mu.Unlock()
	return e
}

// tableSlots is the number of page-table pages cached per space (1 MiB).
const tableSlots = 256

// tableCache is a direct-mapped cache of page-table pages: the upper levels
// are shared by every walk, so a TLB miss usually reads only the last
// level from the dump.
type tableCache struct {
	mu    sync.Mutex
	pa    [tableSlots]uint64
	pages [tableSlots]*[PageSize]byte
}

func (c *tableCache) get(pa uint64) (*[PageSize]byte, bool) {
	i := (pa / PageSize) % tableSlots
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages[i] != nil && c.pa[i] == pa {
		return c.pages[i], true
	}
	return nil, false
}

func (c *tableCache) put(pa uint64, b *[PageSize]byte) {
	i := (pa / PageSize) % tableSlots
	c.mu.Lock()
	c.pa[i], c.pages[i] = pa, b
	c.mu.Unlock()
}

// maxRegionTables bounds the page-table pages Regions reads (512 MiB of
// tables), so a hostile or enormous hierarchy cannot make it run away.
const maxRegionTables = 1 << 17

// Regions yields the mapped (present or transition) pages, merged into
// maximal runs of equal protection, in ascending address order. It walks
// every table once, skipping entries that point back at a table on the
// current path (the Windows self-map), and stops after maxRegionTables
// tables.
func (v *VirtualSpace) Regions() iter.Seq[mem.Region] {
	return func(yield func(mem.Region) bool) {
		rw := &regionWalk{v: v, yield: yield, budget: maxRegionTables}
		root := v.dtb & v.pf.root
		rw.path[0] = root
		rw.table(root, 0, 0, mem.R|mem.W|mem.X)
		if rw.open && !rw.stop {
			yield(rw.cur)
		}
	}
}

type regionWalk struct {
	v      *VirtualSpace
	yield  func(mem.Region) bool
	budget int
	path   [6]uint64 // tables on the current path
	cur    mem.Region
	open   bool
	stop   bool
}

func (rw *regionWalk) table(pa uint64, level int, base uint64, prot mem.Prot) {
	pf := rw.v.pf
	if rw.stop || rw.budget <= 0 {
		rw.stop = rw.stop || rw.budget <= 0
		return
	}
	rw.budget--
	lv := pf.levels[level]
	leaf := level == len(pf.levels)-1
	page, err := rw.v.tablePage(pa &^ (PageSize - 1))
	if err != nil {
		return // the table is missing from the dump
	}
	tbl := page[pa&(PageSize-1):] // a PAE PDPT is 32-byte aligned within its page
	for idx := uint64(0); idx < uint64(1)<<lv.bits && !rw.stop; idx++ {
		if (idx+1)*pf.entry > uint64(len(tbl)) {
			return
		}
		e := rw.v.decodeEntry(tbl[idx*pf.entry:])
		va := base | idx<<lv.shift
		if level == 0 && pf.vaBits < 64 && pf.vaBits > 32 && va>>(pf.vaBits-1)&1 != 0 {
			va |= ^uint64(0) << pf.vaBits // sign-extend the kernel half
		}
		switch {
		case rw.v.valid(e, level, leaf):
			p := rw.v.narrow(prot, e, va, level, leaf || rw.v.block(e, lv))
			if leaf || rw.v.block(e, lv) {
				rw.emit(va, uint64(1)<<lv.shift, p)
				continue
			}
			rw.descend(e&pf.frame, level, va, p)
		case e&(ptePresent|ptePrototype|pteTransition) == pteTransition && (leaf || !pf.arm):
			if leaf {
				rw.emit(va, PageSize, mem.R)
				continue
			}
			rw.descend(e&pf.trans, level, va, prot)
		}
	}
}

func (rw *regionWalk) descend(next uint64, level int, va uint64, prot mem.Prot) {
	for _, t := range rw.path[:level+1] {
		if t == next {
			return // self-map: the tables again, as data
		}
	}
	rw.path[level+1] = next
	rw.table(next, level+1, va, prot)
}

func (rw *regionWalk) emit(va, size uint64, p mem.Prot) {
	if rw.open && rw.cur.Prot == p && rw.cur.Start+rw.cur.Size == va {
		rw.cur.Size += size
		return
	}
	if rw.open && !rw.yield(rw.cur) {
		rw.stop = true
		return
	}
	rw.cur, rw.open = mem.Region{Start: va, Size: size, Prot: p, State: mem.Committed}, true
}

// KernelSpace returns the kernel's virtual address space, named "kernel":
// the page tables at the header's DirectoryTableBase over PhysicalSpace.
// The format follows MachineImageType: x64 (5-level when the header's
// kernel addresses need 57 bits or only a 5-level walk reaches
// KdDebuggerDataBlock: an x64 CONTEXT carries no CR4 to say so), x86 PAE or
// 32-bit by DUMP_HEADER32.PaeEnabled, ARM64. Built once.
func (f *File) KernelSpace() (*VirtualSpace, error) { return f.views().kernel() }

// ProcessSpace returns the address space whose page tables are at dtb (an
// EPROCESS DirectoryTableBase, see Processes), with the kernel's format.
func (f *File) ProcessSpace(dtb uint64) (*VirtualSpace, error) {
	k, err := f.KernelSpace()
	if err != nil {
		return nil, err
	}
	return NewVirtualSpace(k.phys, fmt.Sprintf("process %#x", dtb), k.pf.paging, dtb, f.hdr.minor)
}

// Translate translates a kernel virtual address; see VirtualSpace.Translate.
func (f *File) Translate(va uint64) (uint64, Walk, error) {
	k, err := f.KernelSpace()
	if err != nil {
		return 0, Walk{VA: va}, err
	}
	return k.Translate(va)
}

// unset reports whether a header pointer was never written (0 or "PAGE").
func (f *File) unset(v uint64) bool {
	return v == 0 || v == DUMP_SIGNATURE64 || (!f.hdr.is64 && v == uint64(DUMP_SIGNATURE32))
}

func (f *File) buildKernelSpace() (*VirtualSpace, error) {
	h := &f.hdr
	var p Paging
	switch h.machine {
	case IMAGE_FILE_MACHINE_AMD64:
		p = PagingAMD64
	case IMAGE_FILE_MACHINE_ARM64:
		p = PagingARM64
	case IMAGE_FILE_MACHINE_I386:
		p = PagingX86
		if h.pae != 0 {
			p = PagingPAE
		}
	default:
		return nil, fmt.Errorf("kdmp: no address translation for MachineImageType %#x: %w", h.machine, errors.ErrUnsupported)
	}
	if f.unset(h.dtb) {
		return nil, fmt.Errorf("kdmp: DirectoryTableBase is not recorded: %w", model.ErrNotRecorded)
	}
	phys, err := f.PhysicalSpace()
	if err != nil {
		return nil, err
	}
	if p == PagingAMD64 {
		p = f.detectLA57(phys)
	}
	return NewVirtualSpace(phys, "kernel", p, h.dtb, h.minor)
}

// detectLA57 chooses between 4- and 5-level x64 paging. A kernel address
// that is canonical only with 57 bits settles it; otherwise the format
// that translates the header's kernel pointers wins, 4-level on a tie.
func (f *File) detectLA57(phys mem.Space) Paging {
	h := &f.hdr
	var ptrs []uint64
	for _, a := range []uint64{h.kdDebug, h.psLoaded, h.psActive} {
		if !f.unset(a) {
			ptrs = append(ptrs, a)
		}
	}
	la57 := formatOf(PagingAMD64LA57)
	for _, a := range ptrs {
		if !formatOf(PagingAMD64).canonical(a) && la57.canonical(a) {
			return PagingAMD64LA57
		}
	}
	reaches := func(p Paging) int {
		v, err := NewVirtualSpace(phys, "probe", p, h.dtb, h.minor)
		if err != nil {
			return 0
		}
		n := 0
		for _, a := range ptrs {
			if _, _, err := v.Translate(a); err == nil {
				n++
			}
		}
		return n
	}
	if n4 := reaches(PagingAMD64); n4 < len(ptrs) {
		if n5 := reaches(PagingAMD64LA57); n5 > n4 {
			f.viewDiag(model.Note, "5-level paging (LA57) assumed: it translates %d of the header's %d kernel pointers, 4-level paging %d", n5, len(ptrs), n4)
			return PagingAMD64LA57
		}
	}
	return PagingAMD64
}
