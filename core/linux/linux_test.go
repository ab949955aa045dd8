package linux_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

func newKernel(t testing.TB, m *machine) *linux.Kernel {
	t.Helper()
	k, err := linux.New(m.Map(), m.info, model.AMD64)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewErrors(t *testing.T) {
	m := newMachine()
	if _, err := linux.New(m.Map(), m.info, model.RISCV64); !errors.Is(err, linux.ErrUnsupportedArch) {
		t.Errorf("riscv64: %v", err)
	}
	if _, err := linux.New(m.Map(), m.info, ""); err != nil {
		t.Errorf("unknown arch with init_top_pgt: %v", err)
	}
	if _, err := linux.New(nil, m.info, model.AMD64); err == nil {
		t.Error("nil memory accepted")
	}
	for _, drop := range []string{"NUMBER(phys_base)", "SYMBOL(init_top_pgt)"} {
		info := map[string]string{}
		for k, v := range m.info {
			if k != drop {
				info[k] = v
			}
		}
		if _, err := linux.New(m.Map(), info, model.AMD64); err == nil || !strings.Contains(err.Error(), strings.TrimSuffix(strings.SplitN(drop, "(", 2)[1], ")")) {
			t.Errorf("without %s: %v", drop, err)
		}
	}
	info := map[string]string{}
	for k, v := range m.info {
		info[k] = v
	}
	info["NUMBER(phys_base)"] = "1099511627776" // page table far outside memory
	if _, err := linux.New(m.Map(), info, model.AMD64); !errors.Is(err, mem.ErrUnmapped) {
		t.Errorf("page table outside memory: %v", err)
	}
}

func TestTranslate(t *testing.T) {
	k := newKernel(t, newMachine())
	if k.PhysBase() != physBase&(1<<64-1) || k.PageTable() != pgdPA {
		t.Fatalf("phys_base %#x, pgd %#x", k.PhysBase(), k.PageTable())
	}
	tests := []struct {
		va, pa, size uint64
	}{
		{textVA + 0x1234, textPA + 0x1234, 4096},            // image mapping by arithmetic
		{directAddr(0x5678), 0x5678, 1 << 30},               // 1 GiB page
		{vmallocVA + 5, 0x702005, 4096},                     // 4 KiB page
		{vmallocVA + 4096 + 7, 0x700007, 4096},              // next PTE, elsewhere
		{vmallocVA + 0x200000 + 0x12345, 0x612345, 1 << 21}, // 2 MiB page
	}
	for _, tt := range tests {
		pa, size, err := k.Translate(tt.va)
		if err != nil || pa != tt.pa || size != tt.size {
			t.Errorf("Translate(%#x) = %#x, %#x, %v; want %#x, %#x", tt.va, pa, size, err, tt.pa, tt.size)
		}
	}
	var fe *mem.FaultError
	_, _, err := k.Translate(vmallocVA + 2*4096)
	if !errors.As(err, &fe) || fe.Kind != mem.NotPresent || fe.Level != "PTE" || fe.Space != "kernel" {
		t.Errorf("absent PTE: %v", err)
	}
	if _, _, err = k.Translate(0x0000900000000000); !errors.As(err, &fe) || fe.Kind != mem.Unmapped {
		t.Errorf("non-canonical: %v", err)
	}
	if _, _, err = k.Translate(0xffff900000000000); !errors.As(err, &fe) || fe.Level != "PGD" {
		t.Errorf("absent PGD entry: %v", err)
	}
	// A read crossing two non-contiguous 4 KiB pages.
	m := newMachine()
	copy(m.phys[0x702ffe:], "ab")
	copy(m.phys[0x700000:], "cd")
	k = newKernel(t, m)
	buf := make([]byte, 4)
	if err := mem.ReadFull(k.Virtual(), buf, vmallocVA+0xffe); err != nil || string(buf) != "abcd" {
		t.Errorf("cross-page read %q, %v", buf, err)
	}
	// ...and a read running into the absent page faults at its first byte.
	n, err := k.Virtual().ReadMemory(make([]byte, 8), vmallocVA+2*4096-4)
	if n != 4 || !errors.As(err, &fe) || fe.Addr != vmallocVA+2*4096 {
		t.Errorf("partial read: %d, %v", n, err)
	}
	var regions []mem.Region
	for r := range k.Virtual().Regions() {
		regions = append(regions, r)
	}
	want := []mem.Region{
		{Start: pageOffset, Size: 1 << 30},
		{Start: vmallocVA, Size: 2 * 4096},
		{Start: vmallocVA + 3*4096, Size: 4096},
		{Start: vmallocVA + 0x200000, Size: 1 << 21},
		{Start: 0xffffffff81000000, Size: 4 << 20},
	}
	for i := range want {
		want[i].Prot, want[i].State = mem.R, mem.Committed
	}
	if !reflect.DeepEqual(regions, want) {
		t.Errorf("regions:\n%v\nwant\n%v", regions, want)
	}
}

func TestCorruptPageTables(t *testing.T) {
	m := newMachine()
	m.put64(pgdPA+402*8, pgdPA|pPresent)            // vmalloc PGD entry points at the PGD itself
	m.put64(pgdPA+273*8, 0x7fff_ffff_f000|pPresent) // direct map table outside memory
	k := newKernel(t, m)
	var fe *mem.FaultError
	if _, _, err := k.Translate(directAddr(0)); !errors.As(err, &fe) || fe.Kind != mem.Unmapped || !strings.Contains(err.Error(), "PUD") {
		t.Errorf("table outside memory: %v", err)
	}
	_, _, _ = k.Translate(vmallocVA) // loops through itself a fixed number of times
	n := 0
	for range k.Virtual().Regions() {
		n++
	}
	if n == 0 {
		t.Error("no regions")
	}
}

func TestLogPrb(t *testing.T) {
	k := newKernel(t, fullMachine())
	got, err := k.Log()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"[    0.001500] first",
		"[    2.000001] two",
		"               lines\\x01",
		"[   12.345678] wrapped",
		"[    0.000000] truncated",
	}
	if !slices.Equal(got, want) {
		t.Errorf("log:\n%q\nwant\n%q", got, want)
	}
	recs, _ := k.LogRecords()
	if len(recs) != 4 || recs[0].Seq != 15 || recs[0].CallerID != 0x80000001 || recs[0].Subsystem != "pci" || recs[0].Device != "+pci:0000:00:01.0" || recs[1].Subsystem != "" {
		t.Errorf("records %+v", recs)
	}
}

func TestLogPrbErrors(t *testing.T) {
	m := fullMachine()
	m.put32(prbPA, 40) // count_bits
	if _, err := newKernel(t, m).Log(); err == nil || !strings.Contains(err.Error(), "implausible") {
		t.Errorf("count_bits 40: %v", err)
	}
	m = fullMachine()
	m.put64(prbPA+24, 1000) // head far from tail
	if _, err := newKernel(t, m).Log(); err == nil {
		t.Error("head 1000 accepted")
	}
	m = fullMachine()
	m.put64(prbVarPA, 0xdead000000000000)
	if _, err := newKernel(t, m).Log(); err == nil {
		t.Error("bad prb pointer accepted")
	}
	m = fullMachine()
	m.info["OFFSET(printk_info.text_len)"] = "87"
	if _, err := newKernel(t, m).Log(); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("offset outside the struct: %v", err)
	}
	m = fullMachine()
	delete(m.info, "SYMBOL(prb)")
	delete(m.info, "SYMBOL(log_buf)")
	if _, err := newKernel(t, m).Log(); err == nil {
		t.Error("no log symbols accepted")
	}
}

func TestLogBufFallback(t *testing.T) {
	m := fullMachine()
	m.info["SYMBOL(prb)"] = "" // unusable: fall back to log_buf
	got, err := newKernel(t, m).Log()
	if err != nil || len(got) != 3 || got[2] != "[    3.000000] third" {
		t.Errorf("%q, %v", got, err)
	}
}

func TestLogEmptyLine(t *testing.T) {
	m := newMachine()
	m.buildPrb(2, 10, 0, 0, []logRecord{{id: 0, state: 2, ts: 7e9, begin: 3, next: 3}})
	got, err := newKernel(t, m).Log()
	if err != nil || !slices.Equal(got, []string{"[    7.000000] "}) {
		t.Errorf("%q, %v", got, err)
	}
}

// buildLogBuf writes a Linux 3.5-5.9 log_buf: struct printk_log {u64
// ts_nsec; u16 len, text_len, dict_len; u8 facility; u8 flags:5, level:3}.
func buildLogBuf(m *machine, size uint32, first, next uint32, recs map[uint32][2]string) {
	const buf = 0x560000
	m.info["SIZE(printk_log)"] = "16"
	m.info["OFFSET(printk_log.ts_nsec)"] = "0"
	m.info["OFFSET(printk_log.len)"] = "8"
	m.info["OFFSET(printk_log.text_len)"] = "10"
	m.setSym("log_buf", textAddr(0x260000))
	m.setSym("log_buf_len", textAddr(0x260008))
	m.setSym("log_first_idx", textAddr(0x26000c))
	m.setSym("log_next_idx", textAddr(0x260010))
	m.put64(0x260000, directAddr(buf))
	m.put32(0x260008, size)
	m.put32(0x26000c, first)
	m.put32(0x260010, next)
	for idx, r := range recs {
		if r[1] == "" { // wrap marker
			continue
		}
		text := r[1]
		l := (16 + len(text) + 7) &^ 7
		p := uint64(buf + idx)
		ts := uint64(len(r[0])) * 1e9
		m.put64(p, ts)
		m.put16(p+8, uint16(l))
		m.put16(p+10, uint16(len(text)))
		copy(m.phys[p+16:], text)
	}
}

func TestLogBuf(t *testing.T) {
	m := newMachine()
	// Records at 200 (len 24) and 224 (len 32), a wrap marker at 256,
	// then one at 0 (len 24); next is 24.
	buildLogBuf(m, 300, 200, 24, map[uint32][2]string{
		200: {"a", "first"},
		224: {"bb", "second line"},
		0:   {"ccc", "third"},
	})
	got, err := newKernel(t, m).Log()
	want := []string{"[    1.000000] first", "[    2.000000] second line", "[    3.000000] third"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("%q, %v", got, err)
	}
	m.put16(0x560000+8, 8) // len below the header size
	if _, err := newKernel(t, m).Log(); err == nil {
		t.Error("short record accepted")
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		rec  linux.LogRecord
		want []string
	}{
		{linux.LogRecord{TS: 123456789012345, Text: []byte("x")}, []string{"[123456.789012] x"}},
		{linux.LogRecord{Text: []byte("tab\there\n")}, []string{"[    0.000000] tab\there", "               "}},
		{linux.LogRecord{Text: []byte("é\xff\x1b")}, []string{"[    0.000000] é\\xff\\x1b"}},
		{linux.LogRecord{}, []string{"[    0.000000] "}},
	}
	for _, tt := range tests {
		if got := tt.rec.Lines(); !slices.Equal(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.rec.Text, got, tt.want)
		}
	}
}

func TestKallsyms(t *testing.T) {
	m := fullMachine()
	k := newKernel(t, m)
	s, err := k.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 12 || !s.AbsolutePercpu {
		t.Errorf("%d symbols, absolute percpu %v", s.Len(), s.AbsolutePercpu)
	}
	for name, addr := range m.syms {
		if got, ok := s.Lookup(name); !ok || got != addr {
			t.Errorf("%s = %#x, %v; want %#x", name[:min(len(name), 30)], got, ok, addr)
		}
	}
	sym, off, ok := s.Nearest(textVA + 0x150)
	if !ok || sym.Name != "start_kernel" || off != 0x50 || sym.Type != 'T' {
		t.Errorf("Nearest: %+v+%#x %v", sym, off, ok)
	}
	if sym, _, ok := s.Nearest(0x5000); !ok || sym.Name != "irq_stack_backing_store" {
		t.Errorf("Nearest(percpu) %+v", sym)
	}
	if a, ok := k.Lookup("init_top_pgt"); !ok || a != textAddr(pgdPA) {
		t.Errorf("Lookup falls back to VMCOREINFO: %#x %v", a, ok)
	}
	// A wrong _stext in VMCOREINFO means the tables were misread.
	m.setSym("_stext", textVA+8)
	if _, err := newKernel(t, m).Symbols(); err == nil {
		t.Error("_stext mismatch accepted")
	}
}

func TestKallsymsErrors(t *testing.T) {
	for name, damage := range map[string]func(m *machine){
		"num_syms 0":      func(m *machine) { m.put32(pa(m, "kallsyms_num_syms"), 0) },
		"num_syms huge":   func(m *machine) { m.put32(pa(m, "kallsyms_num_syms"), 1<<30) },
		"token index":     func(m *machine) { m.put16(pa(m, "kallsyms_token_index")+2*'_', 0xffff) },
		"names truncated": func(m *machine) { m.put32(pa(m, "kallsyms_num_syms"), 100000) },
		"no symbol":       func(m *machine) { delete(m.info, "SYMBOL(kallsyms_names)") },
	} {
		m := fullMachine()
		damage(m)
		if _, err := newKernel(t, m).Symbols(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// pa is the physical address of a VMCOREINFO symbol in the image.
func pa(m *machine, name string) uint64 {
	var va uint64
	for _, c := range m.info["SYMBOL("+name+")"] {
		va = va<<4 | uint64(strings.IndexRune("0123456789abcdef", c))
	}
	return va - textVA + textPA
}

func TestTasks(t *testing.T) {
	k := newKernel(t, fullMachine())
	o, err := k.TaskOffsets()
	if err != nil {
		t.Fatal(err)
	}
	want := linux.TaskOffsets{Tasks: tTasks, PID: tPID, TGID: tTGID, Comm: tComm, MM: tMM, RealParent: tParent, State: tState, Flags: tFlags, StateSize: 4, MMPgd: mmPgd}
	if *o != want {
		t.Errorf("offsets %+v\nwant %+v", *o, want)
	}
	tasks, err := k.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	wantTasks := []linux.Task{
		{Address: textAddr(initTaskPA), Comm: "swapper/0", Flags: 0x00200000, KThread: true},
		{Address: directAddr(tasksPA), PID: 1, TGID: 1, Comm: "init", State: 1, MM: directAddr(mmPA)},
		{Address: directAddr(tasksPA + taskSize), PID: 2, TGID: 2, Comm: "kthreadd", State: 1, Flags: 0x00200000, KThread: true},
	}
	if !reflect.DeepEqual(tasks, wantTasks) {
		t.Errorf("tasks\n%+v\nwant\n%+v", tasks, wantTasks)
	}
	procs, err := k.Processes()
	if err != nil || len(procs) != 3 || procs[1] != (model.KernelProcess{PID: 1, Name: "init", DirBase: 0x1000, Address: directAddr(tasksPA), Threads: -1, Handles: -1}) {
		t.Errorf("processes %+v, %v", procs, err)
	}
}

func TestTasksDamaged(t *testing.T) {
	m := fullMachine()
	// kthreadd's next points back at init (not init_task): a loop.
	m.put64(tasksPA+taskSize+tTasks, directAddr(tasksPA)+tTasks)
	tasks, err := newKernel(t, m).Tasks()
	if err == nil || len(tasks) != 3 || !strings.Contains(err.Error(), "loops") {
		t.Errorf("loop: %d tasks, %v", len(tasks), err)
	}
	m = fullMachine()
	m.put64(tasksPA+tTasks, 0xffffc90000002000+tTasks) // into the absent vmalloc page
	tasks, err = newKernel(t, m).Tasks()
	if err == nil || len(tasks) != 2 {
		t.Errorf("bad pointer: %d tasks, %v", len(tasks), err)
	}
	m = fullMachine()
	m.phys[btfPA] = 0 // BTF magic
	if _, err := newKernel(t, m).Tasks(); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Errorf("bad BTF: %v", err)
	}
}

func TestModules(t *testing.T) {
	k := newKernel(t, fullMachine())
	mods, err := k.Modules()
	want := []linux.Module{{Address: vmallocVA + 3*4096, Name: "dummy_mod", Base: 0xffffffffc0001000, Size: 0x3000}}
	if err != nil || !reflect.DeepEqual(mods, want) {
		t.Errorf("%+v, %v", mods, err)
	}
}

func TestCPUs(t *testing.T) {
	k := newKernel(t, fullMachine())
	cpus, err := k.CPUs()
	want := []linux.CPU{
		{ID: 0, PerCPUOffset: directAddr(0x570000), Current: directAddr(tasksPA)},
		{ID: 1, PerCPUOffset: directAddr(0x580000), Current: textAddr(initTaskPA)},
	}
	if err != nil || !reflect.DeepEqual(cpus, want) {
		t.Fatalf("%+v, %v", cpus, err)
	}
	if task, err := k.TaskAt(cpus[0].Current); err != nil || task.Comm != "init" {
		t.Errorf("%+v, %v", task, err)
	}
}

func TestFiveLevel(t *testing.T) {
	// 5-level paging: PGD (bits 48-56) -> P4D -> PUD with a 1 GiB page;
	// PAGE_OFFSET is 0xff11000000000000.
	m := newMachine()
	m.info["NUMBER(pgtable_l5_enabled)"] = "1"
	const va = 0xff11000000000000
	clear(m.phys[pgdPA : pgdPA+4096])
	m.put64(pgdPA+(va>>48&511)*8, 0x120000|pPresent)
	m.put64(0x120000+(va>>39&511)*8, 0x121000|pPresent)
	m.put64(0x121000, 0|pPresent|pPSE)
	k := newKernel(t, m)
	if pa, size, err := k.Translate(va + 0x1234); err != nil || pa != 0x1234 || size != 1<<30 {
		t.Errorf("Translate: %#x %#x %v", pa, size, err)
	}
	var fe *mem.FaultError
	if _, _, err := k.Translate(0xff10000000000000); !errors.As(err, &fe) || fe.Level != "PGD" {
		t.Errorf("absent: %v", err)
	}
	if _, _, err := k.Translate(0xfe00000000000000); !errors.As(err, &fe) || fe.Kind != mem.Unmapped {
		t.Errorf("non-canonical under 5 levels: %v", err)
	}
	n := 0
	for r := range k.Virtual().Regions() {
		if r.Start != va || r.Size != 1<<30 {
			t.Errorf("region %v", r)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d regions", n)
	}
}
