package minidump

// Signature is MINIDUMP_SIGNATURE, "MDMP" read as a little-endian uint32.
const Signature = 0x504d444d

// Version is the low word of MINIDUMP_VERSION; the high word is
// implementation-specific (dbghelp's build; zero from Wine).
const Version = 0xa793

// StreamType is MINIDUMP_STREAM_TYPE plus the Breakpad, Crashpad and Mozilla
// extensions.
type StreamType uint32

// Stream types (minidumpapiset.h; breakpad minidump_format.h).
const (
	UnusedStream              StreamType = 0
	ThreadListStream          StreamType = 3
	ModuleListStream          StreamType = 4
	MemoryListStream          StreamType = 5
	ExceptionStream           StreamType = 6
	SystemInfoStream          StreamType = 7
	ThreadExListStream        StreamType = 8
	Memory64ListStream        StreamType = 9
	CommentStreamA            StreamType = 10
	CommentStreamW            StreamType = 11
	HandleDataStream          StreamType = 12
	FunctionTableStream       StreamType = 13
	UnloadedModuleListStream  StreamType = 14
	MiscInfoStream            StreamType = 15
	MemoryInfoListStream      StreamType = 16
	ThreadInfoListStream      StreamType = 17
	HandleOperationListStream StreamType = 18
	TokenStream               StreamType = 19
	SystemMemoryInfoStream    StreamType = 21
	ProcessVmCountersStream   StreamType = 22
	ThreadNamesStream         StreamType = 24

	BreakpadInfoStream    StreamType = 0x47670001
	AssertionInfoStream   StreamType = 0x47670002
	LinuxCPUInfoStream    StreamType = 0x47670003
	LinuxProcStatusStream StreamType = 0x47670004
	LinuxLSBReleaseStream StreamType = 0x47670005
	LinuxCmdLineStream    StreamType = 0x47670006
	LinuxEnvironStream    StreamType = 0x47670007
	LinuxAuxvStream       StreamType = 0x47670008
	LinuxMapsStream       StreamType = 0x47670009
	LinuxDSODebugStream   StreamType = 0x4767000a
	CrashpadInfoStream    StreamType = 0x43500001
	MozMacosCrashInfo     StreamType = 0x4d7a0001
	MozLinuxLimits        StreamType = 0x4d7a0003
)

var streamNames = map[StreamType]string{
	UnusedStream: "UnusedStream", ThreadListStream: "ThreadListStream", ModuleListStream: "ModuleListStream",
	MemoryListStream: "MemoryListStream", ExceptionStream: "ExceptionStream", SystemInfoStream: "SystemInfoStream",
	ThreadExListStream: "ThreadExListStream", Memory64ListStream: "Memory64ListStream", CommentStreamA: "CommentStreamA",
	CommentStreamW: "CommentStreamW", HandleDataStream: "HandleDataStream", FunctionTableStream: "FunctionTableStream",
	UnloadedModuleListStream: "UnloadedModuleListStream", MiscInfoStream: "MiscInfoStream",
	MemoryInfoListStream: "MemoryInfoListStream", ThreadInfoListStream: "ThreadInfoListStream",
	HandleOperationListStream: "HandleOperationListStream", TokenStream: "TokenStream",
	SystemMemoryInfoStream: "SystemMemoryInfoStream", ProcessVmCountersStream: "ProcessVmCountersStream",
	ThreadNamesStream: "ThreadNamesStream", BreakpadInfoStream: "BreakpadInfoStream",
	AssertionInfoStream: "AssertionInfoStream", LinuxCPUInfoStream: "LinuxCpuInfoStream",
	LinuxProcStatusStream: "LinuxProcStatusStream", LinuxLSBReleaseStream: "LinuxLsbReleaseStream",
	LinuxCmdLineStream: "LinuxCmdLineStream", LinuxEnvironStream: "LinuxEnvironStream",
	LinuxAuxvStream: "LinuxAuxvStream", LinuxMapsStream: "LinuxMapsStream", LinuxDSODebugStream: "LinuxDsoDebugStream",
	CrashpadInfoStream: "CrashpadInfoStream", MozMacosCrashInfo: "MozMacosCrashInfoStream", MozLinuxLimits: "MozLinuxLimits",
}

func (t StreamType) String() string {
	if s, ok := streamNames[t]; ok {
		return s
	}
	return "StreamType(0x" + hex32(uint32(t)) + ")"
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := 7; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

// ProcessorArchitecture values of MINIDUMP_SYSTEM_INFO (winnt.h
// PROCESSOR_ARCHITECTURE_*; 0x8001.. are Breakpad's additions).
const (
	ArchX86           = 0
	ArchMIPS          = 1
	ArchAlpha         = 2
	ArchPPC           = 3
	ArchSHX           = 4
	ArchARM           = 5
	ArchIA64          = 6
	ArchAlpha64       = 7
	ArchMSIL          = 8
	ArchAMD64         = 9
	ArchX86OnWin64    = 10
	ArchARM64         = 12
	ArchSPARC         = 0x8001
	ArchPPC64         = 0x8002
	ArchARM64Breakpad = 0x8003
	ArchMIPS64        = 0x8004
	ArchRISCV         = 0x8005
	ArchRISCV64       = 0x8006
)

// PlatformId values of MINIDUMP_SYSTEM_INFO (VER_PLATFORM_*, and Breakpad's
// MD_OS_* for other systems).
const (
	PlatformWin32s       = 0
	PlatformWin32Windows = 1
	PlatformWin32NT      = 2
	PlatformWin32CE      = 3
	PlatformUnix         = 0x8000
	PlatformMacOSX       = 0x8101
	PlatformIOS          = 0x8102
	PlatformLinux        = 0x8201
	PlatformSolaris      = 0x8202
	PlatformAndroid      = 0x8203
	PlatformPS3          = 0x8204
	PlatformNaCl         = 0x8205
	PlatformFuchsia      = 0x8206
)

// MINIDUMP_MISC_INFO.Flags1 bits.
const (
	miscProcessID    = 0x1
	miscProcessTimes = 0x2
)

// Sizes of fixed records.
const (
	headerSize     = 32  // MINIDUMP_HEADER
	directorySize  = 12  // MINIDUMP_DIRECTORY
	systemInfoSize = 56  // MINIDUMP_SYSTEM_INFO
	exceptionSize  = 168 // MINIDUMP_EXCEPTION_STREAM
	moduleSize     = 108 // MINIDUMP_MODULE
)

// ContextFlags architecture bits (winnt.h CONTEXT_i386, CONTEXT_AMD64,
// CONTEXT_ARM, CONTEXT_ARM64; Breakpad's MD_CONTEXT_ARM and
// MD_CONTEXT_ARM64_OLD in minidump_cpu_arm.h / minidump_cpu_arm64.h).
const (
	ContextFlagX86        = 0x00010000
	ContextFlagAMD64      = 0x00100000
	ContextFlagARMWindows = 0x00200000
	ContextFlagARM64      = 0x00400000
	ContextFlagARM        = 0x40000000 // MD_CONTEXT_ARM
	ContextFlagARM64Old   = 0x80000000 // MD_CONTEXT_ARM64_OLD (64-bit flags word)
	contextXStateBit      = 0x40       // CONTEXT_XSTATE, relative to the arch bit
	contextAMD64Size      = 1232       // sizeof(CONTEXT) on x64
	contextX86Size        = 716        // sizeof(CONTEXT) on x86, with ExtendedRegisters
	contextARM64Size      = 912        // sizeof(ARM64_NT_CONTEXT)
	contextARM64OldLen    = 796        // MDRawContextARM64_Old, packed
	contextARMSize        = 368        // MDRawContextARM
	contextARMWinSize     = 416        // sizeof(CONTEXT) on Windows ARM
	contextExSize         = 24         // CONTEXT_EX: All, Legacy, XState chunks
	xsaveLegacySize       = 512        // XSAVE legacy region (x87/SSE)
	xsaveHeaderSize       = 64         // XSAVE_AREA_HEADER
)

// XSAVE feature bits (XSTATE_* in winnt.h).
const (
	XStateAVX  = 2
	XStateCETU = 11
)

// CodeView record signatures (the first four bytes of a module's CvRecord).
const (
	CVSignatureRSDS = 0x53445352 // "RSDS": PDB 7.0
	CVSignatureNB10 = 0x3031424e // "NB10": PDB 2.0
	CVSignatureELF  = 0x4270454c // "LEpB": Breakpad's ELF build id (MD_CVINFOELF_SIGNATURE)
)

// VSFixedFileInfoSignature is VS_FIXEDFILEINFO.dwSignature.
const VSFixedFileInfoSignature = 0xfeef04bd

// MINIDUMP_MISC_INFO Flags1 bits beyond the first two.
const (
	miscProcessorPowerInfo = 0x4
	miscProcessIntegrity   = 0x10
	miscExecuteFlags       = 0x20
	miscTimeZone           = 0x40
	miscProtectedProcess   = 0x80
	miscBuildString        = 0x100
	miscProcessCookie      = 0x200
)
