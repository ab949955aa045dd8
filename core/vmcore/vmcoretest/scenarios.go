package vmcoretest

import "encoding/binary"

// Scenarios returns named, valid dumps covering each container, byte order
// and layout. Tests, fuzz seeds and later console transcripts share them.
func Scenarios() map[string]func() Dump {
	le, be := binary.LittleEndian, binary.BigEndian
	return map[string]func() Dump{
		"elf-amd64":         func() Dump { return NewELF(le) },
		"elf-amd64-qemu":    func() Dump { return NewELF(le).NoVMCOREINFO().QEMUNotes() },
		"elf-physical-only": func() Dump { return NewELF(le).NoVMCOREINFO() },
		"elf-ppc64-be": func() Dump {
			return NewELF(be).Machine(EM_PPC64).Loads(Load{Vaddr: 0xc000000000000000, Paddr: 0, Data: pattern(0x1000, 3)})
		},
		"elf-i386-elf32": func() Dump {
			return NewELF(le).Class(32).Machine(EM_386).Loads(Load{Vaddr: 0xc0000000, Paddr: 0, Data: pattern(0x1000, 4)}, Load{Vaddr: 0xc1000000, Paddr: 0x1000000, Data: pattern(0x1000, 5)})
		},
		"elf-s390x-be": func() Dump {
			return NewELF(be).Machine(EM_S390).NoVMCOREINFO().Loads(Load{Vaddr: 0, Paddr: 0, Data: pattern(0x1000, 6)}, Load{Vaddr: 0x100000, Paddr: 0x100000, Data: pattern(0x1000, 7)})
		},
		"kdump-zlib":         func() Dump { return NewKdump(le) },
		"kdump-lzo":          func() Dump { return NewKdump(le).Status(CompressedLZO) },
		"kdump-snappy":       func() Dump { return NewKdump(le).Status(CompressedSnappy) },
		"kdump-zstd":         func() Dump { return NewKdump(le).Status(CompressedZstd | ExcludedVmemmap) },
		"kdump-none":         func() Dump { return NewKdump(le).Status(0) },
		"kdump-i686":         func() Dump { return NewKdump(le).Word(4).Machine("i686") },
		"kdump-armv7":        func() Dump { return NewKdump(le).Word(4).Machine("armv7l") },
		"kdump-armv7-time64": func() Dump { return NewKdump(le).Word(4).Machine("armv7l").Time64() },
		"kdump-s390x":        func() Dump { return NewKdump(be).Machine("s390x").BlockSize(4096) },
		"kdump-ppc64":        func() Dump { return NewKdump(be).Machine("ppc64").BlockSize(65536).MaxMapnr(1024) },
		"kdump-small-blocks": func() Dump {
			return NewKdump(le).BlockSize(512).Dumpable(PFNRange{1, 3})
		},
		"kdump-v3": func() Dump {
			return NewKdump(le).Version(3).NoNotes()
		},
		"kdump-split": func() Dump { return NewKdump(le).Split(PFNRange{0, 128}) },
		"flattened-kdump": func() Dump {
			return Flatten(NewKdump(le)).RecordSize(1000).Order(Interleave)
		},
		"flattened-elf": func() Dump { return Flatten(NewELF(le)).Order(Reverse) },
	}
}
