package vmcore

// On-disk layouts, with the spellings of the C sources they come from.
//
// kdump-compressed: makedumpfile's diskdump_mod.h, struct disk_dump_header and
// struct kdump_sub_header, https://github.com/makedumpfile/makedumpfile/blob/master/diskdump_mod.h
// (crash reads the same layout in diskdump.c,
// https://github.com/crash-utility/crash/blob/master/diskdump.c, which also
// tabulates the two 32-bit sub-header layouts used below).
//
// Flattened: makedumpfile.h, struct makedumpfile_header and struct
// makedumpfile_data_header, written by write_start_flat_header and read back
// by rearrange_dumpdata in makedumpfile.c,
// https://github.com/makedumpfile/makedumpfile/blob/master/makedumpfile.h
//
// ELF /proc/vmcore: the System V gABI plus the kernel's note names
// (include/linux/crash_core.h CRASH_CORE_NOTE_NAME "CORE",
// kernel/vmcore_info.c VMCOREINFO_NOTE_NAME "VMCOREINFO") and QEMU's
// dump-guest-memory ("QEMU" notes, target/i386/arch_dump.c).

// Signatures of the disk_dump_header (diskdump_mod.h).
const (
	KDUMP_SIGNATURE     = "KDUMP   " // makedumpfile -c/-l/-p/-z output
	DISK_DUMP_SIGNATURE = "DISKDUMP" // the old diskdump facility; not read here
	SIG_LEN             = 8
)

// disk_dump_header.status bits (diskdump_mod.h). The compression bits say
// how makedumpfile compressed pages; each page_desc repeats its own bit.
const (
	DUMP_DH_COMPRESSED_ZLIB       = 0x1
	DUMP_DH_COMPRESSED_LZO        = 0x2
	DUMP_DH_COMPRESSED_SNAPPY     = 0x4
	DUMP_DH_COMPRESSED_INCOMPLETE = 0x8 // makedumpfile ran out of space: the dump is incomplete
	DUMP_DH_EXCLUDED_VMEMMAP      = 0x10
	DUMP_DH_COMPRESSED_ZSTD       = 0x20

	dumpDHKnown = DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_LZO | DUMP_DH_COMPRESSED_SNAPPY |
		DUMP_DH_COMPRESSED_INCOMPLETE | DUMP_DH_EXCLUDED_VMEMMAP | DUMP_DH_COMPRESSED_ZSTD
)

// NEW_UTS_LEN+1: each of the six struct new_utsname fields is 65 bytes.
const utsFieldLen = 65

// Offsets within struct new_utsname, which starts at disk_dump_header+12
// (after signature[8] and int header_version).
const (
	offHeaderVersion = 8
	offUtsname       = 12
	offUtsSysname    = offUtsname + 0*utsFieldLen
	offUtsNodename   = offUtsname + 1*utsFieldLen
	offUtsRelease    = offUtsname + 2*utsFieldLen
	offUtsVersion    = offUtsname + 3*utsFieldLen
	offUtsMachine    = offUtsname + 4*utsFieldLen
	offUtsDomainname = offUtsname + 5*utsFieldLen // ends at 402
)

// diskDumpHeader gives the field offsets of struct disk_dump_header for one
// size of C long. struct timeval timestamp follows the utsname (which ends
// at 402) aligned to the dumped machine's long: 408 on LP64, 404 on ILP32.
// Every field after it is a 4-byte int.
type diskDumpHeader struct {
	word                                          int // sizeof(long)
	timestamp                                     int // tv_sec, then tv_usec, each a long
	status, blockSize, subHdrSize, bitmapBlocks   int
	maxMapnr, totalRAMBlocks, deviceBlocks        int
	writtenBlocks, currentCPU, nrCPUs, tasksStart int
}

var (
	diskDumpHeader64 = diskDumpHeader{word: 8, timestamp: 408, status: 424, blockSize: 428, subHdrSize: 432,
		bitmapBlocks: 436, maxMapnr: 440, totalRAMBlocks: 444, deviceBlocks: 448, writtenBlocks: 452,
		currentCPU: 456, nrCPUs: 460, tasksStart: 464}
	diskDumpHeader32 = diskDumpHeader{word: 4, timestamp: 404, status: 412, blockSize: 416, subHdrSize: 420,
		bitmapBlocks: 424, maxMapnr: 428, totalRAMBlocks: 432, deviceBlocks: 436, writtenBlocks: 440,
		currentCPU: 444, nrCPUs: 448, tasksStart: 452}
)

// kdumpSubHeader gives the field offsets of struct kdump_sub_header, which
// starts at file offset block_size (DISKDUMP_HEADER_BLOCKS = 1). phys_base,
// start_pfn, end_pfn and the size_* fields are C longs; the offset_* fields
// are off_t, 64-bit on every makedumpfile build (_FILE_OFFSET_BITS=64). On
// ILP32 the alignment of an 8-byte member decides the layout: i386 aligns it
// to 4, ARM, MIPS, PowerPC and s390 to 8 (crash's diskdump.c documents both).
// The comment on each field is the header_version that introduced it.
type kdumpSubHeader struct {
	word                             int
	physBase                         int // 0
	dumpLevel                        int // 1
	split, startPFN, endPFN          int // 2
	offsetVmcoreinfo, sizeVmcoreinfo int // 3
	offsetNote, sizeNote             int // 4
	offsetEraseinfo, sizeEraseinfo   int // 5
	startPFN64, endPFN64, maxMapnr64 int // 6
	size                             int // sizeof(struct kdump_sub_header)
}

var (
	kdumpSubHeader64 = kdumpSubHeader{word: 8, physBase: 0, dumpLevel: 8, split: 12, startPFN: 16, endPFN: 24,
		offsetVmcoreinfo: 32, sizeVmcoreinfo: 40, offsetNote: 48, sizeNote: 56, offsetEraseinfo: 64,
		sizeEraseinfo: 72, startPFN64: 80, endPFN64: 88, maxMapnr64: 96, size: 104}
	kdumpSubHeader32i386 = kdumpSubHeader{word: 4, physBase: 0, dumpLevel: 4, split: 8, startPFN: 12, endPFN: 16,
		offsetVmcoreinfo: 20, sizeVmcoreinfo: 28, offsetNote: 32, sizeNote: 40, offsetEraseinfo: 44,
		sizeEraseinfo: 52, startPFN64: 56, endPFN64: 64, maxMapnr64: 72, size: 80}
	kdumpSubHeader32 = kdumpSubHeader{word: 4, physBase: 0, dumpLevel: 4, split: 8, startPFN: 12, endPFN: 16,
		offsetVmcoreinfo: 24, sizeVmcoreinfo: 32, offsetNote: 40, sizeNote: 48, offsetEraseinfo: 56,
		sizeEraseinfo: 64, startPFN64: 72, endPFN64: 80, maxMapnr64: 88, size: 96}
)

// maxKnownHeaderVersion is the newest disk_dump_header.header_version whose
// fields this package knows (6 added the 64-bit pfn fields).
const maxKnownHeaderVersion = 6

// sizeofPageDesc is sizeof(page_desc_t): off_t offset, unsigned int size,
// unsigned int flags, unsigned long long page_flags; 24 bytes on every ABI.
// The page descriptors (one per dumpable page) follow the bitmaps.
const sizeofPageDesc = 24

// makedumpfile flattened format (makedumpfile.h). The header is a
// MAX_SIZE_MDF_HEADER block beginning with struct makedumpfile_header:
// signature[SIZE_SIG_MDF] (= "makedumpfile", NUL-padded to 16), then int64
// type and version. Records struct makedumpfile_data_header {int64 offset;
// int64 buf_size} followed by buf_size bytes destined for offset follow; a
// record with offset = buf_size = END_FLAG_FLAT_HEADER ends the stream. All
// integers are big-endian whatever the host ("for sending dump data to a
// different architecture").
const (
	MAKEDUMPFILE_SIGNATURE = "makedumpfile"
	SIZE_SIG_MDF           = 16
	MAX_SIZE_MDF_HEADER    = 4096
	TYPE_FLAT_HEADER       = 1
	VERSION_FLAT_HEADER    = 1
	END_FLAG_FLAT_HEADER   = -1

	sizeofMakedumpfileDataHeader = 16
)

// ELF note names and types that matter for telling a kernel vmcore from a
// process core (include/uapi/linux/elf.h).
const (
	NT_PRSTATUS = 1
	NT_PRPSINFO = 3
	NT_AUXV     = 6
	NT_SIGINFO  = 0x53494749 // "SIGI"
	NT_FILE     = 0x46494c45 // "FILE"

	noteNameCore       = "CORE"
	noteNameVMCOREINFO = "VMCOREINFO"
	noteNameQEMU       = "QEMU"
)
