package kdmp

// On-disk layout of Windows kernel crash dumps, with the WDK/dbgeng
// spellings. Microsoft documents the 64-bit header only as a type
// (DUMP_HEADER64 in the Windows metadata,
// https://learn.microsoft.com/windows/win32/api/dbghelp/ns-dbghelp-dump_header64
// and https://microsoft.github.io/windows-docs-rs/doc/windows/Win32/System/Diagnostics/Debug/struct.DUMP_HEADER64.html),
// so the offsets below were checked against public readers:
//
//   - 0vercl0k/kdmp-parser src/lib/kdmp-parser-structs.h (HEADER64 with
//     static_asserts on every offset, BMP_HEADER64, RDMP_HEADER64 and the
//     DumpType enumeration including the 22H2+ types 6, 8, 9 and 10);
//   - Volatility 2 volatility/plugins/overlays/windows/crash_vtypes.py
//     (_DMP_HEADER for 32-bit, _DMP_HEADER64) and crashbmp.py;
//   - rizin librz/bin/format/dmp/dmp_specs.h (dmp32_header, dmp64_header,
//     dmp_bv_header, dmp64_triage) and its test database, whose expected
//     output for bmp.dmp pins the order of the bitmap header's counts;
//   - MoonSols/Comae Bin2Dmp dmp.h (DUMP_HEADER32 with the reserved areas
//     that put DumpType at 0xF88).
//
// Unused header bytes are filled with the ASCII word "PAGE", so a field that
// reads as 0x45474150 (or 0x4547415045474150) was never written.

// Signatures at offset 0: Signature "PAGE" followed by ValidDump "DU64"
// (64-bit) or "DUMP" (32-bit).
const (
	Magic64 = "PAGEDU64"
	Magic32 = "PAGEDUMP"
)

// DUMP_SIGNATURE32 is the little-endian value of the filler word "PAGE".
const (
	DUMP_SIGNATURE32 uint32 = 0x45474150 // "PAGE"
	DUMP_SIGNATURE64 uint64 = 0x4547415045474150
)

// Header sizes: the physical pages of a full dump start right after them.
const (
	HeaderSize64 = 0x2000 // sizeof(DUMP_HEADER64)
	HeaderSize32 = 0x1000 // sizeof(DUMP_HEADER32)
	PageSize     = 0x1000
)

// DUMP_HEADER64 field offsets.
const (
	h64MajorVersion        = 0x008
	h64MinorVersion        = 0x00C
	h64DirectoryTableBase  = 0x010
	h64PfnDataBase         = 0x018
	h64PsLoadedModuleList  = 0x020
	h64PsActiveProcessHead = 0x028
	h64MachineImageType    = 0x030
	h64NumberProcessors    = 0x034
	h64BugCheckCode        = 0x038 // then 4 bytes of padding
	h64BugCheckParameters  = 0x040 // ULONG64[4]
	h64KdDebuggerDataBlock = 0x080
	h64PhysicalMemoryBlock = 0x088 // PHYSICAL_MEMORY_DESCRIPTOR64, 700-byte buffer
	h64ContextRecord       = 0x348 // 3000 bytes
	h64Exception           = 0xF00 // EXCEPTION_RECORD64
	h64DumpType            = 0xF98
	h64RequiredDumpSpace   = 0xFA0
	h64SystemTime          = 0xFA8 // FILETIME
	h64Comment             = 0xFB0 // CHAR[128]
	h64SystemUpTime        = 0x1030
	h64MiniDumpFields      = 0x1038
	h64SecondaryDataState  = 0x103C
	h64ProductType         = 0x1040
	h64SuiteMask           = 0x1044
	h64WriterStatus        = 0x1048
	h64KdSecondaryVersion  = 0x104D
)

// DUMP_HEADER32 field offsets. The machine-word fields shrink to 32 bits, the
// run descriptor uses 32-bit runs, and the tail is laid out differently (the
// comment moves before a reserved area; SystemUpTime precedes SystemTime).
const (
	h32MajorVersion        = 0x008
	h32MinorVersion        = 0x00C
	h32DirectoryTableBase  = 0x010
	h32PfnDataBase         = 0x014
	h32PsLoadedModuleList  = 0x018
	h32PsActiveProcessHead = 0x01C
	h32MachineImageType    = 0x020
	h32NumberProcessors    = 0x024
	h32BugCheckCode        = 0x028
	h32BugCheckParameters  = 0x02C // ULONG[4]
	h32PaeEnabled          = 0x05C
	h32KdSecondaryVersion  = 0x05D
	h32KdDebuggerDataBlock = 0x060
	h32PhysicalMemoryBlock = 0x064 // PHYSICAL_MEMORY_DESCRIPTOR32, 700-byte buffer
	h32ContextRecord       = 0x320 // 1200 bytes
	h32Exception           = 0x7D0 // EXCEPTION_RECORD32
	h32Comment             = 0x820 // CHAR[128]
	h32DumpType            = 0xF88
	h32MiniDumpFields      = 0xF8C
	h32SecondaryDataState  = 0xF90
	h32ProductType         = 0xF94
	h32SuiteMask           = 0xF98
	h32WriterStatus        = 0xF9C
	h32RequiredDumpSpace   = 0xFA0
	h32SystemUpTime        = 0xFB8
	h32SystemTime          = 0xFC0
)

// PhysicalMemoryBlockBuffer is 700 bytes in both headers. The 64-bit
// descriptor is {ULONG NumberOfRuns; ULONG pad; ULONG64 NumberOfPages;
// {ULONG64 BasePage, PageCount} Run[]}, the 32-bit one {ULONG NumberOfRuns;
// ULONG NumberOfPages; {ULONG BasePage, PageCount} Run[]}: at most 42 and 86
// runs fit.
const (
	PhysicalMemoryBlockSize = 700
	MaxRuns64               = (PhysicalMemoryBlockSize - 16) / 16
	MaxRuns32               = (PhysicalMemoryBlockSize - 8) / 8
	CommentSize             = 128
)

// DumpType values (dbgeng's DUMP_TYPE_*; kdmp-parser's DumpType_t names).
const (
	DumpTypeFull                = 1  // FullDump: PHYSICAL_MEMORY_DESCRIPTOR runs
	DumpTypeKernel              = 2  // KernelDump (summary dump)
	DumpTypeHeader              = 3  // header only
	DumpTypeTriage              = 4  // MiniDump: small memory / triage dump (TRIAGE_DUMP at 0x2000)
	DumpTypeBitmap              = 5  // BMPDump: kernel or complete bitmap dump
	DumpTypeLiveKernelBitmap    = 6  // LiveKernelBitmapDump (Task Manager live dump, 22H2+)
	DumpTypeAutomatic           = 7  // automatic (kernel) dump, as rizin lists it
	DumpTypeKernelMemory        = 8  // KernelMemoryDump: `.dump /k`, RDMP header
	DumpTypeKernelAndUserMemory = 9  // KernelAndUserMemoryDump: `.dump /ka`, RDMP header
	DumpTypeCompleteMemory      = 10 // CompleteMemoryDump: `.dump /f`, RDMP header
)

// MachineImageType values (IMAGE_FILE_MACHINE_*).
const (
	IMAGE_FILE_MACHINE_I386  = 0x014C
	IMAGE_FILE_MACHINE_ARMNT = 0x01C4
	IMAGE_FILE_MACHINE_AMD64 = 0x8664
	IMAGE_FILE_MACHINE_ARM64 = 0xAA64
)

// MajorVersion values: 0xF for a free (retail) kernel, 0xC for a checked one.
// MinorVersion holds the build number.
const (
	MajorFree    = 0xF
	MajorChecked = 0xC
)

// BMP_HEADER64 (kdmp-parser), _FULL_DUMP64 (Volatility), SUMMARY_DUMP64: the
// header that follows DUMP_HEADER64 in bitmap dumps (DumpType 5 and 6).
// Signature is "SDMP" (kernel summary bitmap) or "FDMP" (full bitmap),
// ValidDump "DUMP". FirstPage is the file offset of the first captured page;
// TotalPresentPages counts the set bits; Pages is the number of bits in the
// bitmap, which starts at 0x38. Bit n (least significant bit first within
// each byte) set means physical page n is stored, pages in ascending order.
//
// rizin's oracle for bmp.dmp prints FirstPage 0xa038, Pages 0x40000 and
// TotalPresentPages 0x544b, so the bitmap of 0x40000 bits ends exactly at
// FirstPage: Volatility's names for the two counts are swapped.
const (
	BMP_SIGNATURE_SUMMARY = "SDMP"
	BMP_SIGNATURE_FULL    = "FDMP"
	BMP_VALID_DUMP        = "DUMP"

	bmpSignature         = 0x00
	bmpValidDump         = 0x04
	bmpFirstPage         = 0x20
	bmpTotalPresentPages = 0x28
	bmpPages             = 0x30
	bmpBitmap            = 0x38
)

// RDMP_HEADER64 (kdmp-parser, reverse-engineered): the header that follows
// DUMP_HEADER64 in the DumpType 8, 9 and 10 dumps newer WinDbg writes.
// Marker is 0x40, Signature "RDMP", ValidDump "DUMP", then MetadataSize and
// FirstPageOffset (= 0x2020 + MetadataSize). For types 8 and 9 two unknown
// quadwords follow; for type 10 (FULL_RDMP_HEADER64) NumberOfRanges (u32),
// two u16s and TotalNumberOfPages (u64). At 0x30 starts an array of
// {PageFileNumber, NumberOfPages} u64 pairs, ended by a zero PFN (types 8/9)
// or when TotalNumberOfPages pages are listed (type 10). The pages follow
// FirstPageOffset in array order.
const (
	RDMP_MARKER     = 0x40
	RDMP_SIGNATURE  = "RDMP"
	RDMP_VALID_DUMP = "DUMP"

	rdmpMarker             = 0x00
	rdmpSignature          = 0x04
	rdmpValidDump          = 0x08
	rdmpMetadataSize       = 0x10
	rdmpFirstPageOffset    = 0x18
	rdmpNumberOfRanges     = 0x20 // type 10 only
	rdmpTotalNumberOfPages = 0x28 // type 10 only
	rdmpRanges             = 0x30
	rdmpHeaderSize         = 0x30
)

// TRIAGE_DUMP64 / TRIAGE_DUMP32 (rizin dmp64_triage): the small-dump
// directory at the end of the header. Only the size and validity fields are
// read here.
const (
	triageSizeOfDump  = 0x04
	triageValidOffset = 0x08

	// TRIAGE_VALID_MARKER is the ULONG stored at ValidOffset ("TRGD" in
	// the file), the last word of a completely written triage dump.
	TRIAGE_VALID_MARKER uint32 = 0x44475254
)

// ProductType values (VER_NT_*).
const (
	VER_NT_WORKSTATION       = 1
	VER_NT_DOMAIN_CONTROLLER = 2
	VER_NT_SERVER            = 3
)

// DumpIt/MoonSols acquisition dumps put these ASCII markers in the bugcheck
// fields instead of a stop code ("MATT", "MOON", "SOLS").
const (
	dumpItBugCheck = 0x5454414D
	dumpItMoon     = 0x4E4F4F4D
	dumpItSols     = 0x534C4F53
)
