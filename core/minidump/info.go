package minidump

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/crashbench/crashbench/core/codes"
	"github.com/crashbench/crashbench/core/model"
)

var _ model.Target = (*File)(nil)
var _ model.RangeLister = (*File)(nil)

// Info returns the dump's summary (memoised).
func (f *File) Info() model.Info { return f.info() }

// note records an accessor error as a diagnostic unless the stream is simply
// absent.
func (f *File) note(err error) {
	if err == nil || errors.Is(err, ErrNoStream) {
		return
	}
	var fe *FormatError
	off := int64(-1)
	if errors.As(err, &fe) {
		off = fe.Off
	}
	f.diag(model.Warning, off, err.Error())
}

func (f *File) buildInfo() model.Info {
	info := model.Info{Format: model.Minidump, Variant: "user", Threads: -1, Modules: -1}
	if f.find(Memory64ListStream) >= 0 {
		info.Variant = "full-memory"
	}
	if f.header.TimeDateStamp != 0 {
		info.Time = time.Unix(int64(f.header.TimeDateStamp), 0).UTC()
	}

	si, err := f.SystemInfo()
	f.note(err)
	if si != nil {
		info.Arch = archName(si.ProcessorArchitecture)
		info.CPUs = int(si.NumberOfProcessors)
		info.OS = osInfo(si)
	}

	if n, err := f.ThreadCount(); err == nil {
		info.Threads = n
	} else {
		f.note(err)
	}
	if n, err := f.ModuleCount(); err == nil {
		info.Modules = n
	} else {
		f.note(err)
	}

	proc := &model.Process{}
	if name, err := f.MainModuleName(); err == nil {
		proc.Name = baseName(name)
	} else {
		f.note(err)
	}
	if m, err := f.MiscInfo(); err == nil {
		if m.HasProcessID {
			proc.PID = uint64(m.ProcessID)
		}
		if m.HasProcessTimes && m.ProcessCreateTime != 0 && f.header.TimeDateStamp >= m.ProcessCreateTime {
			info.Uptime = time.Duration(f.header.TimeDateStamp-m.ProcessCreateTime) * time.Second
		}
	} else {
		f.note(err)
	}
	if pid, err := f.LinuxPID(); err == nil && proc.PID == 0 {
		proc.PID = pid
	} else {
		f.note(err)
	}
	if cmd, err := f.LinuxCmdLine(); err == nil {
		proc.CommandLine = cmd
	} else {
		f.note(err)
	}
	if *proc != (model.Process{}) {
		info.Process = proc
	}

	if e, err := f.Exception(); err == nil {
		info.Crash = crash(e, info.OS.Family, info.Arch)
	} else {
		f.note(err)
		info.Crash = &model.Crash{Kind: model.NoCrash}
	}
	info.Details = append(info.Details,
		model.Detail{Key: "Streams", Value: fmt.Sprint(len(f.dir))},
		model.Detail{Key: "Version", Value: fmt.Sprintf("%#x", f.header.Version)},
		model.Detail{Key: "Flags", Value: fmt.Sprintf("%#x", f.header.Flags)})
	return info
}

// dumpRequested is Breakpad's MD_EXCEPTION_CODE_LIN_DUMP_REQUESTED (and its
// Windows twin): a dump written on request, not a crash.
const dumpRequested = 0xffffffff

// baseName strips a Windows or POSIX directory.
func baseName(p string) string {
	if i := strings.LastIndexByte(p, '\\'); i >= 0 {
		p = p[i+1:]
	}
	return path.Base(p)
}

func archName(a uint16) model.Arch {
	switch a {
	case ArchX86, ArchX86OnWin64:
		return model.X86
	case ArchAMD64:
		return model.AMD64
	case ArchARM:
		return model.ARM
	case ArchARM64, ArchARM64Breakpad:
		return model.ARM64
	case ArchPPC:
		return model.PPC
	case ArchPPC64:
		return model.PPC64
	case ArchMIPS:
		return model.MIPS
	case ArchMIPS64:
		return model.MIPS64
	case ArchIA64:
		return model.IA64
	case ArchSPARC:
		return model.SPARC
	case ArchRISCV:
		return model.RISCV32
	case ArchRISCV64:
		return model.RISCV64
	case ArchAlpha, ArchAlpha64:
		return model.Alpha
	}
	return ""
}

func osInfo(si *SystemInfo) model.OS {
	o := model.OS{Version: fmt.Sprintf("%d.%d.%d", si.MajorVersion, si.MinorVersion, si.BuildNumber), Build: si.CSDVersion}
	switch si.PlatformID {
	case PlatformWin32s, PlatformWin32Windows, PlatformWin32NT, PlatformWin32CE:
		o.Family = model.Windows
	case PlatformMacOSX:
		o.Family = model.MacOS
	case PlatformIOS:
		o.Family = model.IOS
	case PlatformLinux:
		o.Family = model.Linux
	case PlatformAndroid:
		o.Family = model.Android
	case PlatformSolaris:
		o.Family = model.Solaris
	case PlatformFuchsia:
		o.Family = model.Fuchsia
	}
	// Breakpad's Linux writer puts "Linux <release> <version> <machine>" in
	// the CSD string; the release is the uname -r a support engineer knows.
	if o.Family == model.Linux || o.Family == model.Android {
		// Crashpad writes the version numbers and only the rest of the
		// release ("-1rodete2-amd64 #1 SMP ...").
		f := strings.Fields(si.CSDVersion)
		switch {
		case len(f) >= 2 && f[0] == "Linux":
			o.Release = f[1]
		case len(f) >= 1 && strings.HasPrefix(f[0], "-"):
			o.Release = o.Version + f[0]
		}
		if o.Version == "0.0.0" && o.Release != "" {
			o.Version = strings.SplitN(o.Release, "-", 2)[0]
		}
	}
	return o
}

// crash turns the exception record into the neutral crash description. The
// code's meaning depends on the OS: an NTSTATUS on Windows, a signal number
// (with si_code in the flags) from Breakpad on Linux, a Mach exception type
// (with its code in the flags) on macOS and iOS.
func crash(e *Exception, family model.OSFamily, arch model.Arch) *model.Crash {
	r := e.Record
	tid := uint64(e.ThreadID)
	// 32-bit writers sign-extend addresses into the 64-bit fields
	// (Breakpad's Test32BitCrashingAddress): keep the low 32 bits.
	if arch == model.X86 || arch == model.ARM || arch == model.PPC || arch == model.MIPS {
		r.ExceptionAddress &= 0xffffffff
		params := make([]uint64, len(r.ExceptionInformation))
		for i, p := range r.ExceptionInformation {
			params[i] = p & 0xffffffff
		}
		r.ExceptionInformation = params
	}
	pc := r.ExceptionAddress
	c := &model.Crash{Code: uint64(r.ExceptionCode), Parameters: r.ExceptionInformation, ThreadID: &tid}
	addr := r.ExceptionAddress
	switch family {
	case model.Linux, model.Android, model.Solaris, model.Fuchsia:
		c.Kind = model.Signal
		if r.ExceptionCode == dumpRequested {
			c.Kind, c.Name = model.NoCrash, "DUMP_REQUESTED"
			break
		}
		numbering := codes.LinuxGeneric
		if arch == model.MIPS || arch == model.MIPS64 {
			numbering = codes.LinuxMIPS
		}
		c.Name = codes.Signal(int(r.ExceptionCode), numbering)
		// Breakpad stores si_code in the flags; zero there means the writer
		// did not record one, so no suffix (as minidump_stackwalk prints).
		if sub := codes.SigCode(c.Name, int32(r.ExceptionFlags)); sub != "" && c.Name != "" && r.ExceptionFlags != 0 {
			c.Name += " / " + sub
		}
	case model.MacOS, model.IOS:
		c.Kind = model.Exception
		c.Name = codes.MachException(r.ExceptionCode)
		if c.Name == "SIMULATED" {
			c.Kind = model.NoCrash
		} else if sub := codes.MachCode(r.ExceptionCode, r.ExceptionFlags); sub != "" && c.Name != "" {
			c.Name += " / " + sub
		}
	default:
		c.Kind = model.Exception
		c.Name = codes.WindowsException(r.ExceptionCode, r.ExceptionInformation)
		if r.ExceptionCode == dumpRequested || r.ExceptionCode == 0x517a7ed0 {
			c.Kind = model.NoCrash
		}
		c.PC = &pc
		// For access violations and in-page errors the data address is the
		// second parameter; the exception address is the instruction.
		if (r.ExceptionCode == 0xc0000005 || r.ExceptionCode == 0xc0000006) && len(r.ExceptionInformation) >= 2 {
			addr = r.ExceptionInformation[1]
		}
		if r.ExceptionCode == 0xc0000409 && len(r.ExceptionInformation) >= 1 {
			if ff := codes.FastFail(r.ExceptionInformation[0]); ff != "" {
				c.Message = ff
			}
		}
	}
	c.Address = &addr
	return c
}
