package session

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const panicKdump = "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"

// oracleLines reads an oracle file as lines.
func oracleLines(t *testing.T, rel string) []string {
	t.Helper()
	b, err := os.ReadFile(fixture.Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// psOracle reads panic-96M.ps.txt's task lines as "pid tgid comm task".
func psOracle(t *testing.T) []string {
	var out []string
	row := regexp.MustCompile(`^\s*(\d+)\s+(\d+) (\S+)\s+0x([0-9a-f]+)( \[kthread\])?$`)
	for _, l := range oracleLines(t, "generated/linux-vmcore/panic-96M.ps.txt") {
		if m := row.FindStringSubmatch(l); m != nil {
			comm := m[3]
			if m[5] != "" {
				comm = "[" + comm + "]"
			}
			out = append(out, m[1]+" "+m[2]+" "+comm+" "+m[4])
		}
	}
	if len(out) == 0 {
		t.Fatal("no tasks in the ps oracle")
	}
	return out
}

// checkLinuxDump runs log, ps and !analyze -v on a Linux vmcore and
// compares them with panic-96M's oracles: the log line for line with
// panic-96M.dmesg.txt, the tasks with panic-96M.ps.txt, the analysis with
// what the issue names.
func checkLinuxDump(t *testing.T, path string) {
	t.Helper()
	s := openSession(t, path, Options{})
	log := strings.Split(strings.TrimRight(run(t, s, "log"), "\n"), "\n")
	want := oracleLines(t, "generated/linux-vmcore/panic-96M.dmesg.txt")
	same := 0
	for i := range min(len(log), len(want)) {
		if log[i] == want[i] {
			same++
		}
	}
	if same != len(want) || len(log) != len(want) {
		t.Errorf("log: %d lines, %d of the oracle's %d identical", len(log), same, len(want))
	}

	row := regexp.MustCompile(`^\s*(\d+)\s+(\d+)\s+(\d+)\s+([0-9a-f]+)\s+\S+\s+(\S+)$`)
	var ps []string
	for _, l := range strings.Split(run(t, s, "ps"), "\n") {
		if m := row.FindStringSubmatch(l); m != nil {
			ps = append(ps, m[1]+" "+m[3]+" "+m[5]+" "+m[4]) // pid tgid comm task
		}
	}
	if wantPS := psOracle(t); strings.Join(ps, "\n") != strings.Join(wantPS, "\n") {
		t.Errorf("ps: %d tasks, oracle %d\n got %q\nwant %q", len(ps), len(wantPS), ps[:min(3, len(ps))], wantPS[:3])
	}

	an := run(t, s, "!analyze -v")
	wantAll(t, "!analyze -v", an,
		"Kernel panic - not syncing: sysrq triggered crash",
		"CPU: 0  PID: 1  COMM: init",
		"CALL TRACE:\n  sysrq_handle_crash+0x16/0x20\n",
		"FAILURE_BUCKET_ID:  LNX_PANIC_sysrq_handle_crash")
	// bt: the crashing task's stack holds the trace the kernel printed.
	bt := run(t, s, "bt")
	last := -1
	for _, f := range []string{"PID: 1 ", "panic+", "sysrq_handle_crash+0x16 ", "write_sysrq_trigger+0x24 ", "ksys_write+0x6b ", "entry_SYSCALL_64_after_hwframe+0x6e "} {
		i := strings.Index(bt, f)
		if i <= last {
			t.Errorf("bt lacks %q after the previous frames:\n%s", f, bt)
			break
		}
		last = i
	}
	// lm: vmlinux (named from kallsyms) and the loaded modules.
	wantAll(t, "lm", run(t, s, "lm"), "vmlinux", "pvpanic_pci", "qemu_fw_cfg")
	wantAll(t, "x", run(t, s, "x vmlinux!sysrq_handle_crash; ln vmlinux!sysrq_handle_crash+0x16"), "vmlinux!sysrq_handle_crash", "vmlinux!sysrq_handle_crash+0x16")
	a, err := s.Analyze(context.Background())
	if err != nil || a.Result.FaultingFrame != "sysrq_handle_crash+0x16/0x20" || a.Result.Reason != "Kernel panic - not syncing: sysrq triggered crash" {
		t.Errorf("analysis %+v, %v", a.Result, err)
	}
}

func TestLinuxVMCoreAgreesWithOracles(t *testing.T) {
	t.Parallel()
	checkLinuxDump(t, fixture.Corpus(t, panicKdump))
	// info --log gives the same log.
	s := openSession(t, fixture.Corpus(t, panicKdump), Options{})
	r, err := s.Report(ReportOptions{Log: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := oracleLines(t, "generated/linux-vmcore/panic-96M.dmesg.txt"); strings.Join(r.Log, "\n") != strings.Join(want, "\n") {
		t.Errorf("report log: %d lines, oracle %d", len(r.Log), len(want))
	}
	// bt unwinds with the kernel's ORC data from CPU 0's saved registers:
	// exactly the kernel's own trace below panic (the dmesg oracle, its
	// frames without "?"), then the user registers it printed.
	wantAll(t, "bt (ORC)", run(t, s, "bt"), "unwound with ORC from the registers",
		"  #0 [ffffcf42c0013c68] pvpanic_panic_notify+0x60 [pvpanic] at ffffffffc028f230\n",
		"  #2 [ffffcf42c0013ca8] panic+0x177 at ffffffff9a1cd0a8\n"+
			"  #3 [ffffcf42c0013d28] sysrq_handle_crash+0x16 at ffffffff99ea8a06\n"+
			"  #4 [ffffcf42c0013d30] __handle_sysrq.cold+0x44 at ffffffff9a1f4ac9\n"+
			"  #5 [ffffcf42c0013d60] write_sysrq_trigger+0x24 at ffffffff99ea9354\n"+
			"  #6 [ffffcf42c0013d70] proc_reg_write+0x56 at ffffffff99beacb6\n"+
			"  #7 [ffffcf42c0013d88] vfs_write+0xc7 at ffffffff99b4d497\n"+
			"  #8 [ffffcf42c0013e20] ksys_write+0x6b at ffffffff99b4d95b\n"+
			"  #9 [ffffcf42c0013e58] do_syscall_64+0x5d at ffffffff9a203f4d\n"+
			" #10 [ffffcf42c0013f50] entry_SYSCALL_64_after_hwframe+0x6e at ffffffff9a400126\n"+
			"    RIP: 000000000047b7a0  RSP: 00007ffd0df14a08  RFLAGS: 00000202\n"+
			"    RAX: ffffffffffffffda  ORIG_RAX: 0000000000000001\n")
	// bt -a: CPU 1's idle task, stopped by panic's reboot IPI, unwound
	// from the IRQ stack back to its own and down to its startup.
	wantAll(t, "bt -a", run(t, s, "bt -a"), "PID: 1  TASK: ffff89ff03df4180  CPU: 0",
		"PID: 0  TASK: ffff89ff03e74180  CPU: 1  COMMAND: \"swapper/1\"",
		"  #0 [ffffcf42c00d0fc0] stop_this_cpu+0x63 at ffffffff9983d023\n"+
			"  #1 [ffffcf42c00d0fe8] __sysvec_reboot+0x27 at ffffffff998608e7\n"+
			"  #2 [ffffcf42c00d0ff0] sysvec_reboot+0x58 at ffffffff9a2062a8\n"+
			"  #3 [ffffcf42c009be20] asm_sysvec_reboot+0x16 at ffffffff9a400f46\n",
		"do_idle+0x206", " #10 [ffffcf42c009bf50] secondary_startup_64_no_verify+0xe4 at ffffffff99800159\n")
	// The module's own symbols, in the console.
	wantAll(t, "module symbols", run(t, s, "x pvpanic!pvpanic_panic_notify; ln ffffffffc028f230"),
		"ffffffff`c028f1d0  pvpanic!pvpanic_panic_notify", "pvpanic!pvpanic_panic_notify+0x60")
}

// TestLinuxVMCoreVariants rewrites panic-96M with makedumpfile (refiltered
// uncompressed, lzo, and flattened zlib output) and checks that every
// variant gives the same log, ps and analysis.
func TestLinuxVMCoreVariants(t *testing.T) {
	t.Parallel()
	mdf, err := exec.LookPath("makedumpfile")
	if err != nil {
		t.Skip("makedumpfile is not installed (scripts/setup.sh installs it): skipping the variants")
	}
	src := fixture.Corpus(t, panicKdump)
	dir := t.TempDir()
	for _, v := range []struct{ name, flag string }{{"uncompressed", ""}, {"lzo", "-l"}, {"flattened", "-F"}} {
		t.Run(v.name, func(t *testing.T) {
			out := filepath.Join(dir, v.name)
			args := []string{"-d", "31"}
			if v.flag == "-F" {
				args = append(args, "-F", "-c", src)
				f, err := os.Create(out)
				if err != nil {
					t.Fatal(err)
				}
				var stderr strings.Builder
				cmd := exec.Command(mdf, args...)
				cmd.Stdout, cmd.Stderr = f, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("makedumpfile %v: %v\n%s", args, err, stderr.String())
				}
				f.Close()
			} else {
				if v.flag != "" {
					args = append(args, v.flag)
				}
				if b, err := exec.Command(mdf, append(args, src, out)...).CombinedOutput(); err != nil {
					t.Fatalf("makedumpfile %v: %v\n%s", args, err, b)
				}
			}
			checkLinuxDump(t, out)
		})
	}
}

// TestLiMEFromVMCore writes panic-96M's physical memory as a LiME image
// (one 32-byte header per range: magic, version 1, start, inclusive end,
// reserved; then the bytes) and checks that the image, which carries no
// VMCOREINFO, gives the same log, ps and analysis: the session finds the
// kernel's VMCOREINFO page in memory.
func TestLiMEFromVMCore(t *testing.T) {
	t.Parallel()
	src := openSession(t, fixture.Corpus(t, panicKdump), Options{})
	rl := src.Target().(interface {
		Ranges() ([]model.Range, error)
		PhysicalMemory() (mem.Space, error)
	})
	ranges, err := rl.Ranges()
	if err != nil {
		t.Fatal(err)
	}
	phys, err := rl.PhysicalMemory()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "panic.lime")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, r := range ranges {
		var h [32]byte
		binary.LittleEndian.PutUint32(h[0:], 0x4C694D45)
		binary.LittleEndian.PutUint32(h[4:], 1)
		binary.LittleEndian.PutUint64(h[8:], r.Start)
		binary.LittleEndian.PutUint64(h[16:], r.Start+r.Size-1)
		w.Write(h[:])
		b := make([]byte, r.Size)
		if err := mem.ReadFull(phys, b, r.Start); err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	checkLinuxDump(t, out)
	// A LiME image saves no registers: bt starts ORC at the crash path's
	// deepest frame the scan finds, and below it gives the kernel's own
	// trace (the dmesg oracle), down to the user registers.
	lime := openSession(t, out, Options{})
	wantAll(t, "bt on LiME", run(t, lime, "bt"), "no registers saved: the crash path's frame, then unwound with ORC",
		"  #0 [ffffcf42c0013ca8] panic+0x177 at ffffffff9a1cd0a8\n  #1 [ffffcf42c0013d28] sysrq_handle_crash+0x16 at ffffffff99ea8a06\n",
		"__handle_sysrq.cold+0x44 at ffffffff9a1f4ac9\n",
		"ksys_write+0x6b at ffffffff99b4d95b\n",
		"entry_SYSCALL_64_after_hwframe+0x6e at ffffffff9a400126\n"+
			"    RIP: 000000000047b7a0  RSP: 00007ffd0df14a08  RFLAGS: 00000202\n")
}

// TestELFFromVMCore writes panic-96M as an ELF /proc/vmcore (ELF64
// ET_CORE EM_X86_64: a PT_NOTE holding the VMCOREINFO note, then one
// PT_LOAD per physical range with the kernel's direct-map address as
// p_vaddr) and checks that it gives the same log, ps and analysis.
func TestELFFromVMCore(t *testing.T) {
	t.Parallel()
	src := openSession(t, fixture.Corpus(t, panicKdump), Options{})
	tg := src.Target().(interface {
		Ranges() ([]model.Range, error)
		PhysicalMemory() (mem.Space, error)
		VMCOREINFO() (map[string]string, error)
	})
	ranges, err := tg.Ranges()
	if err != nil {
		t.Fatal(err)
	}
	phys, err := tg.PhysicalMemory()
	if err != nil {
		t.Fatal(err)
	}
	info, err := tg.VMCOREINFO()
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, k := range slices.Sorted(maps.Keys(info)) {
		text.WriteString(k + "=" + info[k] + "\n")
	}
	pad4 := func(b []byte) []byte { return append(b, make([]byte, (4-len(b)%4)%4)...) }
	le := binary.LittleEndian
	note := le.AppendUint32(nil, 11) // namesz ("VMCOREINFO\0")
	note = le.AppendUint32(note, uint32(text.Len()))
	note = le.AppendUint32(note, 0)
	note = append(note, pad4([]byte("VMCOREINFO\x00"))...)
	note = append(note, pad4([]byte(text.String()))...)

	const ehsize, phsize = 64, 56
	nph := 1 + len(ranges)
	dataOff := uint64(ehsize + nph*phsize + len(note))
	var hdr []byte
	hdr = append(hdr, 0x7f, 'E', 'L', 'F', 2, 1, 1, 0) // ELFCLASS64, little-endian, version 1
	hdr = append(hdr, make([]byte, 8)...)
	hdr = le.AppendUint16(hdr, 4)  // ET_CORE
	hdr = le.AppendUint16(hdr, 62) // EM_X86_64
	hdr = le.AppendUint32(hdr, 1)
	hdr = le.AppendUint64(hdr, 0)      // e_entry
	hdr = le.AppendUint64(hdr, ehsize) // e_phoff
	hdr = le.AppendUint64(hdr, 0)      // e_shoff
	hdr = le.AppendUint32(hdr, 0)
	hdr = le.AppendUint16(hdr, ehsize)
	hdr = le.AppendUint16(hdr, phsize)
	hdr = le.AppendUint16(hdr, uint16(nph))
	hdr = append(hdr, make([]byte, 6)...) // e_shentsize, e_shnum, e_shstrndx
	ph := func(typ uint32, off, vaddr, paddr, size uint64) {
		hdr = le.AppendUint32(hdr, typ)
		hdr = le.AppendUint32(hdr, 7) // RWX
		for _, v := range []uint64{off, vaddr, paddr, size, size, 0} {
			hdr = le.AppendUint64(hdr, v)
		}
	}
	ph(4, ehsize+uint64(nph*phsize), 0, 0, uint64(len(note))) // PT_NOTE
	off := dataOff
	for _, r := range ranges {
		ph(1, off, 0xffff888000000000+r.Start, r.Start, r.Size) // PT_LOAD
		off += r.Size
	}
	out := filepath.Join(t.TempDir(), "vmcore")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(hdr)
	w.Write(note)
	for _, r := range ranges {
		b := make([]byte, r.Size)
		if err := mem.ReadFull(phys, b, r.Start); err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, out, Options{})
	if v := s.Target().Info().Variant; v != "elf" {
		t.Fatalf("variant %q", v)
	}
	checkLinuxDump(t, out)
}

// TestSplitParts splits panic-96M with makedumpfile --split into two
// files and opens the second: the session finds the first beside it and
// reads the whole dump.
func TestSplitParts(t *testing.T) {
	t.Parallel()
	mdf, err := exec.LookPath("makedumpfile")
	if err != nil {
		t.Skip("makedumpfile is not installed (scripts/setup.sh installs it): skipping the split set")
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "vmcore.1"), filepath.Join(dir, "vmcore.2")
	if out, err := exec.Command(mdf, "--split", "-c", "-d", "31", fixture.Corpus(t, panicKdump), a, b).CombinedOutput(); err != nil {
		t.Fatalf("makedumpfile --split: %v\n%s", err, out)
	}
	checkLinuxDump(t, b)
}

// TestVmlinuxByBuildID links a stand-in "vmlinux" carrying panic-96M's
// kernel build id (VMCOREINFO's BUILD-ID) and DWARF types, and passes it
// with --image: the vmlinux module is matched to it by build id and dt
// shows its DWARF types, as a real debug vmlinux would give the kernel's.
func TestVmlinuxByBuildID(t *testing.T) {
	t.Parallel()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is not installed: skipping the stand-in vmlinux")
	}
	dir := t.TempDir()
	src := filepath.Join("..", "symbols", "internal", "dwarftab", "testdata", "types.c")
	mainC := filepath.Join(dir, "main.c")
	if err := os.WriteFile(mainC, []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, fixture.Corpus(t, panicKdump), Options{})
	id := s.Target().(interface {
		VMCOREINFO() (map[string]string, error)
	})
	info, err := id.VMCOREINFO()
	if err != nil {
		t.Fatal(err)
	}
	vmlinux := filepath.Join(dir, "vmlinux")
	if out, err := exec.Command(gcc, "-g", "-O0", "-Wl,--build-id=0x"+info["BUILD-ID"], src, mainC, "-o", vmlinux).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	s2 := openSession(t, fixture.Corpus(t, panicKdump), Options{ImagePath: vmlinux})
	out := run(t, s2, "dt vmlinux!node") + run(t, s2, "lm m vmlinux")
	wantAll(t, "dt with a vmlinux", out, "+0x018 big              : Pos 12, 40 Bits", "+0x048 counter          : Int4B", "(dwarf symbols)")
}

// TestLinuxSummaryRows: the workbench's first screen for a vmcore shows
// the panic, the task and the call trace.
func TestLinuxSummaryRows(t *testing.T) {
	t.Parallel()
	_, a := analyzed(t, fixture.Corpus(t, panicKdump), Options{})
	rows := map[string]string{}
	for _, r := range a.SummaryRows() {
		rows[r.Key] = r.Value
	}
	if rows["Task"] != "CPU 0, PID 1 init" ||
		!strings.HasPrefix(rows["Call trace"], "sysrq_handle_crash+0x16/0x20\n") || rows["Bucket"] != "LNX_PANIC_sysrq_handle_crash" {
		t.Errorf("rows %q", rows)
	}
}
