package linux_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/vmcore"
)

const (
	panicDump  = "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"
	panicDmesg = "generated/linux-vmcore/panic-96M.dmesg.txt"
	panicPS    = "generated/linux-vmcore/panic-96M.ps.txt"
)

// physicalMemory is what vmcore.File offers for reading physical memory;
// asserted dynamically so that this test builds against any vmcore.
type physicalMemory interface {
	PhysicalMemory() (mem.Space, error)
}

var (
	kernelOnce sync.Once
	kernelVal  *linux.Kernel
	kernelErr  error
	kernelSkip string
)

// openPanic opens the corpus vmcore once for all tests of this file.
func openPanic(t *testing.T) *linux.Kernel {
	t.Helper()
	path := fixture.Corpus(t, panicDump)
	kernelOnce.Do(func() {
		f, err := vmcore.Open(path)
		if err != nil {
			kernelErr = err
			return
		}
		pm, ok := any(f).(physicalMemory)
		if !ok {
			kernelSkip = "vmcore.File has no PhysicalMemory method yet"
			return
		}
		phys, err := pm.PhysicalMemory()
		if err != nil {
			kernelErr = err
			return
		}
		info, err := f.VMCOREINFO()
		if err != nil {
			kernelErr = err
			return
		}
		kernelVal, kernelErr = linux.New(phys, info, model.AMD64)
	})
	if kernelSkip != "" {
		t.Skip(kernelSkip)
	}
	if kernelErr != nil {
		t.Fatal(kernelErr)
	}
	return kernelVal
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func TestCorpusTranslate(t *testing.T) {
	k := openPanic(t)
	// init_top_pgt through the image mapping and through the page walk
	// must agree.
	top, _ := k.Symbol("init_top_pgt")
	pa, size, err := k.Translate(top)
	if err != nil || pa != k.PageTable() {
		t.Fatalf("Translate(init_top_pgt) = %#x, %d, %v; want %#x", pa, size, err, k.PageTable())
	}
	// The image mapping by arithmetic and by page walk agree.
	for _, name := range []string{"_stext", "init_top_pgt", "prb", "init_uts_ns"} {
		va, _ := k.Symbol(name)
		a, _, err1 := k.Translate(va)
		b, _, err2 := k.Walk(va)
		if err1 != nil || err2 != nil || a != b {
			t.Errorf("%s %#x: arithmetic %#x (%v), walk %#x (%v)", name, va, a, err1, b, err2)
		}
	}
	// mem_section lives in the direct map.
	ms, _ := k.Symbol("mem_section")
	if _, _, err := k.Translate(ms); err != nil {
		t.Fatalf("Translate(mem_section %#x): %v", ms, err)
	}
	// uts_namespace.name.release of init_uts_ns is OSRELEASE.
	uts, _ := k.Symbol("init_uts_ns")
	off, _ := k.Offset("uts_namespace.name")
	buf := make([]byte, 65)
	if err := mem.ReadFull(k.Virtual(), buf, uts+uint64(off)+65*2); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimRight(string(buf), "\x00"); got != k.Release() {
		t.Errorf("init_uts_ns release %q, OSRELEASE %q", got, k.Release())
	}
	n := 0
	var total uint64
	for r := range k.Virtual().Regions() {
		n++
		total += r.Size
	}
	t.Logf("kernel virtual space: %d regions, %d MiB mapped", n, total>>20)
	if n == 0 {
		t.Error("no regions")
	}
}

func TestCorpusLog(t *testing.T) {
	k := openPanic(t)
	want := readLines(t, fixture.Corpus(t, panicDmesg))
	got, err := k.Log()
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for i := range min(len(got), len(want)) {
		if got[i] == want[i] {
			same++
		} else if same == i {
			t.Errorf("first difference at line %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}
	t.Logf("log: %d lines, oracle %d, %d identical", len(got), len(want), same)
	recs, _ := k.LogRecords()
	withDev := 0
	for _, r := range recs {
		if r.Subsystem != "" {
			withDev++
		}
	}
	t.Logf("%d records, %d with dev_info (e.g. %q)", len(recs), withDev, func() string {
		for _, r := range recs {
			if r.Subsystem != "" {
				return r.Subsystem + " " + r.Device
			}
		}
		return ""
	}())
	if len(got) != len(want) || same != len(want) {
		t.Errorf("log differs from makedumpfile --dump-dmesg: %d/%d lines agree (got %d lines)", same, len(want), len(got))
	}
}

// psOracle is panic-96M.ps.txt: two header comments, a title, then
// "PID TGID COMM TASK [kthread]" lines (COMM may hold spaces).
type psTask struct {
	pid, tgid uint64
	comm      string
	addr      uint64
	kthread   bool
}

func readPS(t *testing.T) (header map[string]uint64, tasks []psTask) {
	t.Helper()
	f, err := os.Open(fixture.Corpus(t, panicPS))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	header = map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			for _, fld := range strings.Fields(strings.NewReplacer(";", " ", ":", " ").Replace(line)) {
				k, v, ok := strings.Cut(fld, "=")
				if !ok {
					continue
				}
				if n, err := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 64); err == nil {
					header[k] = n
				}
			}
			if i := strings.Index(line, "kallsyms: "); i >= 0 {
				n, _ := strconv.Atoi(strings.Fields(line[i+len("kallsyms: "):])[0])
				header["nsyms"] = uint64(n)
			}
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || f[0] == "PID" {
			continue
		}
		var p psTask
		if f[len(f)-1] == "[kthread]" {
			p.kthread = true
			f = f[:len(f)-1]
		}
		p.pid, _ = strconv.ParseUint(f[0], 10, 64)
		p.tgid, _ = strconv.ParseUint(f[1], 10, 64)
		p.addr, _ = strconv.ParseUint(strings.TrimPrefix(f[len(f)-1], "0x"), 16, 64)
		p.comm = strings.Join(f[2:len(f)-1], " ")
		tasks = append(tasks, p)
	}
	return header, tasks
}

func TestCorpusKallsyms(t *testing.T) {
	k := openPanic(t)
	h, _ := readPS(t)
	syms, err := k.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	if uint64(syms.Len()) != h["nsyms"] {
		t.Errorf("%d symbols, oracle %d", syms.Len(), h["nsyms"])
	}
	for _, name := range []string{"init_task", "__start_BTF"} {
		a, ok := syms.Lookup(name)
		if !ok || a != h[name] {
			t.Errorf("%s = %#x, %v; oracle %#x", name, a, ok, h[name])
		}
		s, off, ok := syms.Nearest(a + 1)
		if !ok || off != 1 || s.Addr != a {
			t.Errorf("Nearest(%s+1) = %+v+%d, %v", name, s, off, ok)
		}
	}
	// Every SYMBOL() of VMCOREINFO that kallsyms knows must agree.
	for _, name := range []string{"_stext", "init_top_pgt", "prb", "init_uts_ns", "node_data"} {
		v, _ := k.Symbol(name)
		if a, ok := syms.Lookup(name); !ok || a != v {
			t.Errorf("kallsyms %s = %#x (%v), VMCOREINFO %#x", name, a, ok, v)
		}
	}
	t.Logf("kallsyms: %d symbols, absolute percpu %v", syms.Len(), syms.AbsolutePercpu)
}

func TestCorpusBTF(t *testing.T) {
	k := openPanic(t)
	h, _ := readPS(t)
	o, err := k.TaskOffsets()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]int64{"tasks": o.Tasks, "pid": o.PID, "tgid": o.TGID, "comm": o.Comm, "mm": o.MM} {
		if uint64(got) != h[name] {
			t.Errorf("task_struct.%s = %#x, oracle %#x", name, got, h[name])
		}
	}
	if o.RealParent < 0 || o.State < 0 || o.Flags < 0 || o.StateSize != 4 {
		t.Errorf("offsets %+v: want real_parent, flags and a 4-byte __state", o)
	}
	b, _ := k.BTF()
	t.Logf("BTF: %d types; task_struct offsets %+v", b.NumTypes(), *o)
}

func TestCorpusTasks(t *testing.T) {
	k := openPanic(t)
	_, want := readPS(t)
	got, err := k.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if uint64(g.PID) == w.pid && uint64(g.TGID) == w.tgid && g.Comm == w.comm && g.Address == w.addr && g.KThread == w.kthread && g.Err == nil {
			same++
		} else {
			t.Errorf("task %d: got %+v, oracle %+v", i, g, w)
		}
	}
	t.Logf("tasks: %d, oracle %d, %d identical", len(got), len(want), same)
	if len(got) != len(want) {
		t.Errorf("%d tasks, oracle %d", len(got), len(want))
	}
	byPID := map[uint32]linux.Task{}
	for _, g := range got {
		byPID[g.PID] = g
	}
	for pid, comm := range map[uint32]string{1: "init", 2: "kthreadd", 95: "init", 96: "dumptest-marker", 97: "sleep"} {
		if byPID[pid].Comm != comm {
			t.Errorf("pid %d is %q, want %q", pid, byPID[pid].Comm, comm)
		}
	}
	if byPID[1].PPID != 0 || byPID[2].PPID != 0 || byPID[97].PPID == 0 {
		t.Errorf("ppids: 1→%d 2→%d 97→%d", byPID[1].PPID, byPID[2].PPID, byPID[97].PPID)
	}
	procs, err := k.Processes()
	if err != nil || len(procs) != len(got) {
		t.Fatalf("Processes: %d, %v", len(procs), err)
	}
	if procs[1].DirBase == 0 || procs[2].DirBase != 0 {
		t.Errorf("DirBase of init %#x, kthreadd %#x", procs[1].DirBase, procs[2].DirBase)
	}
}

func TestCorpusModules(t *testing.T) {
	k := openPanic(t)
	mods, err := k.Modules()
	if err != nil {
		t.Fatal(err)
	}
	// dumpgen/initramfs/init insmods qemu_fw_cfg, pvpanic, pvpanic-mmio
	// and pvpanic-pci in that order; the kernel adds each at the head of
	// the list.
	want := []string{"pvpanic_pci", "pvpanic_mmio", "pvpanic", "qemu_fw_cfg"}
	var names []string
	for _, m := range mods {
		t.Logf("module %-14s base %#x size %#x state %d at %#x", m.Name, m.Base, m.Size, m.State, m.Address)
		names = append(names, m.Name)
		if m.Base < 0xffffffffc0000000 || m.Size == 0 || m.Size > 1<<20 || m.State != 0 {
			t.Errorf("implausible module %+v", m)
		}
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("modules %q, want %q", names, want)
	}
}

func TestCorpusCPUs(t *testing.T) {
	k := openPanic(t)
	cpus, err := k.CPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) != 2 {
		t.Fatalf("%d CPUs, want 2", len(cpus))
	}
	for _, c := range cpus {
		task, err := k.TaskAt(c.Current)
		t.Logf("CPU %d: per-cpu offset %#x, current %#x pid %d %q (%v)", c.ID, c.PerCPUOffset, c.Current, task.PID, task.Comm, err)
	}
	// dmesg: "CPU: 0 PID: 1 Comm: init" panicked via sysrq.
	task, err := k.TaskAt(cpus[0].Current)
	if err != nil || task.PID != 1 || task.Comm != "init" || cpus[0].Current != 0xffff89ff03df4180 {
		t.Errorf("CPU 0 current %#x = %+v, %v; want pid 1 init at 0xffff89ff03df4180", cpus[0].Current, task, err)
	}
}

// TestCorpusConcurrent runs the views from several goroutines on a fresh
// Kernel (run with -race).
func TestCorpusConcurrent(t *testing.T) {
	k0 := openPanic(t)
	f, err := vmcore.Open(fixture.Corpus(t, panicDump))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.VMCOREINFO()
	k, err := linux.New(k0.Physical(), info, model.AMD64)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			switch i % 4 {
			case 0:
				if _, err := k.Log(); err != nil {
					t.Error(err)
				}
			case 1:
				if _, err := k.Tasks(); err != nil {
					t.Error(err)
				}
			case 2:
				if _, err := k.Modules(); err != nil {
					t.Error(err)
				}
			case 3:
				if _, err := k.CPUs(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// TestCorpusStackScan scans the panicking task's stack (init, running on
// CPU 0): the call trace the kernel printed (panic-96M.dmesg.txt, from
// sysrq_handle_crash+0x16 down to entry_SYSCALL_64_after_hwframe) is on
// it, in the same order, each entry a return address after a call.
func TestCorpusStackScan(t *testing.T) {
	k := openPanic(t)
	cpus, err := k.CPUs()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := k.StackScan(cpus[0].Current, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sysrq_handle_crash+0x16", "__handle_sysrq.cold+0x44", "write_sysrq_trigger+0x24", "proc_reg_write+0x56",
		"vfs_write+0xc7", "ksys_write+0x6b", "do_syscall_64+0x5d", "entry_SYSCALL_64_after_hwframe+0x6e"}
	i := 0
	for _, e := range ks.Entries {
		if i < len(want) && fmt.Sprintf("%s+%#x", e.Function, e.Offset) == want[i] {
			if !e.Call {
				t.Errorf("%s is not after a call", want[i])
			}
			i++
		}
	}
	if i != len(want) {
		t.Errorf("found %d of the %d trace frames in order; entries %+v", i, len(want), ks.Entries)
	}
	// A sleeping task starts at its saved stack pointer.
	tasks, _ := k.Tasks()
	for _, task := range tasks {
		if task.Comm == "kthreadd" {
			s, err := k.StackScan(task.Address, false)
			if err != nil || !s.FromSavedSP || len(s.Entries) == 0 {
				t.Errorf("kthreadd: %+v, %v", s, err)
			}
		}
	}
}

// TestCorpusMemInfo: the 96 MiB guest's allocator manages less than its
// 96 MiB (the oracle's boot line says "Memory: …K/97784K available"), and
// less is free than managed.
func TestCorpusMemInfo(t *testing.T) {
	k := openPanic(t)
	mi, err := k.MemInfo()
	if err != nil {
		t.Fatal(err)
	}
	total := mi.TotalPages * mi.PageSize
	if mi.PageSize != 4096 || total > 97784<<10 || total < 48<<20 || mi.FreePages == 0 || mi.FreePages >= mi.TotalPages {
		t.Errorf("meminfo %+v (total %d bytes)", mi, total)
	}
	t.Logf("total %d pages, free %d", mi.TotalPages, mi.FreePages)
}
