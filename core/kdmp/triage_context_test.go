package kdmp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/minidump"
	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// minidumpContext decodes a CONTEXT with package minidump, by storing it
// as the exception context of a synthetic minidump. (Only this test
// imports another format package: package kdmp itself must not.)
func minidumpContext(t *testing.T, arch uint16, b []byte) model.Context {
	t.Helper()
	raw, err := minidumptest.New(binary.LittleEndian).
		SystemInfo(&minidumptest.SystemInfo{Arch: arch, CPUs: 1, Major: 10, Build: 19041, Platform: 2}).
		Exception(minidumptest.Exception{ThreadID: 1, Code: 0x80000003, Context: b}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := minidump.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.ExceptionContext()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestContextAgreesWithMinidump decodes the same CONTEXT bytes with
// kdmp.DecodeContext and with package minidump's decoder and compares every
// register minidump lists (kdmp adds fpcr and fpsr on ARM64): the two
// decoders of one layout must not drift apart.
func TestContextAgreesWithMinidump(t *testing.T) {
	t.Parallel()
	type tc struct {
		machine uint32
		arch    uint16 // PROCESSOR_ARCHITECTURE_*
		b       []byte
	}
	regs := map[string]uint64{}
	for i, n := range []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
		"eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "fp", "lr", "sp", "pc"} {
		regs[n] = 0xfffff80000000000 + uint64(i)*0x1111
	}
	for i := range 29 {
		regs[fmt.Sprintf("x%d", i)] = 0x100000000 * uint64(i+1)
	}
	for n, v := range map[string]uint64{"eflags": 0x40286, "efl": 0x246, "cpsr": 0x80000144, "fpcr": 7, "fpsr": 0x10, "mxcsr": 0x1f80,
		"cs": 0x10, "ds": 0x2b, "es": 0x2b, "fs": 0x53, "gs": 0x2b, "ss": 0x18} {
		regs[n] = v
	}
	cases := map[string]tc{
		"amd64": {kdmp.IMAGE_FILE_MACHINE_AMD64, 9, kdmptest.ContextAMD64(regs)},
		"arm64": {kdmp.IMAGE_FILE_MACHINE_ARM64, 12, kdmptest.ContextARM64(regs)},
		"x86":   {kdmp.IMAGE_FILE_MACHINE_I386, 0, kdmptest.ContextX86(regs)},
	}
	// The real dumps' context records too, when the corpus is there.
	for name, c := range map[string]tc{
		"triage_x64.dmp":   {kdmp.IMAGE_FILE_MACHINE_AMD64, 9, nil},
		"triage_arm64.dmp": {kdmp.IMAGE_FILE_MACHINE_ARM64, 12, nil},
	} {
		raw, err := os.ReadFile(corpusPath(t, "rizin/dmp/"+name))
		if err != nil || len(raw) < 0x348+kdmp.ContextSize(c.machine) {
			t.Logf("%s not checked: %v", name, err)
			continue
		}
		c.b = raw[0x348 : 0x348+kdmp.ContextSize(c.machine)]
		cases[name] = c
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ours, err := kdmp.DecodeContext(c.machine, c.b)
			if err != nil {
				t.Fatal(err)
			}
			theirs := minidumpContext(t, c.arch, c.b)
			if ours.Arch() != theirs.Arch() || ours.PC() != theirs.PC() || ours.SP() != theirs.SP() || ours.FP() != theirs.FP() {
				t.Errorf("arch/pc/sp/fp %s %#x %#x %#x, minidump %s %#x %#x %#x",
					ours.Arch(), ours.PC(), ours.SP(), ours.FP(), theirs.Arch(), theirs.PC(), theirs.SP(), theirs.FP())
			}
			mine := ours.Regs()
			for i, r := range theirs.Regs() {
				if i >= len(mine) || mine[i].Name != r.Name || mine[i].Value != r.Value || mine[i].Size != r.Size || r.Wide != nil {
					t.Errorf("register %d: minidump %+v, kdmp %+v", i, r, mine[min(i, len(mine)-1)])
				}
			}
			if extra := len(mine) - len(theirs.Regs()); extra != map[model.Arch]int{model.ARM64: 2}[ours.Arch()] {
				t.Errorf("kdmp lists %d registers more than minidump", extra)
			}
		})
	}
}

// corpusPath is where fixture.Corpus looks for a corpus file, without
// skipping the test when it is absent (the synthetic cases still run).
func corpusPath(t *testing.T, rel string) string {
	t.Helper()
	dir := os.Getenv("CRASHBENCH_CORPUS")
	if dir == "" {
		dir = filepath.Join(fixture.Root(t), "..", "shared", "corpus")
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}

func TestDecodeContextErrors(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		machine uint32
		b       []byte
	}{
		"short":     {kdmp.IMAGE_FILE_MACHINE_AMD64, make([]byte, 0xff)},
		"arm":       {kdmp.IMAGE_FILE_MACHINE_ARMNT, make([]byte, 0x1a0)},
		"never":     {kdmp.IMAGE_FILE_MACHINE_ARM64, append([]byte("PAGE"), make([]byte, 0x400)...)},
		"empty-x86": {kdmp.IMAGE_FILE_MACHINE_I386, nil},
	} {
		if _, err := kdmp.DecodeContext(c.machine, c.b); !errors.Is(err, kdmp.ErrBadContext) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c, err := kdmp.DecodeContext(kdmp.IMAGE_FILE_MACHINE_ARM64, kdmptest.ContextARM64(map[string]uint64{"fp": 5, "lr": 6}))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Reg("x29"); !ok || v != 5 {
		t.Errorf("x29 = %d", v)
	}
	if v, ok := c.Reg("x30"); !ok || v != 6 {
		t.Errorf("x30 = %d", v)
	}
	a, _ := kdmp.DecodeContext(kdmp.IMAGE_FILE_MACHINE_AMD64, kdmptest.ContextAMD64(map[string]uint64{"eflags": 0x246}))
	if v, ok := a.Reg("rflags"); !ok || v != 0x246 || a.Flags != 0x0010001f {
		t.Errorf("rflags = %#x, flags %#x", v, a.Flags)
	}
}
