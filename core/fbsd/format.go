package fbsd

// FreeBSD kernel minidumps ("vmcore.N" as savecore(8) writes them, the
// kerneldumpheader already stripped) start with struct minidumphdr from the
// dumped machine's sys/<arch>/include/minidump.h
// (https://cgit.freebsd.org/src/tree/sys/amd64/include/minidump.h and its
// siblings), read by libkvm's lib/libkvm/kvm_minidump_<arch>.c. The header
// fills the first page; the rest of that page is zero, which is why fields
// added in later versions read as zero in older dumps. Then come, each
// rounded up to a page: the kernel message buffer (msgbufsize), the
// dump_avail[] array of physical ranges (dumpavailsize, newer versions),
// the page bitmap (bitmapsize; one bit per page of dump_avail), the kernel
// page-table pages (pmapsize or ptesize), and finally the dumped pages.
//
// The layouts, field by field (u32 unless noted):
//
//	amd64   v1-3  magic[24] version msgbufsize bitmapsize pmapsize kernbase:u64 dmapbase:u64 dmapend:u64 dumpavailsize(v3)
//	i386    v1-2  magic[24] version msgbufsize bitmapsize ptesize kernbase paemode dumpavailsize(v2)
//	arm     v1-2  magic[24] version msgbufsize bitmapsize ptesize kernbase arch mmuformat dumpavailsize(v2)
//	arm64   v1-3  magic[24] version msgbufsize bitmapsize pmapsize kernbase:u64 dmapphys:u64 dmapbase:u64 dmapend:u64 dumpavailsize(v2) flags(v3)
//	riscv   v1-2  magic[24] version msgbufsize bitmapsize pmapsize kernbase:u64 dmapphys:u64 dmapbase:u64 dmapend:u64 dumpavailsize(v2)
//	mips    v1-2  magic[24] version msgbufsize bitmapsize ptesize kernbase:u64 dmapbase:u64 dmapend:u64 dumpavailsize(v2)
//	powerpc64 v1-2 magic[32] mmu_name[32] version msgbufsize bitmapsize pmapsize kernbase:u64 kernend:u64
//	              dmapbase:u64 dmapend:u64 hw_direct_map:int (4 bytes padding) startkernel:u64 endkernel:u64 dumpavailsize(v2)
//
// Fields are in the dumped machine's byte order: little-endian for amd64,
// i386, arm64 and riscv; powerpc64 and mips exist in both orders (libkvm
// converts with the kernel ELF's EI_DATA), and so did arm (armeb).

// MagicPrefix starts every minidump magic string.
const MagicPrefix = "minidump FreeBSD/"

// Magic strings (MINIDUMP_MAGIC) per architecture.
const (
	MagicAMD64     = "minidump FreeBSD/amd64"
	MagicI386      = "minidump FreeBSD/i386"
	MagicARM       = "minidump FreeBSD/arm"
	MagicARM64     = "minidump FreeBSD/arm64"
	MagicRISCV     = "minidump FreeBSD/riscv"
	MagicPowerPC64 = "minidump FreeBSD/powerpc64"
	MagicMIPS      = "minidump FreeBSD/mips"
)

// Latest MINIDUMP_VERSION per architecture.
const (
	VersionAMD64     = 3
	VersionI386      = 2
	VersionARM       = 2
	VersionARM64     = 3
	VersionRISCV     = 2
	VersionPowerPC64 = 2
	VersionMIPS      = 2
)

// arm64 minidumphdr.flags: the kernel's page size.
const (
	MINIDUMP_FLAG_PS_MASK = 3 << 0
	MINIDUMP_FLAG_PS_4K   = 0 << 0
	MINIDUMP_FLAG_PS_16K  = 1 << 0
)

// arm minidumphdr.mmuformat.
const (
	MINIDUMP_MMU_FORMAT_UNKNOWN = 0
	MINIDUMP_MMU_FORMAT_V4      = 1
	MINIDUMP_MMU_FORMAT_V6      = 2
	MINIDUMP_MMU_FORMAT_V6_LPAE = 3
)

// PageSize is the page size of every architecture's minidump except arm64
// kernels built with 16 KiB pages (flags).
const PageSize = 4096

// headerRead is how much of the header page NewFile reads: the largest
// minidumphdr (powerpc64, 140 bytes) rounded up.
const headerRead = 256
