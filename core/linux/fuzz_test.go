package linux_test

import (
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
)

// FuzzParseBTF parses arbitrary BTF and queries every struct it finds.
func FuzzParseBTF(f *testing.F) {
	good := syntheticBTF()
	f.Add(good)
	f.Add(good[:40])
	f.Add(good[:len(good)-1])
	f.Add([]byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := linux.ParseBTF(data)
		if err != nil {
			return
		}
		for id := uint32(1); id <= uint32(min(b.NumTypes(), 500)); id++ {
			_, _ = b.Size(id)
			ms, err := b.Members(id)
			if err != nil {
				continue
			}
			for _, m := range ms[:min(len(ms), 20)] {
				_, _ = b.MemberOffset(id, m.Name)
				_, _ = b.MemberType(id, m.Name)
			}
			_, _ = b.MemberOffset(id, "no such member")
		}
		for _, name := range []string{"task_struct", "module", "list_head"} {
			if id, ok := b.Struct(name); ok {
				_, _ = b.MemberOffset(id, "tasks")
			}
		}
	})
}

// patched is physical memory with a patch laid over a shared base, so that
// each fuzz run does not copy megabytes.
type patched struct {
	base  memtest.Map
	off   uint64
	patch []byte
}

func (p patched) ReadMemory(b []byte, addr uint64) (int, error) {
	n, err := p.base.ReadMemory(b, addr)
	for i := range b[:n] {
		a := addr + uint64(i)
		if a >= p.off && a-p.off < uint64(len(p.patch)) {
			b[i] = p.patch[a-p.off]
		}
	}
	return n, err
}

var fuzzMachine = sync.OnceValue(fullMachine)

// fuzzTargets are the structures FuzzKernel damages.
var fuzzTargets = []uint64{pgdPA, 0x111000, 0x113000, 0x114000, 0x116000, prbVarPA, prbPA, descsPA, infosPA,
	dataPA, kallsymsPA, kallsymsPA + 0x100, btfPA, btfPA + 0x100, initTaskPA, tasksPA, tasksPA + taskSize, modulesPA, modPA, 0x260000, 0x560000, 0x270000}

var fuzzKeys = []string{"NUMBER(phys_base)", "SIZE(printk_info)", "OFFSET(printk_info.text_len)", "OFFSET(prb_desc_ring.descs)",
	"SIZE(prb_desc)", "SYMBOL(kallsyms_names)", "SYMBOL(kallsyms_num_syms)", "SYMBOL(prb)", "NUMBER(pgtable_l5_enabled)", "SIZE(printk_ringbuffer)"}

// FuzzKernel overwrites bytes of the synthetic machine (page tables, the
// printk ring, kallsyms, BTF, tasks, modules) and one VMCOREINFO value,
// then runs every view: none may panic or hang, whatever the damage.
func FuzzKernel(f *testing.F) {
	f.Add(uint8(0), uint16(273*8), []byte{0x03, 0x10, 0x11}, uint8(255), "")
	f.Add(uint8(6), uint16(0), []byte{40}, uint8(1), "4096")
	f.Add(uint8(7), uint16(0x18), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbf}, uint8(255), "")
	f.Add(uint8(10), uint16(0x24), []byte{0xff, 0xff, 0x7f}, uint8(6), "ffffffff81020000")
	f.Add(uint8(12), uint16(0x18), []byte{0, 0, 0, 0x10}, uint8(255), "")
	f.Add(uint8(15), uint16(0x90), []byte{0x90, 0x00, 0x53, 0x00, 0x80, 0x88, 0xff, 0xff}, uint8(8), "1")
	f.Add(uint8(19), uint16(0xc), []byte{0x10}, uint8(7), "")
	f.Fuzz(func(t *testing.T, target uint8, off uint16, patch []byte, key uint8, value string) {
		base := fuzzMachine()
		if len(patch) > 1024 {
			patch = patch[:1024]
		}
		info := make(map[string]string, len(base.info))
		for k, v := range base.info {
			info[k] = v
		}
		if int(key) < len(fuzzKeys) {
			info[fuzzKeys[key]] = value
		}
		p := patched{base: base.Map(), off: fuzzTargets[int(target)%len(fuzzTargets)] + uint64(off), patch: patch}
		k, err := linux.New(p, info, model.AMD64)
		if err != nil {
			return
		}
		_, _ = k.Log()
		_, _ = k.Tasks()
		_, _ = k.Processes()
		_, _ = k.Modules()
		_, _ = k.CPUs()
		if s, err := k.Symbols(); err == nil {
			_, _, _ = s.Nearest(textVA)
		}
		n := 0
		for range k.Virtual().Regions() {
			if n++; n > 1000 {
				break
			}
		}
	})
}
