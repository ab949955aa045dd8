package linux_test

// A synthetic x86-64 Linux machine, laid out from the kernel's own
// definitions (the 6.1 VMCOREINFO offsets below, include/uapi/linux/btf.h,
// scripts/kallsyms.c, arch/x86 page tables), not from the parser's code.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/crashbench/crashbench/core/mem/memtest"
)

var le = binary.LittleEndian

// Physical layout of the fake machine (8 MiB at physical 0).
const (
	physSize   = 8 << 20
	pageOffset = 0xffff888000000000 // direct map
	textVA     = 0xffffffff81000000 // _stext
	textPA     = 0x200000
	physBase   = textPA - 0x1000000 // NUMBER(phys_base): -0xe00000
	pgdPA      = 0x110000
	vmallocVA  = 0xffffc90000000000

	pPresent = 1
	pPSE     = 0x80
)

// textAddr is the kernel-image virtual address of physical pa.
func textAddr(pa uint64) uint64 { return pa - textPA + textVA }

// directAddr is the direct-map address of physical pa.
func directAddr(pa uint64) uint64 { return pageOffset + pa }

type machine struct {
	phys []byte
	info map[string]string
	syms map[string]uint64 // kallsyms contents
}

func (m *machine) put64(pa, v uint64) { le.PutUint64(m.phys[pa:], v) }
func (m *machine) put32(pa uint64, v uint32) {
	le.PutUint32(m.phys[pa:], v)
}
func (m *machine) put16(pa uint64, v uint16) { le.PutUint16(m.phys[pa:], v) }

// Map returns the physical memory as a memtest space.
func (m *machine) Map() memtest.Map { return memtest.Map{0: m.phys} }

// vmcoreinfo6_1 are the offsets and sizes a Linux 6.1 x86-64 kernel
// exports (kernel/printk/printk.c log_buf_vmcoreinfo_setup).
var vmcoreinfo6_1 = map[string]string{
	"OSRELEASE": "6.1.0-synthetic", "PAGESIZE": "4096",
	"NUMBER(pgtable_l5_enabled)": "0", "NUMBER(sme_mask)": "0", "NUMBER(KERNEL_IMAGE_SIZE)": "1073741824",
	"SIZE(printk_ringbuffer)": "88", "OFFSET(printk_ringbuffer.desc_ring)": "0",
	"OFFSET(printk_ringbuffer.text_data_ring)": "48", "OFFSET(printk_ringbuffer.fail)": "80",
	"SIZE(prb_desc_ring)": "48", "OFFSET(prb_desc_ring.count_bits)": "0", "OFFSET(prb_desc_ring.descs)": "8",
	"OFFSET(prb_desc_ring.infos)": "16", "OFFSET(prb_desc_ring.head_id)": "24", "OFFSET(prb_desc_ring.tail_id)": "32",
	"SIZE(prb_desc)": "24", "OFFSET(prb_desc.state_var)": "0", "OFFSET(prb_desc.text_blk_lpos)": "8",
	"SIZE(prb_data_blk_lpos)": "16", "OFFSET(prb_data_blk_lpos.begin)": "0", "OFFSET(prb_data_blk_lpos.next)": "8",
	"SIZE(printk_info)": "88", "OFFSET(printk_info.seq)": "0", "OFFSET(printk_info.ts_nsec)": "8",
	"OFFSET(printk_info.text_len)": "16", "OFFSET(printk_info.caller_id)": "20", "OFFSET(printk_info.dev_info)": "24",
	"SIZE(prb_data_ring)": "32", "OFFSET(prb_data_ring.size_bits)": "0", "OFFSET(prb_data_ring.data)": "8",
	"OFFSET(prb_data_ring.head_lpos)": "16", "OFFSET(prb_data_ring.tail_lpos)": "24",
	"OFFSET(atomic_long_t.counter)": "0",
	"SIZE(dev_printk_info)":         "64", "OFFSET(dev_printk_info.subsystem)": "0", "OFFSET(dev_printk_info.device)": "16",
	"LENGTH(printk_info_subsystem)": "16", "LENGTH(printk_info_device)": "48",
}

// Where things live (physical addresses).
const (
	prbVarPA   = 0x210000 // struct printk_ringbuffer *prb
	prbPA      = 0x210100 // struct printk_ringbuffer printk_rb_static
	descsPA    = 0x500000 // direct-mapped
	infosPA    = 0x510000
	dataPA     = 0x520000
	kallsymsPA = 0x220000
	btfPA      = 0x300000
	initTaskPA = 0x240000
	modulesPA  = 0x250000 // LIST_HEAD(modules)
	tasksPA    = 0x530000 // other task_structs, direct-mapped
	mmPA       = 0x540000
	modPA      = 0x550000 // struct module, reached through vmalloc
)

// newMachine builds the page tables and VMCOREINFO; the tests add the
// structures they need.
func newMachine() *machine {
	m := &machine{phys: make([]byte, physSize), info: map[string]string{}, syms: map[string]uint64{}}
	for k, v := range vmcoreinfo6_1 {
		m.info[k] = v
	}
	m.info["NUMBER(phys_base)"] = strconv.FormatInt(physBase, 10)
	m.info["KERNELOFFSET"] = "0"
	m.setSym("init_top_pgt", textAddr(pgdPA))
	m.setSym("_stext", textVA)
	// PGD: direct map (slot 273), vmalloc (402), kernel image (511).
	m.put64(pgdPA+273*8, 0x111000|pPresent)
	m.put64(pgdPA+402*8, 0x112000|pPresent)
	m.put64(pgdPA+511*8, 0x115000|pPresent)
	m.put64(0x111000, 0|pPresent|pPSE) // 1 GiB page: all of physical memory
	m.put64(0x112000, 0x113000|pPresent)
	m.put64(0x113000, 0x114000|pPresent)          // PMD 0 -> PT
	m.put64(0x113000+8, 0x600000|pPresent|pPSE)   // PMD 1: 2 MiB page
	m.put64(0x114000, 0x702000|pPresent)          // PTE 0
	m.put64(0x114000+8, 0x700000|pPresent)        // PTE 1 (out of order)
	m.put64(0x114000+3*8, modPA|pPresent)         // PTE 3 -> the module
	m.put64(0x115000+510*8, 0x116000|pPresent)    // PUD 510
	m.put64(0x116000+8*8, 0x200000|pPresent|pPSE) // PMD 8: text
	m.put64(0x116000+9*8, 0x400000|pPresent|pPSE) // PMD 9
	return m
}

func (m *machine) setSym(name string, va uint64) {
	m.info["SYMBOL("+name+")"] = fmt.Sprintf("%016x", va)
}

// logRecord is one record to place in the ring.
type logRecord struct {
	id    uint64 // descriptor id
	state uint64 // 0 reserved, 1 committed, 2 finalized, 3 reusable
	ts    uint64
	text  string
	// begin, next are the logical positions of the data block (including
	// the 8-byte id header); wrap means begin lies in the previous lap.
	begin, next uint64
	textLen     uint16 // 0: len(text)
	subsys, dev string
}

// buildPrb writes a lockless ring with 2^countBits descriptors and a
// 2^sizeBits data ring holding recs, tail..head as given.
func (m *machine) buildPrb(countBits, sizeBits uint32, tail, head uint64, recs []logRecord) {
	m.setSym("prb", textAddr(prbVarPA))
	m.put64(prbVarPA, textAddr(prbPA))
	m.put32(prbPA+0, countBits)
	m.put64(prbPA+8, directAddr(descsPA))
	m.put64(prbPA+16, directAddr(infosPA))
	m.put64(prbPA+24, head)
	m.put64(prbPA+32, tail)
	m.put32(prbPA+48, sizeBits)
	m.put64(prbPA+48+8, directAddr(dataPA))
	count, size := uint64(1)<<countBits, uint64(1)<<sizeBits
	for _, r := range recs {
		slot := r.id % count
		d := descsPA + slot*24
		m.put64(d, r.state<<62|r.id&(1<<62-1))
		m.put64(d+8, r.begin)
		m.put64(d+16, r.next)
		inf := infosPA + slot*88
		m.put64(inf, r.id) // seq
		m.put64(inf+8, r.ts)
		tl := r.textLen
		if tl == 0 {
			tl = uint16(len(r.text))
		}
		m.put16(inf+16, tl)
		m.put32(inf+20, 0x80000001)
		copy(m.phys[inf+24:inf+24+16], r.subsys)
		copy(m.phys[inf+24+16:inf+24+64], r.dev)
		b := r.begin % size
		if r.begin%size > r.next%size { // wrapped: data at the start of the ring
			b = 0
		}
		m.put64(dataPA+b, r.id)
		copy(m.phys[dataPA+b+8:], r.text)
	}
}

// A tiny kallsyms: tokens are single bytes except two multi-byte ones, as
// scripts/kallsyms.c would produce.
type ksym struct {
	name string
	typ  byte
	addr uint64
}

// buildKallsyms writes kallsyms_offsets (absolute percpu), relative base,
// num_syms, names, token_table and token_index in kernel-image memory.
func (m *machine) buildKallsyms(syms []ksym) {
	var tokens [256]string
	for i := range 256 {
		if i >= 0x20 && i < 0x7f {
			tokens[i] = string(rune(i))
		}
	}
	tokens[1], tokens[2] = "init_", "_BTF"
	encode := func(s string) []byte {
		var out []byte
		for len(s) > 0 {
			switch {
			case len(s) >= 5 && s[:5] == "init_":
				out, s = append(out, 1), s[5:]
			case len(s) >= 4 && s[:4] == "_BTF":
				out, s = append(out, 2), s[4:]
			default:
				out, s = append(out, s[0]), s[1:]
			}
		}
		return out
	}
	var base uint64 = 1<<64 - 1
	for _, s := range syms {
		if s.addr >= textVA && s.addr < base {
			base = s.addr
		}
	}
	pa := uint64(kallsymsPA)
	offA := pa
	for i, s := range syms {
		var o int32
		if s.addr < textVA { // per-cpu: absolute
			o = int32(s.addr)
		} else {
			o = int32(int64(base) - 1 - int64(s.addr))
		}
		m.put32(offA+uint64(4*i), uint32(o))
		m.syms[s.name] = s.addr
	}
	pa = (offA + uint64(4*len(syms)) + 7) &^ 7
	m.put64(pa, base)
	m.setSym("kallsyms_offsets", textAddr(offA))
	m.setSym("kallsyms_relative_base", textAddr(pa))
	pa += 8
	m.put32(pa, uint32(len(syms)))
	m.setSym("kallsyms_num_syms", textAddr(pa))
	pa += 8
	m.setSym("kallsyms_names", textAddr(pa))
	for _, s := range syms {
		e := encode(string(s.typ) + s.name)
		if len(e) < 0x80 {
			m.phys[pa] = byte(len(e))
			pa++
		} else {
			m.phys[pa], m.phys[pa+1] = byte(len(e))|0x80, byte(len(e)>>7)
			pa += 2
		}
		pa += uint64(copy(m.phys[pa:], e))
	}
	pa = (pa + 0xff) &^ 0xff
	m.setSym("kallsyms_token_table", textAddr(pa))
	tab := pa
	var idx [256]uint16
	for i, t := range tokens {
		idx[i] = uint16(pa - tab)
		pa += uint64(copy(m.phys[pa:], t)) + 1 // NUL from the zeroed buffer
	}
	pa = (pa + 7) &^ 7
	m.setSym("kallsyms_token_index", textAddr(pa))
	for i, v := range idx {
		m.put16(pa+uint64(2*i), v)
	}
}

// btfBuilder writes BTF type records (include/uapi/linux/btf.h).
type btfBuilder struct {
	types bytes.Buffer
	strs  bytes.Buffer
	n     uint32
	names map[string]uint32
}

func newBTF() *btfBuilder {
	b := &btfBuilder{names: map[string]uint32{}}
	b.strs.WriteByte(0)
	return b
}

func (b *btfBuilder) str(s string) uint32 {
	if s == "" {
		return 0
	}
	if o, ok := b.names[s]; ok {
		return o
	}
	o := uint32(b.strs.Len())
	b.strs.WriteString(s)
	b.strs.WriteByte(0)
	b.names[s] = o
	return o
}

func (b *btfBuilder) u32(vs ...uint32) {
	for _, v := range vs {
		binary.Write(&b.types, binary.LittleEndian, v)
	}
}

// typ writes a btf_type header and returns its id.
func (b *btfBuilder) typ(name string, kind, vlen uint32, kflag bool, sizeOrType uint32) uint32 {
	info := kind<<24 | vlen
	if kflag {
		info |= 1 << 31
	}
	b.u32(b.str(name), info, sizeOrType)
	b.n++
	return b.n
}

type btfMember struct {
	name string
	typ  uint32
	off  uint32 // bits (with the bitfield size in the top byte for kflag structs)
}

func (b *btfBuilder) aggregate(kind uint32, name string, size uint32, kflag bool, ms ...btfMember) uint32 {
	id := b.typ(name, kind, uint32(len(ms)), kflag, size)
	for _, m := range ms {
		b.u32(b.str(m.name), m.typ, m.off)
	}
	return id
}

func (b *btfBuilder) bytes() []byte {
	var out bytes.Buffer
	binary.Write(&out, binary.LittleEndian, uint16(0xeb9f))
	out.WriteByte(1)
	out.WriteByte(0)
	b2 := uint32(b.types.Len())
	for _, v := range []uint32{24, 0, b2, b2, uint32(b.strs.Len())} {
		binary.Write(&out, binary.LittleEndian, v)
	}
	out.Write(b.types.Bytes())
	out.Write(b.strs.Bytes())
	return out.Bytes()
}

// Task layout used by the synthetic BTF (bytes).
const (
	tTasks, tMM, tPID, tTGID, tParent, tComm, tState, tFlags = 0x90, 0xe0, 0x170, 0x174, 0x180, 0x1a0, 0x18, 0x2c
	taskSize                                                 = 0x400
	mmPgd                                                    = 0x48
	modList, modName, modCore                                = 0x8, 0x18, 0x140
)

// syntheticBTF describes int, list_head, task_struct (tasks inside an
// anonymous struct, a bitfield, kind_flag set), mm_struct, module and
// module_layout, plus kinds the parser must step over.
func syntheticBTF() []byte {
	b := newBTF()
	intT := b.typ("int", 1, 0, false, 4)
	b.u32(0x01000020) // signed, 32 bits
	uintT := b.typ("unsigned int", 1, 0, false, 4)
	b.u32(32)
	ulongT := b.typ("long unsigned int", 1, 0, false, 8)
	b.u32(64)
	charT := b.typ("char", 1, 0, false, 1)
	b.u32(8)
	lhPtr := b.typ("", 2, 0, false, 6) // -> list_head (id 6)
	lh := b.aggregate(4, "list_head", 16, false, btfMember{"next", lhPtr, 0}, btfMember{"prev", lhPtr, 64})
	pidT := b.typ("pid_t", 8, 0, false, intT)
	comm := b.typ("", 3, 0, false, 0)
	b.u32(charT, intT, 16)
	// some kinds to skip
	b.typ("fp", 13, 2, false, intT)
	b.u32(0, intT, 0, uintT)
	b.typ("e", 6, 2, false, 4)
	b.u32(b.str("A"), 0, b.str("B"), 1)
	b.typ("e64", 19, 1, false, 8)
	b.u32(b.str("C"), 1, 0)
	b.typ("v", 14, 0, false, intT)
	b.u32(1)
	b.typ("tag", 17, 0, false, intT)
	b.u32(0xffffffff)
	b.typ("double", 16, 0, false, 8)
	fwd := b.typ("task_struct", 7, 0, false, 0) // forward declaration first
	_ = fwd
	anon := b.aggregate(4, "", 0x20, false, btfMember{"pad", ulongT, 0}, btfMember{"tasks", lh, 0x10 * 8})
	taskPtr := b.typ("", 2, 0, false, 0) // patched below to task_struct
	mmPtr := b.typ("", 2, 0, false, 0)   // patched below to mm_struct
	volState := b.typ("", 9, 0, false, uintT)
	task := b.aggregate(4, "task_struct", taskSize, true,
		btfMember{"__state", volState, tState * 8},
		btfMember{"flags", uintT, tFlags * 8},
		btfMember{"", anon, 0x80 * 8},
		btfMember{"mm", mmPtr, tMM * 8},
		btfMember{"pid", pidT, tPID * 8},
		btfMember{"tgid", pidT, tTGID * 8},
		btfMember{"real_parent", taskPtr, tParent * 8},
		btfMember{"comm", comm, tComm * 8},
		btfMember{"in_execve", uintT, 1<<24 | (0x1c0*8 + 3)},
	)
	mm := b.aggregate(4, "mm_struct", 0x100, false, btfMember{"pgd", ulongT, mmPgd * 8})
	voidPtr := b.typ("", 2, 0, false, 0)
	layout := b.aggregate(4, "module_layout", 0x40, false, btfMember{"base", voidPtr, 0}, btfMember{"size", uintT, 64})
	name := b.typ("", 3, 0, false, 0)
	b.u32(charT, intT, 56)
	b.aggregate(4, "module", 0x400, false,
		btfMember{"state", intT, 0}, btfMember{"list", lh, modList * 8},
		btfMember{"name", name, modName * 8}, btfMember{"core_layout", layout, modCore * 8})
	raw := b.bytes()
	// Patch the two pointers' referenced types (they precede their targets).
	patch := func(ptrID, target uint32) {
		le.PutUint32(raw[24+recordOffset(raw, ptrID)+8:], target)
	}
	patch(taskPtr, task)
	patch(mmPtr, mm)
	return raw
}

// recordOffset returns the offset in the type section of type id, by the
// record sizes of btf.h.
func recordOffset(raw []byte, id uint32) int {
	td := raw[24:]
	p := 0
	for i := uint32(1); i < id; i++ {
		info := le.Uint32(td[p+4:])
		kind, vlen := info>>24&0x1f, int(info&0xffff)
		p += 12
		switch kind {
		case 1, 14, 17:
			p += 4
		case 3:
			p += 12
		case 4, 5, 15, 19:
			p += 12 * vlen
		case 6, 13:
			p += 8 * vlen
		}
	}
	return p
}

// testTask is a task_struct to place.
type testTask struct {
	pa        uint64
	pid, tgid uint32
	comm      string
	mm        uint64 // physical address of an mm_struct, 0 for a kernel thread
	parent    uint64 // physical address of the parent task
	state     uint32
}

// buildTasks links the tasks (the first is init_task) into a circular
// tasks list with the synthetic BTF's layout.
func (m *machine) buildTasks(ts []testTask) {
	va := func(pa uint64) uint64 {
		if pa >= textPA && pa < 0x600000 && pa < tasksPA {
			return textAddr(pa)
		}
		return directAddr(pa)
	}
	for i, t := range ts {
		next := ts[(i+1)%len(ts)]
		prev := ts[(i+len(ts)-1)%len(ts)]
		m.put64(t.pa+tTasks, va(next.pa)+tTasks)
		m.put64(t.pa+tTasks+8, va(prev.pa)+tTasks)
		m.put32(t.pa+tPID, t.pid)
		m.put32(t.pa+tTGID, t.tgid)
		copy(m.phys[t.pa+tComm:t.pa+tComm+16], t.comm)
		m.put32(t.pa+tState, t.state)
		if t.mm != 0 {
			m.put64(t.pa+tMM, directAddr(t.mm))
			m.put64(t.mm+mmPgd, directAddr(0x1000))
		} else {
			m.put32(t.pa+tFlags, 0x00200000)
		}
		m.put64(t.pa+tParent, va(t.parent))
	}
}

// fullMachine is a machine with every structure in place: a log of four
// records, kallsyms, BTF, three tasks and one module.
func fullMachine() *machine {
	m := newMachine()
	m.buildPrb(4, 12, 14, 19, []logRecord{
		{id: 14, state: 3, ts: 1, text: "reusable: skipped", begin: 0x1000 + 0x300, next: 0x1000 + 0x300 + 32},
		{id: 15, state: 2, ts: 1_500_000, text: "first", subsys: "pci", dev: "+pci:0000:00:01.0", begin: 0x1000 + 0x100, next: 0x1000 + 0x100 + 16},
		{id: 16, state: 2, ts: 2_000_001_000, text: "two\nlines\x01", begin: 0x1000 + 0x200, next: 0x1000 + 0x200 + 24},
		{id: 17, state: 1, ts: 12_345_678_901, text: "wrapped", begin: 0x1000 + 0xff0, next: 0x2000 + 16},
		{id: 18, state: 2, ts: 3, text: "truncated text", textLen: 200, begin: 0x2000 + 0x400, next: 0x2000 + 0x400 + 8 + 9},
		{id: 19, state: 0, ts: 4, text: "reserved: skipped", begin: 0x2000 + 0x600, next: 0x2000 + 0x640},
	})
	long := "a_very_long_symbol_name_" + string(bytes.Repeat([]byte("x"), 150))
	m.buildKallsyms([]ksym{
		{"fixed_percpu_data", 'D', 0},
		{"irq_stack_backing_store", 'D', 0x4000},
		{"_stext", 'T', textVA},
		{"start_kernel", 'T', textVA + 0x100},
		{long, 't', textVA + 0x200},
		{"init_task", 'D', textAddr(initTaskPA)},
		{"modules", 'd', textAddr(modulesPA)},
		{"__start_BTF", 'R', textAddr(btfPA)},
		{"__stop_BTF", 'R', textAddr(btfPA) + uint64(len(syntheticBTF()))},
		{"current_task", 'D', 0x8000},
		{"nr_cpu_ids", 'D', textAddr(0x270000)},
		{"__per_cpu_offset", 'D', textAddr(0x270008)},
	})
	m.put32(0x270000, 2)
	m.put64(0x270008, directAddr(0x570000))
	m.put64(0x270010, directAddr(0x580000))
	m.put64(0x578000, directAddr(tasksPA))
	m.put64(0x588000, textAddr(initTaskPA))
	copy(m.phys[btfPA:], syntheticBTF())
	m.buildTasks([]testTask{
		{pa: initTaskPA, pid: 0, tgid: 0, comm: "swapper/0", parent: initTaskPA},
		{pa: tasksPA, pid: 1, tgid: 1, comm: "init", mm: mmPA, parent: initTaskPA, state: 1},
		{pa: tasksPA + taskSize, pid: 2, tgid: 2, comm: "kthreadd", parent: initTaskPA, state: 1},
	})
	// A Linux 3.5-5.9 log_buf too, read when SYMBOL(prb) is unusable.
	buildLogBuf(m, 300, 200, 24, map[uint32][2]string{200: {"a", "first"}, 224: {"bb", "second line"}, 0: {"ccc", "third"}})
	// One module, reached through vmalloc (PTE 3 maps modPA).
	modVA := uint64(vmallocVA + 3*4096)
	m.put64(modulesPA, modVA+modList)
	m.put64(modulesPA+8, modVA+modList)
	m.put64(modPA+modList, textAddr(modulesPA))
	m.put64(modPA+modList+8, textAddr(modulesPA))
	copy(m.phys[modPA+modName:], "dummy_mod")
	m.put64(modPA+modCore, 0xffffffffc0001000)
	m.put32(modPA+modCore+8, 0x3000)
	return m
}
