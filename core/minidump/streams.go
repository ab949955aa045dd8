package minidump

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/model"
)

// SystemInfo is MINIDUMP_SYSTEM_INFO with its service-pack string resolved.
type SystemInfo struct {
	ProcessorArchitecture uint16
	ProcessorLevel        uint16
	ProcessorRevision     uint16
	NumberOfProcessors    uint8
	ProductType           uint8
	MajorVersion          uint32
	MinorVersion          uint32
	BuildNumber           uint32
	PlatformID            uint32
	CSDVersionRva         uint32
	SuiteMask             uint16
	CSDVersion            string

	// CPU is the CPU_INFORMATION union: for x86 and amd64 the CPUID
	// vendor, version and feature words; otherwise ProcessorFeatures.
	CPU CPUInformation
}

// CPUInformation is the CPU_INFORMATION union of MINIDUMP_SYSTEM_INFO, both
// views decoded.
type CPUInformation struct {
	VendorID               [3]uint32 // x86: CPUID 0 EBX, EDX, ECX
	VersionInformation     uint32    // CPUID 1 EAX
	FeatureInformation     uint32    // CPUID 1 EDX
	AMDExtendedCPUFeatures uint32    // CPUID 0x80000001 EBX
	ProcessorFeatures      [2]uint64 // other architectures
}

// Vendor returns the CPUID vendor string ("GenuineIntel"), or "" when the
// words are not printable ASCII.
func (c CPUInformation) Vendor() string {
	var b [12]byte
	for i, w := range c.VendorID {
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	}
	for _, x := range b {
		if x < 0x20 || x > 0x7e {
			return ""
		}
	}
	return string(b[:])
}

// CPUInfo describes an x86 or amd64 CPU as Breakpad's processor does
// ("GenuineIntel family 6 model 13 stepping 8"): family from
// ProcessorLevel, model and stepping from the bytes of ProcessorRevision,
// and the CPUID vendor only for x86 dumps. Other architectures give "".
func (s *SystemInfo) CPUInfo() string {
	switch s.ProcessorArchitecture {
	case ArchX86, ArchX86OnWin64, ArchAMD64:
	default:
		return ""
	}
	out := fmt.Sprintf("family %d model %d stepping %d", s.ProcessorLevel, s.ProcessorRevision>>8, s.ProcessorRevision&0xff)
	if s.ProcessorArchitecture != ArchAMD64 {
		if v := s.CPU.Vendor(); v != "" {
			out = v + " " + out
		}
	}
	return out
}

// SystemInfo decodes the SystemInfoStream.
func (f *File) SystemInfo() (*SystemInfo, error) {
	b, off, err := f.streamBytes(SystemInfoStream, systemInfoSize)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, off, f.order)
	s := &SystemInfo{}
	s.ProcessorArchitecture, s.ProcessorLevel, s.ProcessorRevision = c.U16(), c.U16(), c.U16()
	s.NumberOfProcessors, s.ProductType = c.U8(), c.U8()
	s.MajorVersion, s.MinorVersion, s.BuildNumber, s.PlatformID = c.U32(), c.U32(), c.U32(), c.U32()
	s.CSDVersionRva = c.U32()
	s.SuiteMask = c.U16()
	c.U16() // Reserved2
	cpu := c.Bytes(24)
	if cpu != nil {
		cc := bin.New(cpu, off+32, f.order)
		s.CPU.VendorID = [3]uint32{cc.U32(), cc.U32(), cc.U32()}
		s.CPU.VersionInformation, s.CPU.FeatureInformation, s.CPU.AMDExtendedCPUFeatures = cc.U32(), cc.U32(), cc.U32()
		cc = bin.New(cpu, off+32, f.order)
		s.CPU.ProcessorFeatures = [2]uint64{cc.U64(), cc.U64()}
	}
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "SystemInfoStream too short", Err: c.Err()}
	}
	if s.CSDVersionRva != 0 {
		csd, err := f.readString(s.CSDVersionRva)
		if err != nil {
			f.diag(model.Warning, int64(s.CSDVersionRva), "service pack string unreadable: "+err.Error())
		}
		s.CSDVersion = csd
	}
	return s, nil
}

// ExceptionRecord is MINIDUMP_EXCEPTION.
type ExceptionRecord struct {
	ExceptionCode        uint32
	ExceptionFlags       uint32
	ExceptionRecord      uint64
	ExceptionAddress     uint64
	NumberParameters     uint32
	ExceptionInformation []uint64 // the first min(NumberParameters, 15) parameters
}

// Exception is MINIDUMP_EXCEPTION_STREAM.
type Exception struct {
	ThreadID        uint32
	Record          ExceptionRecord
	ContextDataSize uint32
	ContextRva      uint32
}

// Exception decodes the ExceptionStream.
func (f *File) Exception() (*Exception, error) {
	b, off, err := f.streamBytes(ExceptionStream, exceptionSize)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, off, f.order)
	e := &Exception{ThreadID: c.U32()}
	c.U32() // __alignment
	r := &e.Record
	r.ExceptionCode, r.ExceptionFlags = c.U32(), c.U32()
	r.ExceptionRecord, r.ExceptionAddress = c.U64(), c.U64()
	r.NumberParameters = c.U32()
	c.U32() // __unusedAlignment
	var params [15]uint64
	for i := range params {
		params[i] = c.U64()
	}
	e.ContextDataSize, e.ContextRva = c.U32(), c.U32()
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "ExceptionStream too short", Err: c.Err()}
	}
	n := r.NumberParameters
	if n > 15 {
		f.diag(model.Warning, off+32, fmt.Sprintf("exception claims %d parameters, at most 15 fit", n))
		n = 15
	}
	r.ExceptionInformation = params[:n]
	return e, nil
}

// MiscInfo holds MINIDUMP_MISC_INFO through MINIDUMP_MISC_INFO_5: the
// fields of later versions are decoded when SizeOfInfo (and the stream) is
// large enough, and the Has* flags say which Flags1 marks valid.
type MiscInfo struct {
	SizeOfInfo        uint32
	Flags1            uint32
	ProcessID         uint32
	ProcessCreateTime uint32 // time_t
	ProcessUserTime   uint32 // seconds
	ProcessKernelTime uint32
	HasProcessID      bool
	HasProcessTimes   bool

	// MINIDUMP_MISC_INFO_2
	ProcessorMaxMhz, ProcessorCurrentMhz, ProcessorMhzLimit uint32
	ProcessorMaxIdleState, ProcessorCurrentIdleState        uint32
	HasProcessorPower                                       bool

	// MINIDUMP_MISC_INFO_3
	ProcessIntegrityLevel, ProcessExecuteFlags, ProtectedProcess uint32
	TimeZoneID                                                   uint32
	TimeZone                                                     *TimeZone

	// MINIDUMP_MISC_INFO_4
	BuildString, DbgBldStr string

	// MINIDUMP_MISC_INFO_5
	XState        *XStateConfig
	ProcessCookie uint32
	HasCookie     bool
}

// TimeZone is TIME_ZONE_INFORMATION (SYSTEMTIMEs kept as their 8 words).
type TimeZone struct {
	Bias         int32
	StandardName string
	StandardDate [8]uint16
	StandardBias int32
	DaylightName string
	DaylightDate [8]uint16
	DaylightBias int32
}

// XStateConfig is XSTATE_CONFIG_FEATURE_MSC_INFO: where each enabled XSAVE
// feature lives in the standard-form XSAVE area.
type XStateConfig struct {
	SizeOfInfo      uint32
	ContextSize     uint32
	EnabledFeatures uint64
	Features        [64]struct{ Offset, Size uint32 }
}

// MiscInfo decodes the MiscInfoStream, any of its five versions.
func (f *File) MiscInfo() (*MiscInfo, error) {
	b, off, err := f.streamBytes(MiscInfoStream, 1364)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, off, f.order)
	m := &MiscInfo{SizeOfInfo: c.U32(), Flags1: c.U32(), ProcessID: c.U32(),
		ProcessCreateTime: c.U32(), ProcessUserTime: c.U32(), ProcessKernelTime: c.U32()}
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "MiscInfoStream too short", Err: c.Err()}
	}
	m.HasProcessID = m.Flags1&miscProcessID != 0
	m.HasProcessTimes = m.Flags1&miscProcessTimes != 0
	size := min(int(m.SizeOfInfo), len(b))
	if size >= 44 {
		m.ProcessorMaxMhz, m.ProcessorCurrentMhz, m.ProcessorMhzLimit = c.U32(), c.U32(), c.U32()
		m.ProcessorMaxIdleState, m.ProcessorCurrentIdleState = c.U32(), c.U32()
		m.HasProcessorPower = m.Flags1&miscProcessorPowerInfo != 0
	}
	if size >= 232 {
		m.ProcessIntegrityLevel, m.ProcessExecuteFlags, m.ProtectedProcess = c.U32(), c.U32(), c.U32()
		m.TimeZoneID = c.U32()
		tz := &TimeZone{Bias: int32(c.U32()), StandardName: bin.UTF16(c.Bytes(64), f.order)}
		for i := range tz.StandardDate {
			tz.StandardDate[i] = c.U16()
		}
		tz.StandardBias = int32(c.U32())
		tz.DaylightName = bin.UTF16(c.Bytes(64), f.order)
		for i := range tz.DaylightDate {
			tz.DaylightDate[i] = c.U16()
		}
		tz.DaylightBias = int32(c.U32())
		if m.Flags1&miscTimeZone != 0 {
			m.TimeZone = tz
		}
	}
	if size >= 832 {
		m.BuildString = bin.UTF16(c.Bytes(520), f.order)
		m.DbgBldStr = bin.UTF16(c.Bytes(80), f.order)
	}
	if size >= 1364 {
		x := &XStateConfig{SizeOfInfo: c.U32(), ContextSize: c.U32(), EnabledFeatures: c.U64()}
		for i := range x.Features {
			x.Features[i].Offset, x.Features[i].Size = c.U32(), c.U32()
		}
		m.XState = x
		m.ProcessCookie = c.U32()
		m.HasCookie = m.Flags1&miscProcessCookie != 0
	}
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "MiscInfoStream shorter than its SizeOfInfo", Err: c.Err()}
	}
	return m, nil
}

// listCount returns the leading 32-bit count of a list stream, bounded by
// how many entries of entrySize the stream can hold.
func (f *File) listCount(t StreamType, entrySize int64) (int, error) {
	i := f.find(t)
	if i < 0 {
		return 0, ErrNoStream
	}
	b, off, err := f.streamBytes(t, 4)
	if err != nil {
		return 0, err
	}
	if len(b) < 4 {
		return 0, &FormatError{Off: off, What: t.String() + " too short for its count"}
	}
	n := int64(f.order.Uint32(b))
	// Some writers pad the count to 8 bytes (Breakpad, for alignment); the
	// bound below holds either way.
	if avail := (f.Stream(i).Size() - 4) / entrySize; n > avail {
		f.diag(model.Warning, off, fmt.Sprintf("%v claims %d entries but its %d bytes hold at most %d", t, n, f.Stream(i).Size(), max(avail, 0)))
		n = max(avail, 0)
	}
	return int(n), nil
}

// ThreadCount returns the number of threads in the ThreadListStream.
func (f *File) ThreadCount() (int, error) { return f.listCount(ThreadListStream, 48) }

// ModuleCount returns the number of modules in the ModuleListStream.
func (f *File) ModuleCount() (int, error) { return f.listCount(ModuleListStream, moduleSize) }

// MainModuleName returns the path of the first module, which every writer
// puts first: the process's executable.
func (f *File) MainModuleName() (string, error) {
	n, err := f.ModuleCount()
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", ErrNoStream
	}
	i := f.find(ModuleListStream)
	sr := f.Stream(i)
	// The count is followed directly by the entries, or by 4 bytes of padding
	// when the stream size says so (Breakpad writes it padded on some
	// platforms).
	start := int64(4)
	if (sr.Size()-4)%moduleSize != 0 && (sr.Size()-8)%moduleSize == 0 {
		start = 8
	}
	var mb [moduleSize]byte
	if _, err := sr.ReadAt(mb[:], start); err != nil {
		return "", &FormatError{Off: int64(f.dir[i].Rva) + start, What: "reading first module", Err: err}
	}
	rva := f.order.Uint32(mb[20:])
	return f.readString(rva)
}

// LinuxCmdLine returns Breakpad's LinuxCmdLineStream with NULs as spaces.
func (f *File) LinuxCmdLine() (string, error) {
	b, _, err := f.streamBytes(LinuxCmdLineStream, 64<<10)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(bytes.ReplaceAll(bytes.TrimRight(b, "\x00"), []byte{0}, []byte{' '}))), nil
}

// LinuxPID returns the Pid: line of Breakpad's LinuxProcStatusStream.
func (f *File) LinuxPID() (uint64, error) {
	b, off, err := f.streamBytes(LinuxProcStatusStream, 64<<10)
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pid:"); ok {
			pid, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, &FormatError{Off: off, What: "bad Pid line in LinuxProcStatusStream", Err: err}
			}
			return pid, nil
		}
	}
	return 0, ErrNoStream
}

// MemoryRange is one captured range of a MemoryList or Memory64List.
type MemoryRange struct {
	Start, Size uint64
	FileOff     int64
}

// maxRanges caps list decoding; each entry is at least 16 file bytes, so the
// file size bounds it too.
func (f *File) memoryRanges() ([]MemoryRange, error) {
	if i := f.find(Memory64ListStream); i >= 0 {
		return f.memory64(i)
	}
	if i := f.find(MemoryListStream); i >= 0 {
		return f.memory32(i)
	}
	return nil, ErrNoStream
}

func (f *File) memory32(i int) ([]MemoryRange, error) {
	n, err := f.listCount(MemoryListStream, 16)
	if err != nil {
		return nil, err
	}
	sr := f.Stream(i)
	start := int64(4)
	if (sr.Size()-4)%16 != 0 && (sr.Size()-8)%16 == 0 {
		start = 8
	}
	buf := make([]byte, int64(n)*16)
	if _, err := sr.ReadAt(buf, start); err != nil {
		return nil, &FormatError{Off: int64(f.dir[i].Rva), What: "reading MemoryListStream", Err: err}
	}
	c := bin.New(buf, int64(f.dir[i].Rva)+start, f.order)
	out := make([]MemoryRange, 0, n)
	for range n {
		addr, size, rva := c.U64(), c.U32(), c.U32()
		out = append(out, MemoryRange{Start: addr, Size: uint64(size), FileOff: int64(rva)})
	}
	return out, nil
}

func (f *File) memory64(i int) ([]MemoryRange, error) {
	sr := f.Stream(i)
	var hb [16]byte
	if _, err := sr.ReadAt(hb[:], 0); err != nil {
		return nil, &FormatError{Off: int64(f.dir[i].Rva), What: "Memory64ListStream too short", Err: err}
	}
	n := f.order.Uint64(hb[:])
	base := f.order.Uint64(hb[8:])
	if avail := uint64(max(sr.Size()-16, 0)) / 16; n > avail {
		f.diag(model.Warning, int64(f.dir[i].Rva), fmt.Sprintf("Memory64ListStream claims %d ranges but holds at most %d", n, avail))
		n = avail
	}
	buf := make([]byte, n*16)
	if _, err := sr.ReadAt(buf, 16); err != nil {
		return nil, &FormatError{Off: int64(f.dir[i].Rva) + 16, What: "reading Memory64ListStream", Err: err}
	}
	c := bin.New(buf, int64(f.dir[i].Rva)+16, f.order)
	out := make([]MemoryRange, 0, n)
	off := base
	for range n {
		addr, size := c.U64(), c.U64()
		out = append(out, MemoryRange{Start: addr, Size: size, FileOff: int64(off)})
		off += size
	}
	return out, nil
}

// Ranges returns the captured memory ranges (Memory64List preferred, as
// rust-minidump's UnifiedMemoryList does).
func (f *File) Ranges() ([]model.Range, error) {
	rs, err := f.memoryRanges()
	if err == ErrNoStream {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]model.Range, len(rs))
	for i, r := range rs {
		out[i] = model.Range{Start: r.Start, Size: r.Size, FileOff: r.FileOff}
	}
	return out, nil
}
