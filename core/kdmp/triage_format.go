package kdmp

// On-disk layout of triage dumps (DumpType 4, %SystemRoot%\Minidump\*.dmp)
// after DUMP_HEADER64/32. The structures are Microsoft's ntiodump.h
// (TRIAGE_DUMP32/64, TRIAGE_DATA_BLOCK, DUMP_DRIVER_ENTRY32/64,
// DUMP_STRING, DUMP_UNLOADED_DRIVERS32/64, DUMP_BLOB_FILE_HEADER) as rizin
// reproduces them in librz/bin/format/dmp/dmp_specs.h; the copy of
// KDDEBUGGER_DATA64 a triage dump holds is read with kdbg.go's
// ParseKDDebuggerData, for the offsets that place the KPRCB, ETHREAD and
// EPROCESS copies. Every *Offset field is a file offset; 0 means the
// section is absent.
//
// Where the headers and the data disagree the data wins, and the two real
// triage dumps of the shared corpus (rizin-testbins dmp/triage_x64.dmp and
// triage_arm64.dmp) decide:
//
//   - ntiodump.h says DUMP_STRING.Length counts bytes, but Windows writes
//     the number of UTF-16 units ("\SystemRoot\system32\ntoskrnl.exe" has
//     Length 0x21), as rizin and Volatility read it;
//   - TopOfStack is commented "the top (highest address) of the callstack",
//     but the writers store the stack pointer, the lowest address: the
//     SizeOfCallStack bytes at CallStackOffset are the stack from there up
//     (the corpus dumps' TopOfStack equals the context's rsp/sp).

// TRIAGE_DUMP64 field offsets, relative to its start (0x2000). All ULONG
// except TopOfStack, LimitOfBStore and DataPageAddress (ULONG64). The
// ArchitectureSpecific union holds the IA64 backing store; it is zero on
// x64 and ARM64 but still occupies its 16 bytes.
const (
	t64ServicePackBuild      = 0x00
	t64SizeOfDump            = 0x04
	t64ValidOffset           = 0x08
	t64ContextOffset         = 0x0C
	t64ExceptionOffset       = 0x10
	t64MmOffset              = 0x14
	t64UnloadedDriversOffset = 0x18
	t64PrcbOffset            = 0x1C
	t64ProcessOffset         = 0x20
	t64ThreadOffset          = 0x24
	t64CallStackOffset       = 0x28
	t64SizeOfCallStack       = 0x2C
	t64DriverListOffset      = 0x30
	t64DriverCount           = 0x34
	t64StringPoolOffset      = 0x38
	t64StringPoolSize        = 0x3C
	t64BrokenDriverOffset    = 0x40
	t64TriageOptions         = 0x44
	t64TopOfStack            = 0x48 // ULONG64
	t64BStoreOffset          = 0x50 // ArchitectureSpecific.Ia64
	t64SizeOfBStore          = 0x54
	t64LimitOfBStore         = 0x58 // ULONG64
	t64DataPageAddress       = 0x60 // ULONG64
	t64DataPageOffset        = 0x68
	t64DataPageSize          = 0x6C
	t64DebuggerDataOffset    = 0x70
	t64DebuggerDataSize      = 0x74
	t64DataBlocksOffset      = 0x78
	t64DataBlocksCount       = 0x7C
	triageSize64             = 0x80
)

// TRIAGE_DUMP32 is the same list of ULONGs up to TriageOptions, then
// TopOfStack and DataPageAddress shrink to ULONGs and there is no
// ArchitectureSpecific union.
const (
	t32TopOfStack         = 0x48
	t32DataPageAddress    = 0x4C
	t32DataPageOffset     = 0x50
	t32DataPageSize       = 0x54
	t32DebuggerDataOffset = 0x58
	t32DebuggerDataSize   = 0x5C
	t32DataBlocksOffset   = 0x60
	t32DataBlocksCount    = 0x64
	triageSize32          = 0x68
)

// MiniDumpFields (DUMP_HEADER.MiniDumpFields) bits: which parts of the
// triage dump the writer filled. dbgeng ignores the data page, the debugger
// data and the data blocks unless their bit and all of
// TRIAGE_DUMP_BASIC_INFO are set; this package reads any section whose
// offset is set and only reports the flags.
const (
	TRIAGE_DUMP_CONTEXT       = 0x0001
	TRIAGE_DUMP_EXCEPTION     = 0x0002
	TRIAGE_DUMP_PRCB          = 0x0004
	TRIAGE_DUMP_PROCESS       = 0x0008
	TRIAGE_DUMP_THREAD        = 0x0010
	TRIAGE_DUMP_STACK         = 0x0020
	TRIAGE_DUMP_DRIVER_LIST   = 0x0040
	TRIAGE_DUMP_BROKEN_DRIVER = 0x0080
	TRIAGE_DUMP_BASIC_INFO    = 0x00FF
	TRIAGE_DUMP_MMINFO        = 0x0100
	TRIAGE_DUMP_DATAPAGE      = 0x0200
	TRIAGE_DUMP_DEBUGGER_DATA = 0x0400
	TRIAGE_DUMP_DATA_BLOCKS   = 0x0800

	// TRIAGE_OPTION_OVERFLOWED in TriageOptions: a section did not fit
	// and was left out. Writers that store 0xffffffff ("all options")
	// do not mean it.
	TRIAGE_OPTION_OVERFLOWED = 0x0100
)

// TRIAGE_DATA_BLOCK {ULONG64 Address; ULONG Offset; ULONG Size}: 16 bytes
// in both 32- and 64-bit dumps (ntiodump.h defines one structure; 32-bit
// writers sign-extend the address, so it is truncated to 32 bits there).
const triageDataBlockSize = 16

// DUMP_DRIVER_ENTRY64 is {ULONG DriverNameOffset; ULONG __alignment;
// KLDR_DATA_TABLE_ENTRY64 LdrEntry} (0x90 bytes); DUMP_DRIVER_ENTRY32 is
// {ULONG DriverNameOffset; KLDR_DATA_TABLE_ENTRY32 LdrEntry} (0x4C bytes).
// The KLDR_DATA_TABLE_ENTRY here is ntiodump's frozen copy, not the
// kernel's current one: InLoadOrderLinks, three undefined words,
// NonPagedDebugInfo, DllBase, EntryPoint, SizeOfImage, FullDllName,
// BaseDllName (UNICODE_STRINGs whose buffers point into the live system),
// Flags, LoadCount, two undefined fields, CheckSum and TimeDateStamp (each
// followed by 4 bytes of padding in the 64-bit form). Offsets below are
// from the start of the DUMP_DRIVER_ENTRY.
const (
	drv64Size          = 0x90
	drv64DllBase       = 0x38
	drv64EntryPoint    = 0x40
	drv64SizeOfImage   = 0x48
	drv64Flags         = 0x70
	drv64CheckSum      = 0x80
	drv64TimeDateStamp = 0x88

	drv32Size          = 0x4C
	drv32DllBase       = 0x1C
	drv32EntryPoint    = 0x20
	drv32SizeOfImage   = 0x24
	drv32Flags         = 0x38
	drv32CheckSum      = 0x44
	drv32TimeDateStamp = 0x48
)

// maxDumpString bounds a DUMP_STRING's Length (UTF-16 units): a
// UNICODE_STRING cannot describe more than 32767 characters.
const maxDumpString = 0x7FFF

// The unloaded-driver section is a count (ULONG64 in 64-bit dumps, ULONG
// in 32-bit ones) followed by that many DUMP_UNLOADED_DRIVERS64
// {UNICODE_STRING64 Name; WCHAR DriverName[12]; ULONG64 StartAddress,
// EndAddress} (0x38 bytes) or DUMP_UNLOADED_DRIVERS32 {UNICODE_STRING32
// Name; WCHAR DriverName[12]; ULONG StartAddress, EndAddress} (0x28
// bytes). The kernel copies at most MI_UNLOADED_DRIVERS (50) entries and
// clips Name.Length to the 24 bytes of DriverName, which holds the
// (possibly truncated) name without a guaranteed NUL.
const (
	unl64Size  = 0x38
	unl64Name  = 0x10
	unl64Start = 0x28
	unl32Size  = 0x28
	unl32Name  = 0x08
	unl32Start = 0x20

	unloadedNameBytes = 24 // MAX_UNLOADED_NAME_LENGTH
	miUnloadedDrivers = 50 // MI_UNLOADED_DRIVERS
)

// EXCEPTION_RECORD64 {Code, Flags; Record, Address; NumberParameters, pad;
// Information[15]} (0x98 bytes) and EXCEPTION_RECORD32 {Code, Flags,
// Record, Address, NumberParameters, Information[15]} (0x50 bytes).
const (
	exceptionRecord64Size      = 0x98
	exceptionRecord32Size      = 0x50
	exceptionMaximumParameters = 15
)

// CONTEXT sizes and the offsets this package decodes (winnt.h): x64 CONTEXT
// (ContextFlags at 0x30, segment registers, EFlags at 0x44, Rax..R15 and
// Rip from 0x78), ARM64_NT_CONTEXT (ContextFlags, Cpsr, X0..X28, Fp, Lr,
// Sp, Pc, V[32], Fpcr, Fpsr) and the x86 CONTEXT (ContextFlags, Dr0..Dr7,
// FloatSave, segment and general registers up to SegSs at 0xC8).
const (
	contextAMD64Size = 0x4D0
	contextARM64Size = 0x390
	contextX86Size   = 0x2CC

	contextAMD64Min = 0x100 // through Rip
	contextARM64Min = 0x318 // through Fpsr
	contextX86Min   = 0xCC  // through SegSs
)

// ContextFlags architecture bits (CONTEXT_AMD64, CONTEXT_ARM64,
// CONTEXT_i386).
const (
	contextFlagAMD64 = 0x00100000
	contextFlagARM64 = 0x00400000
	contextFlagX86   = 0x00010000
)

// DUMP_BLOB_FILE_HEADER {ULONG Signature1 'Dump', Signature2 'Blob',
// HeaderSize, BuildNumber} starts the tagged secondary data Windows 10
// appends after SizeOfDump; each DUMP_BLOB_HEADER {ULONG HeaderSize; GUID
// Tag; ULONG DataSize, PrePad, PostPad} (0x20 bytes) is followed by
// PrePad, DataSize and PostPad bytes.
const (
	dumpBlobSignature    = "DumpBlob"
	dumpBlobHeaderSize   = 0x20
	dumpBlobFileHdrSize  = 0x10
	maxDumpBlobsReported = 1 << 16
)
