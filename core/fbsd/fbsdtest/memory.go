package fbsdtest

// Page-table entry bits, from sys/amd64/include/pmap.h and
// sys/arm64/include/pte.h.
const (
	AMD64_PG_V  = 1 << 0
	AMD64_PG_RW = 1 << 1
	AMD64_PG_PS = 1 << 7
	AMD64_PG_NX = 1 << 63

	ARM64_L3_PAGE      = 3
	ARM64_ATTR_AF      = 1 << 10
	ARM64_ATTR_SH_IS   = 3 << 8
	ARM64_ATTR_DEFAULT = ARM64_ATTR_AF | ARM64_ATTR_SH_IS
	ARM64_ATTR_XN      = 3 << 53 // UXN | PXN
)

// Layout says what a Memory dump holds, for tests to check readers against.
type Layout struct {
	PageSize int
	// Phys maps each dumped physical page to its contents.
	Phys map[uint64][]byte
	// PhysHoles are page addresses the dump does not hold: inside and
	// outside dump_avail[].
	PhysHoles []uint64
	// DMapBase and DMapPhys: virtual address dmapbase maps physical
	// DMapPhys.
	DMapBase, DMapPhys uint64
	// Kernel maps kernel-map page addresses to the dumped physical page
	// they translate to.
	Kernel map[uint64]uint64
	// NotPresent are kernel-map addresses whose entry is invalid, with the
	// level that says so ("PDE", "PTE", "L3").
	NotPresent map[uint64]string
	// NotInDump are kernel-map addresses mapped to a page (or, amd64, a
	// page-table page) the dump does not hold.
	NotInDump []uint64
	// Unmapped are addresses neither in the direct map nor covered by the
	// page-table section.
	Unmapped []uint64
	// Log is the message buffer's text as printed, and Panic its panic
	// message.
	Log, Panic string
}

// MemoryLog is the kernel output Memory puts in the message buffer: a
// log(9) line with a priority prefix, a panic and the dump's own message.
const MemoryLog = "Copyright (c) 1992-2024 The FreeBSD Project.\n" +
	"<6>em0: link state changed to UP\n" +
	"Fatal trap 12: page fault while in kernel mode\n" +
	"panic: page fault\n" +
	"cpuid = 1\n" +
	"Uptime: 1m2s\n" +
	"Dumping 3 out of 1024 MB:"

// Memory returns a dump of arch (AMD64 or ARM64) at version with dumped
// pages, dump_avail[] (when the version has it), a page-table section
// mapping part of the kernel map, and a message buffer holding MemoryLog,
// plus the layout to check it against. flags16K selects arm64's 16 KiB
// pages (version 3).
func Memory(arch string, version uint32, flags16K bool) (*Builder, *Layout) {
	b := New(arch).Version(version)
	if flags16K {
		b.Flags(1)
	}
	p := uint64(b.PageSize())
	l := &Layout{PageSize: int(p), Phys: map[uint64][]byte{}, Kernel: map[uint64]uint64{},
		NotPresent: map[uint64]string{}, DMapBase: b.dmapbase, DMapPhys: b.dmapphys,
		Log: "Copyright (c) 1992-2024 The FreeBSD Project.\nem0: link state changed to UP\n" +
			"Fatal trap 12: page fault while in kernel mode\npanic: page fault\ncpuid = 1\nUptime: 1m2s\nDumping 3 out of 1024 MB:",
		Panic: "page fault"}
	page := func(pa uint64, data []byte) {
		if data == nil {
			data = PhysData(pa, int(p))
		}
		b.Page(pa, data)
		l.Phys[pa] = data
	}
	b.MsgBuf(MsgBufRing(MemoryLog, 4096))
	kb := b.kernbase
	switch arch {
	case AMD64:
		b.DumpAvail(0x1000, 0x9f000, 0x100000, 0x1000000)
		page(0x1000, nil)
		page(0x2000, nil)
		page(0x9e000, nil)
		page(0x100000, nil)
		page(0x300000, nil)
		page(0x301000, nil)
		l.PhysHoles = []uint64{0, 0x3000, 0x9f000, 0x302000, 0x1000000}
		if version == 1 {
			b.Pmap(0x300000|AMD64_PG_V|AMD64_PG_RW, 0x301000|AMD64_PG_V|AMD64_PG_NX, 0, 0x302000|AMD64_PG_V)
			l.Kernel[kb] = 0x300000
			l.Kernel[kb+0x1000] = 0x301000
			l.NotPresent[kb+0x2000] = "PTE"
			l.NotInDump = []uint64{kb + 0x3000}
			l.NotPresent[kb+0x4000] = "PTE"
			l.Unmapped = []uint64{kb + 512*0x1000, kb - 1}
			break
		}
		// PDE 0: a page-table page at 0x200000 (dumped) whose PTEs map
		// 0x300000, 0x301000, nothing, and 0x302000 (not dumped).
		pt := make([]byte, p)
		putLE(pt[0:], 0x300000|AMD64_PG_V|AMD64_PG_RW)
		putLE(pt[8:], 0x301000|AMD64_PG_V|AMD64_PG_NX)
		putLE(pt[24:], 0x302000|AMD64_PG_V)
		page(0x200000, pt)
		// PDE 1: a 2 MiB page at 0x400000 of which two pages are dumped.
		page(0x400000, nil)
		page(0x401000, nil)
		// PDE 2: a page-table page at 0x600000 that was not dumped.
		// PDE 3: invalid.
		b.Pmap(0x200000|AMD64_PG_V|AMD64_PG_RW, 0x400000|AMD64_PG_V|AMD64_PG_PS, 0x600000|AMD64_PG_V, 0)
		l.Kernel[kb] = 0x300000
		l.Kernel[kb+0x1000] = 0x301000
		l.NotPresent[kb+0x2000] = "PTE"
		l.Kernel[kb+0x200000] = 0x400000
		l.Kernel[kb+0x201000] = 0x401000
		l.NotInDump = []uint64{kb + 0x3000, kb + 0x202000, kb + 0x400000}
		l.NotPresent[kb+0x600000] = "PDE"
		l.Unmapped = []uint64{kb + 512*0x200000, kb - 1}
		if version == 2 {
			l.PhysHoles = append(l.PhysHoles, 0x600000)
		}
	case ARM64:
		base := b.dmapphys // 0x40000000
		b.DumpAvail(base, base+0x8000000)
		for _, i := range []uint64{0, 1, 3, 0x10, 0x11} {
			page(base+i*p, nil)
		}
		l.PhysHoles = []uint64{base + 2*p, base + 0x12*p, base - p, base + 0x8000000}
		a := uint64(ARM64_ATTR_DEFAULT | ARM64_L3_PAGE)
		b.Pmap((base+0x10*p)|a, (base+0x11*p)|a|ARM64_ATTR_XN, 0, (base+0x12*p)|a, (base+3*p)|1)
		l.Kernel[kb] = base + 0x10*p
		l.Kernel[kb+p] = base + 0x11*p
		l.NotPresent[kb+2*p] = "L3"
		l.NotInDump = []uint64{kb + 3*p}
		l.NotPresent[kb+4*p] = "L3" // an L2-style block descriptor is not an L3 page
		l.Unmapped = []uint64{kb + p*(p/8), kb - 1}
	}
	return b, l
}

func putLE(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (8 * i))
	}
}
