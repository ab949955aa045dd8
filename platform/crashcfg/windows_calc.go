package crashcfg

import (
	"fmt"
	"strings"
	"time"
)

// Windows sizes. Page file sizes in the Virtual Memory dialog and in
// PagingFiles are MB of 2^20 bytes, and Microsoft's write-time table
// divides 1,024 GB by 100 MB/s into 10,485 s, so MB is 2^20 here too.
const (
	winMiB = 1 << 20
	winGiB = 1 << 30
)

const (
	// winDumpOverhead is the 1 MB of header plus up to 256 MB of
	// secondary crash dump data from drivers that a complete dump adds to
	// RAM (page file sizing: "1 x RAM plus 257 MB").
	winDumpOverhead = 257 * winMiB
	// winSmallPageFile is the page file a small dump needs on the boot
	// volume. The Overview and the failure-options pages say 2 MB, the
	// page-file sizing table 1 MB, the Small Memory Dump page 64 KB: the
	// largest is used.
	winSmallPageFile = 2 * winMiB
	// winSmallDump is a small dump's size: the dialog calls it 256 KB on
	// 64-bit Windows, the Learn text 64 KB; the larger is used.
	winSmallDump = 256 << 10
	// winAutoCap: after a crash, Automatic raises the system-managed page
	// file to RAM or 32 GB, whichever is smaller.
	winAutoCap = 32 * winGiB
	// winRecommendLimit: Microsoft recommends complete dumps up to 32 GB
	// of RAM and automatic dumps above.
	winRecommendLimit = 32 * winGiB
	// winRecommendPad: the recommended page file is RAM + 300 MB.
	winRecommendPad = 300 * winMiB
	// winDefaultMBps is assumed when a disk's speed is unknown: the HDD
	// speed in Microsoft's write-time table (an SSD is 500 MB/s there).
	winDefaultMBps = 100
	// winKeepFree: a non-domain-joined client keeps Memory.dmp only with
	// more than 25 GB free. Taken as GiB, the stricter reading.
	winKeepFree = 25 * winGiB
)

// WindowsDumpSpace is what the dump type needs on the boot volume: the
// page file (or, instead, a dedicated dump file of this size on any
// local volume). Time is the time to write the dump at the boot disk's
// speed.
func WindowsDumpSpace(m Machine, dumpType string) Estimate {
	ram := m.RAM
	var e Estimate
	switch dumpType {
	case WinDumpNone:
		e = Estimate{Basis: "no kernel dump is written, so no page file is needed for one", Source: srcWinDumpOptions}
	case WinDumpComplete:
		e = Estimate{Bytes: ram + winDumpOverhead,
			Basis: fmt.Sprintf("page file on the boot volume of RAM + 257 MB = %d MB, even when DumpFile is on another disk; Microsoft recommends RAM + 300 MB = %d MB on machines up to 32 GB",
				winMBCeil(ram+winDumpOverhead), winMBCeil(ram+winRecommendPad)),
			Source: srcWinDumpOptions + "; " + srcWinPageFileSize + "; " + srcWinBestPractice}
	case WinDumpActive:
		e = Estimate{Bytes: ram + winDumpOverhead, Estimate: true,
			Basis: fmt.Sprintf("estimate: Microsoft gives no page file size for an active dump (CrashDumpEnabled 1 with FilterPages 1); sized like a complete dump, RAM + 257 MB = %s, though the dump is typically significantly smaller",
				winSize(ram+winDumpOverhead)),
			Source: srcWinActiveDump + "; " + srcWinFailureConfig + "; " + srcWinPageFileSize}
	case WinDumpKernel:
		k := ram / 3
		e = Estimate{Bytes: k + winDumpOverhead, Estimate: true,
			Basis: fmt.Sprintf("estimate: the need \"depends on kernel virtual memory usage\"; a kernel dump is typically about a third of RAM (%s) + 257 MB of header and driver data = %s. Upper bound on 64-bit: RAM + 128 MB = %s; Microsoft also says a kernel dump is normally under 40 GB",
				winSize(k), winSize(k+winDumpOverhead), winSize(ram+128*winMiB)),
			Source: srcWinPageFileSize + "; " + srcWinKernelDump + "; " + srcWinFailureConfig + "; " + srcWinBestPractice}
	case WinDumpAutomatic:
		grown := min(ram, winAutoCap)
		e = Estimate{Bytes: grown, Estimate: true,
			Basis: fmt.Sprintf("estimate: with a system-managed page file Windows sizes it to hold a kernel dump \"most of the time\" (initially about RAM / 8, at most 32 GB); after a crash it grows to RAM or 32 GB, whichever is smaller: %s",
				winSize(grown)),
			Source: srcWinAutoDump + "; " + srcWinPageFileSize}
	case WinDumpSmall:
		e = Estimate{Bytes: winSmallPageFile,
			Basis:  "page file of at least 2 MB on the boot volume (the page file sizing table says 1 MB and the Small Memory Dump page 64 KB; the largest is used)",
			Source: srcWinDumpOptions + "; " + srcWinFailureConfig + "; " + srcWinPageFileSize + "; " + srcWinSmallDump}
	default:
		return Estimate{Estimate: true, Basis: "no documented size for dump type " + dumpType, Source: srcWinDumpOptions}
	}
	size := WindowsDumpSize(m, dumpType)
	e.Time = size.Time
	if e.Bytes > 0 {
		e.Basis += fmt.Sprintf("; a dedicated dump file needs DumpFileSize = %d MB", winMBCeil(e.Bytes))
	}
	e.Basis += "; " + winSpeedBasis(m)
	return e
}

// WindowsDumpSize is the size of the dump file itself: the free space
// needed where DumpFile (or MinidumpDir) points, and the time to write
// it at the boot disk's speed (the crash writes into the page file).
func WindowsDumpSize(m Machine, dumpType string) Estimate {
	ram := m.RAM
	var e Estimate
	switch dumpType {
	case WinDumpNone:
		return Estimate{Basis: "no kernel dump is written", Source: srcWinDumpOptions}
	case WinDumpComplete:
		e = Estimate{Bytes: ram + winDumpOverhead,
			Basis:  fmt.Sprintf("Memory.dmp holds all physical memory used by Windows plus header and driver data: at most RAM + 257 MB = %s", winSize(ram+winDumpOverhead)),
			Source: srcWinCompleteDump + "; " + srcWinPageFileSize}
	case WinDumpActive:
		e = Estimate{Bytes: ram + winDumpOverhead, Estimate: true,
			Basis:  fmt.Sprintf("estimate: at most a complete dump (%s); Microsoft says \"typically significantly smaller\" without a figure", winSize(ram+winDumpOverhead)),
			Source: srcWinActiveDump}
	case WinDumpKernel, WinDumpAutomatic:
		k := ram / 3
		e = Estimate{Bytes: k, Estimate: true,
			Basis:  fmt.Sprintf("estimate: a kernel dump (automatic writes the same contents) is typically around a third of RAM, %s; \"this will vary considerably\"", winSize(k)),
			Source: srcWinKernelDump + "; " + srcWinAutoDump}
	case WinDumpSmall:
		e = Estimate{Bytes: winSmallDump,
			Basis:  "a small dump is 256 KB on 64-bit Windows as the dialog labels it (Learn says 64 KB); one new file per crash in MinidumpDir",
			Source: srcWinSmallDump + "; " + srcWinPageFileSize}
	default:
		return Estimate{Estimate: true, Basis: "no documented size for dump type " + dumpType, Source: srcWinDumpOptions}
	}
	mbps := winBootMBps(m)
	e.Time = WindowsWriteTime(e.Bytes, mbps)
	e.Basis += "; " + winSpeedBasis(m)
	return e
}

// WindowsWriteTime is how long writing n bytes takes at mbps MB/s
// (MB = 2^20 bytes, as in Microsoft's table: 1,024 GB at 100 MB/s is
// 10,485 s). mbps <= 0 assumes 100 MB/s.
func WindowsWriteTime(n uint64, mbps float64) time.Duration {
	if mbps <= 0 {
		mbps = winDefaultMBps
	}
	return time.Duration(float64(n) / (mbps * winMiB) * float64(time.Second))
}

// WindowsRecommendedDumpType is Microsoft's recommendation for a blue
// screen: up to 32 GB of RAM, a complete dump with a page file of RAM +
// 300 MB; above, an automatic dump with a system-managed page file.
func WindowsRecommendedDumpType(m Machine) (dumpType, why string) {
	if m.RAM <= winRecommendLimit {
		return WinDumpComplete, fmt.Sprintf("Microsoft recommends, for up to 32 GB of RAM (this machine: %s), a complete dump with a page file of RAM + 300 MB (%d MB)",
			winSize(m.RAM), winMBCeil(m.RAM+winRecommendPad))
	}
	return WinDumpAutomatic, fmt.Sprintf("Microsoft recommends, above 32 GB of RAM (this machine: %s), an automatic dump with a system-managed page file: a kernel dump is normally under 40 GB",
		winSize(m.RAM))
}

// winBootDisk returns the boot volume, if the machine lists one.
func winBootDisk(m Machine) (Disk, bool) {
	for _, d := range m.Disks {
		if d.Boot {
			return d, true
		}
	}
	return Disk{}, false
}

// winBootVolume is the boot volume's drive, "C:" when not known.
func winBootVolume(m Machine) string {
	if d, ok := winBootDisk(m); ok && d.Mount != "" {
		return strings.ToUpper(d.Mount)
	}
	return "C:"
}

// winDisk finds the disk mounted at volume ("D:").
func winDisk(m Machine, volume string) (Disk, bool) {
	for _, d := range m.Disks {
		if strings.EqualFold(strings.TrimRight(d.Mount, `\`), volume) {
			return d, true
		}
	}
	return Disk{}, false
}

func winBootMBps(m Machine) float64 {
	if d, ok := winBootDisk(m); ok {
		return d.WriteMBps
	}
	return 0
}

func winSpeedBasis(m Machine) string {
	if s := winBootMBps(m); s > 0 {
		return fmt.Sprintf("write time at the boot disk's %g MB/s", s)
	}
	return fmt.Sprintf("write time at an assumed %d MB/s (disk speed unknown; Microsoft's table: HDD 100 MB/s, SSD 500 MB/s)", winDefaultMBps)
}

// winMBCeil is n in MB (2^20), rounded up.
func winMBCeil(n uint64) uint64 { return (n + winMiB - 1) / winMiB }

// winSize renders bytes as GB or MB (powers of two, as Windows shows them).
func winSize(n uint64) string {
	switch {
	case n >= winGiB:
		return fmt.Sprintf("%.1f GB", float64(n)/winGiB)
	case n >= winMiB:
		return fmt.Sprintf("%d MB", winMBCeil(n))
	}
	return fmt.Sprintf("%d KB", (n+1023)/1024)
}
