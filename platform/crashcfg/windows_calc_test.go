package crashcfg

import (
	"strings"
	"testing"
	"time"
)

const (
	tMiB = uint64(1) << 20
	tGiB = uint64(1) << 30
)

// The RAM sizes the issue asks for.
var winTestRAM = []uint64{8, 32, 33, 64, 1024}

func TestWindowsDumpSpace(t *testing.T) {
	for _, gib := range winTestRAM {
		ram := gib * tGiB
		m := Machine{OS: Windows, RAM: ram}
		tests := []struct {
			dumpType string
			want     uint64
			estimate bool
			basis    string
		}{
			// Overview: a page file on the boot volume of RAM + 257 MB.
			{WinDumpComplete, ram + 257*tMiB, false, "even when DumpFile is on another disk"},
			// Same backing as complete; no documented figure.
			{WinDumpActive, ram + 257*tMiB, true, "estimate"},
			// "Depends on kernel virtual memory usage": a third of RAM + 257 MB.
			{WinDumpKernel, ram/3 + 257*tMiB, true, "estimate"},
			// Automatic grows the page file to RAM or 32 GB, whichever is smaller.
			{WinDumpAutomatic, min(ram, 32*tGiB), true, "estimate"},
			// Small: at least 2 MB (the sizing table's 1 MB is smaller).
			{WinDumpSmall, 2 * tMiB, false, "at least 2 MB"},
			{WinDumpNone, 0, false, "no kernel dump"},
		}
		for _, tt := range tests {
			e := WindowsDumpSpace(m, tt.dumpType)
			if e.Bytes != tt.want || e.Estimate != tt.estimate {
				t.Errorf("%d GiB %s: %d bytes (estimate %v), want %d (estimate %v)", gib, tt.dumpType, e.Bytes, e.Estimate, tt.want, tt.estimate)
			}
			if !strings.Contains(e.Basis, tt.basis) || !strings.Contains(e.Basis, "assumed 100 MB/s") {
				t.Errorf("%d GiB %s: basis %q lacks %q or the assumed speed", gib, tt.dumpType, e.Basis, tt.basis)
			}
			if !strings.Contains(e.Source, "https://learn.microsoft.com/") {
				t.Errorf("%d GiB %s: source %q", gib, tt.dumpType, e.Source)
			}
		}
	}
	if e := WindowsDumpSpace(Machine{RAM: 8 * tGiB}, WinDumpUndocumented); e.Bytes != 0 || !e.Estimate {
		t.Errorf("undocumented type: %+v", e)
	}
}

// Spot values, written out: 32 GiB complete needs 32,768 + 257 MB;
// 1 TiB automatic stops at 32 GB.
func TestWindowsDumpSpaceValues(t *testing.T) {
	if got := WindowsDumpSpace(Machine{RAM: 32 * tGiB}, WinDumpComplete).Bytes / tMiB; got != 33025 {
		t.Errorf("32 GiB complete: %d MB, want 33025", got)
	}
	if got := WindowsDumpSpace(Machine{RAM: 1024 * tGiB}, WinDumpAutomatic).Bytes / tGiB; got != 32 {
		t.Errorf("1 TiB automatic: %d GB, want 32", got)
	}
	if got := WindowsDumpSpace(Machine{RAM: 8 * tGiB}, WinDumpAutomatic).Bytes / tGiB; got != 8 {
		t.Errorf("8 GiB automatic: %d GB, want 8", got)
	}
	if b := WindowsDumpSpace(Machine{RAM: 16 * tGiB}, WinDumpComplete).Basis; !strings.Contains(b, "DumpFileSize = 16641 MB") {
		t.Errorf("16 GiB complete basis lacks the dedicated dump file size: %q", b)
	}
}

func TestWindowsDumpSize(t *testing.T) {
	for _, gib := range winTestRAM {
		ram := gib * tGiB
		m := Machine{OS: Windows, RAM: ram}
		for dt, want := range map[string]uint64{
			WinDumpComplete:  ram + 257*tMiB,
			WinDumpActive:    ram + 257*tMiB,
			WinDumpKernel:    ram / 3,
			WinDumpAutomatic: ram / 3,
			WinDumpSmall:     256 << 10,
		} {
			e := WindowsDumpSize(m, dt)
			if e.Bytes != want {
				t.Errorf("%d GiB %s: %d, want %d", gib, dt, e.Bytes, want)
			}
			if e.Time != WindowsWriteTime(want, 100) {
				t.Errorf("%d GiB %s: time %v, want %v at the assumed 100 MB/s", gib, dt, e.Time, WindowsWriteTime(want, 100))
			}
		}
	}
}

// Microsoft's table: 1,024 GB at 100 MB/s takes 10,485 s, at 500 MB/s 2,097 s.
func TestWindowsWriteTime(t *testing.T) {
	if got := WindowsWriteTime(1024*tGiB, 100).Truncate(time.Second); got != 10485*time.Second {
		t.Errorf("1024 GB at 100 MB/s: %v, want 10485s", got)
	}
	if got := WindowsWriteTime(1024*tGiB, 500).Truncate(time.Second); got != 2097*time.Second {
		t.Errorf("1024 GB at 500 MB/s: %v, want 2097s", got)
	}
	if WindowsWriteTime(tGiB, 0) != WindowsWriteTime(tGiB, 100) {
		t.Error("unknown speed does not assume 100 MB/s")
	}
	// The boot disk's speed is used when known, and said.
	m := Machine{RAM: 1024 * tGiB, Disks: []Disk{{Mount: "C:", Boot: true, WriteMBps: 500}}}
	e := WindowsDumpSize(m, WinDumpComplete)
	if e.Time.Truncate(time.Second) != 2097*time.Second || !strings.Contains(e.Basis, "boot disk's 500 MB/s") {
		t.Errorf("1 TiB complete on a 500 MB/s disk: %v, %q", e.Time, e.Basis)
	}
}

func TestWindowsRecommendedDumpType(t *testing.T) {
	want := map[uint64]string{8: WinDumpComplete, 32: WinDumpComplete, 33: WinDumpAutomatic, 64: WinDumpAutomatic, 1024: WinDumpAutomatic}
	for _, gib := range winTestRAM {
		dt, why := WindowsRecommendedDumpType(Machine{RAM: gib * tGiB})
		if dt != want[gib] {
			t.Errorf("%d GiB: %s, want %s", gib, dt, want[gib])
		}
		if dt == WinDumpComplete && !strings.Contains(why, "RAM + 300 MB") {
			t.Errorf("%d GiB: why %q", gib, why)
		}
	}
}
