//go:build windows

package crashcfg

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// ReadWindows reads the crash-dump settings of this machine from the
// registry, and its RAM, page files and volumes. Absent keys and values
// are left unset (defaults apply); any other failure is returned with
// what could be read.
func ReadWindows() (WindowsConfig, Machine, error) {
	var errs []error
	var c WindowsConfig

	r := winRegReader{errs: &errs}
	cc := r.open(winCrashControl)
	c.CrashDumpEnabled = r.dword(cc, "CrashDumpEnabled")
	c.FilterPages = r.dword(cc, "FilterPages")
	c.DumpFile = r.str(cc, "DumpFile")
	c.MinidumpDir = r.str(cc, "MinidumpDir")
	c.Overwrite = r.dword(cc, "Overwrite")
	c.AutoReboot = r.dword(cc, "AutoReboot")
	c.LogEvent = r.dword(cc, "LogEvent")
	c.AlwaysKeepMemoryDump = r.dword(cc, "AlwaysKeepMemoryDump")
	c.DedicatedDumpFile = r.str(cc, "DedicatedDumpFile")
	c.DumpFileSize = r.dword(cc, "DumpFileSize")
	c.IgnorePagefileSize = r.dword(cc, "IgnorePagefileSize")
	c.NMICrashDump = r.dword(cc, "NMICrashDump")
	r.close(cc)

	c.I8042 = r.keyboard("i8042prt")
	c.KbdHID = r.keyboard("kbdhid")

	if mm := r.open(winMemoryMgmt); mm != 0 {
		files, _, err := mm.GetStringsValue("PagingFiles")
		switch {
		case err == nil:
			c.PageFiles = PageFiles{Read: true, Files: ParsePagingFiles(files)}
		case errors.Is(err, registry.ErrNotExist):
			c.PageFiles = PageFiles{Read: true} // no page file
		default:
			errs = append(errs, fmt.Errorf("PagingFiles: %w", err))
		}
		r.close(mm)
	}

	if ld := r.open(winLocalDumps); ld != 0 {
		c.LocalDumps = r.localDumps(ld)
		names, err := ld.ReadSubKeyNames(-1)
		if err != nil {
			errs = append(errs, fmt.Errorf("LocalDumps subkeys: %w", err))
		}
		for _, n := range names {
			if k := r.open(winLocalDumps + `\` + n); k != 0 {
				c.AppDumps = append(c.AppDumps, WERAppDumps{App: n, WERLocalDumps: r.localDumps(k)})
				r.close(k)
			}
		}
		sortAppDumps(c.AppDumps)
		r.close(ld)
	}

	c.DomainJoined = winDomainJoined()

	m, err := winMachine()
	if err != nil {
		errs = append(errs, err)
	}

	// Which of the folders and files the settings name exist.
	c.Exists = map[string]bool{}
	paths := []string{winDumpPath(c), `%SystemRoot%\Minidump`}
	if c.MinidumpDir.Set {
		paths = append(paths, c.MinidumpDir.Value)
	}
	for _, l := range append([]WERAppDumps{{WERLocalDumps: c.LocalDumps}}, c.AppDumps...) {
		if l.DumpFolder.Set {
			paths = append(paths, l.DumpFolder.Value)
		}
	}
	for _, p := range paths {
		if x, err := registry.ExpandString(p); err == nil {
			_, err := os.Stat(x)
			c.Exists[p] = err == nil
		}
	}
	return c, m, errors.Join(errs...)
}

// winRegReader reads values, treating absent ones as unset.
type winRegReader struct{ errs *[]error }

// open opens an HKLM key by its HKLM\ path; 0 when it does not exist.
func (r winRegReader) open(path string) registry.Key {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, strings.TrimPrefix(path, `HKLM\`),
		registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS|registry.WOW64_64KEY)
	if err != nil {
		if !errors.Is(err, registry.ErrNotExist) {
			*r.errs = append(*r.errs, fmt.Errorf("%s: %w", path, err))
		}
		return 0
	}
	return k
}

func (r winRegReader) close(k registry.Key) {
	if k != 0 {
		k.Close()
	}
}

func (r winRegReader) dword(k registry.Key, name string) RegDWORD {
	if k == 0 {
		return RegDWORD{}
	}
	v, _, err := k.GetIntegerValue(name)
	if err != nil {
		if !errors.Is(err, registry.ErrNotExist) {
			*r.errs = append(*r.errs, fmt.Errorf("%s: %w", name, err))
		}
		return RegDWORD{}
	}
	return RegDWORD{Value: uint32(v), Set: true}
}

// str reads a REG_SZ or REG_EXPAND_SZ unexpanded.
func (r winRegReader) str(k registry.Key, name string) RegString {
	if k == 0 {
		return RegString{}
	}
	v, _, err := k.GetStringValue(name)
	if err != nil {
		if !errors.Is(err, registry.ErrNotExist) {
			*r.errs = append(*r.errs, fmt.Errorf("%s: %w", name, err))
		}
		return RegString{}
	}
	return RegString{Value: v, Set: true}
}

func (r winRegReader) keyboard(driver string) KeyboardCrash {
	var kb KeyboardCrash
	p := r.open(winServices + `\` + driver + `\Parameters`)
	kb.CrashOnCtrlScroll = r.dword(p, "CrashOnCtrlScroll")
	r.close(p)
	d := r.open(winServices + `\` + driver + `\crashdump`)
	kb.Dump1Keys = r.dword(d, "Dump1Keys")
	kb.Dump2Key = r.dword(d, "Dump2Key")
	r.close(d)
	return kb
}

func (r winRegReader) localDumps(k registry.Key) WERLocalDumps {
	return WERLocalDumps{
		Present:         true,
		DumpFolder:      r.str(k, "DumpFolder"),
		DumpCount:       r.dword(k, "DumpCount"),
		DumpType:        r.dword(k, "DumpType"),
		CustomDumpFlags: r.dword(k, "CustomDumpFlags"),
	}
}

func winDomainJoined() bool {
	var name *uint16
	var status uint32
	if err := windows.NetGetJoinInformation(nil, &name, &status); err != nil {
		return false
	}
	windows.NetApiBufferFree((*byte)(unsafe.Pointer(name)))
	return status == windows.NetSetupDomainName
}

// memoryStatusEx is MEMORYSTATUSEX, for GlobalMemoryStatusEx.
type memoryStatusEx struct {
	Length               uint32
	MemoryLoad           uint32
	TotalPhys            uint64
	AvailPhys            uint64
	TotalPageFile        uint64
	AvailPageFile        uint64
	TotalVirtual         uint64
	AvailVirtual         uint64
	AvailExtendedVirtual uint64
}

var procGlobalMemoryStatusEx = windows.NewLazySystemDLL("kernel32.dll").NewProc("GlobalMemoryStatusEx")

// winMachine reads RAM, version, SKU and the fixed volumes.
func winMachine() (Machine, error) {
	m := Machine{OS: Windows, Arch: runtime.GOARCH}
	var errs []error

	ms := memoryStatusEx{Length: uint32(unsafe.Sizeof(memoryStatusEx{}))}
	if ok, _, err := procGlobalMemoryStatusEx.Call(uintptr(unsafe.Pointer(&ms))); ok == 0 {
		errs = append(errs, fmt.Errorf("GlobalMemoryStatusEx: %w", err))
	} else {
		m.RAM = ms.TotalPhys
	}

	v := windows.RtlGetVersion()
	m.Release = fmt.Sprintf("%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)
	m.Client = v.ProductType == 1 // VER_NT_WORKSTATION

	boot := "C:"
	if dir, err := windows.GetWindowsDirectory(); err == nil && len(dir) >= 2 {
		boot = strings.ToUpper(dir[:2])
	}
	drives, err := windows.GetLogicalDrives()
	if err != nil {
		errs = append(errs, fmt.Errorf("GetLogicalDrives: %w", err))
	}
	for i := 0; i < 26; i++ {
		if drives&(1<<i) == 0 {
			continue
		}
		vol := string(rune('A'+i)) + ":"
		root, _ := windows.UTF16PtrFromString(vol + `\`)
		if windows.GetDriveType(root) != windows.DRIVE_FIXED {
			continue
		}
		var avail, total, free uint64
		if err := windows.GetDiskFreeSpaceEx(root, &avail, &total, &free); err != nil {
			errs = append(errs, fmt.Errorf("GetDiskFreeSpaceEx %s: %w", vol, err))
			continue
		}
		m.Disks = append(m.Disks, Disk{Mount: vol, Size: total, Free: free, Boot: vol == boot})
	}
	return m, errors.Join(errs...)
}
