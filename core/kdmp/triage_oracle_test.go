package kdmp_test

import (
	"bufio"
	"debug/pe"
	"encoding/binary"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// rizinCase is one case of rizin's test database: the file it opens, the
// commands it runs and the output it expects.
type rizinCase struct {
	name, file string
	cmds       []string
	expect     []string
}

// readRizinDB parses rizin's test/db format (blocks of NAME=, FILE=,
// CMDS= and EXPECT=, with <<EOF heredocs, ended by RUN).
func readRizinDB(t *testing.T, path string) []rizinCase {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []rizinCase
	var cur rizinCase
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	heredoc := func() []string {
		var lines []string
		for sc.Scan() && sc.Text() != "EOF" {
			lines = append(lines, sc.Text())
		}
		return lines
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "NAME="):
			cur = rizinCase{name: strings.TrimPrefix(line, "NAME=")}
		case strings.HasPrefix(line, "FILE="):
			cur.file = strings.TrimPrefix(line, "FILE=")
		case line == "CMDS=<<EOF":
			cur.cmds = heredoc()
		case strings.HasPrefix(line, "CMDS="):
			cur.cmds = []string{strings.TrimPrefix(line, "CMDS=")}
		case line == "EXPECT=<<EOF":
			cur.expect = heredoc()
		case line == "RUN":
			out = append(out, cur)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rizinTriage is what rizin's iH, dr and dbt print for a triage dump.
type rizinTriage struct {
	header, triage map[string]uint64 // iH: DUMP_HEADER64 and TRIAGE_DUMP64 fields
	bugName        string            // iH: the name after BugCheckCode
	regs           map[string]uint64 // dr
	regOrder       []string
	frames         []rizinFrame // dbt
}

type rizinFrame struct {
	pc, sp uint64
	module string // the PDB name after "pdb.", "" for the last frame
}

var (
	rizinField = regexp.MustCompile(`^  (\w+) : 0x([0-9a-f]+)(?: \((.*)\))?$`)
	rizinReg   = regexp.MustCompile(`^(\w+) = 0x([0-9a-f]+)$`)
	rizinFrm   = regexp.MustCompile(`^(\d+)\s+0x([0-9a-f]+)\s+sp: 0x([0-9a-f]+)\s+\d+\s+\[\?\?\]\s*(\S*)`)
)

func parseRizinTriage(t *testing.T, c rizinCase) rizinTriage {
	t.Helper()
	r := rizinTriage{header: map[string]uint64{}, triage: map[string]uint64{}, regs: map[string]uint64{}}
	section := r.header
	hex := func(s string) uint64 {
		v, err := strconv.ParseUint(s, 16, 64)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		return v
	}
	for _, line := range c.expect {
		switch {
		case line == "DUMP_HEADER64:":
			section = r.header
		case line == "TRIAGE_DUMP64:":
			section = r.triage
		case rizinField.MatchString(line):
			m := rizinField.FindStringSubmatch(line)
			section[m[1]] = hex(m[2])
			if m[1] == "BugCheckCode" {
				r.bugName = m[3]
			}
		case rizinReg.MatchString(line):
			m := rizinReg.FindStringSubmatch(line)
			r.regs[m[1]] = hex(m[2])
			r.regOrder = append(r.regOrder, m[1])
		case rizinFrm.MatchString(line):
			m := rizinFrm.FindStringSubmatch(line)
			f := rizinFrame{pc: hex(m[2]), sp: hex(m[3])}
			if mod, ok := strings.CutPrefix(m[4], "pdb."); ok {
				f.module, _, _ = strings.Cut(mod, ".")
			}
			r.frames = append(r.frames, f)
		}
	}
	if len(r.triage) == 0 || len(r.regs) == 0 || len(r.frames) == 0 {
		t.Fatalf("%s: the rizin case has no TRIAGE_DUMP64, registers or frames", c.name)
	}
	return r
}

// triageSymstoreKeys are the symbol-server directories rizin fetched the
// dumps' images from while running these cases (its debugger asks for
// <name>/<TimeDateStamp%08x SizeOfImage%x>/<name>, taken from the driver
// list): the tree of rizinorg/test-pdb-repository, which the corpus keeps
// as rizin-symstore/. The ntoskrnl.exe images are too large to be in the
// corpus; rizin-symstore/ORACLE-NOTES.md lists their keys. The test
// database itself prints no driver list.
var triageSymstoreKeys = map[string]map[string]string{
	"triage_x64.dmp": {
		"ntoskrnl.exe": "0d8333e61046000",
		"amdppm.sys":   "c9c030003b000",
		"Wdf01000.sys": "a9a9d36ed1000",
	},
	"triage_arm64.dmp": {
		"ntoskrnl.exe": "df291b09103e000",
	},
}

// pdbImage maps the PDB names rizin's dbt prints to the image the driver
// list names (the kernel's PDB is ntkrnlmp.pdb for ntoskrnl.exe).
var pdbImage = map[string]string{"ntkrnlmp": "ntoskrnl.exe", "amdppm": "amdppm.sys", "Wdf01000": "Wdf01000.sys"}

// TestTriageOracle checks the triage decoding of the corpus's two real
// triage dumps against the output rizin's test database expects (rizin
// test/db/formats/dmp/dmp, saved as oracle-test-db/formats_dmp_dmp): every
// DUMP_HEADER64 and TRIAGE_DUMP64 field of `iH`, every register of `dr`,
// the modules and stack words behind each frame of `dbt`, and the driver
// entries rizin looked up on the symbol server.
func TestTriageOracle(t *testing.T) {
	t.Parallel()
	db := fixture.Corpus(t, "rizin/oracle-test-db/formats_dmp_dmp")
	cases := readRizinDB(t, db)
	seen := 0
	for _, c := range cases {
		file, ok := strings.CutPrefix(c.file, "dmp://bins/dmp/")
		if !ok || !strings.HasPrefix(file, "triage_") {
			continue
		}
		seen++
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			want := parseRizinTriage(t, c)
			f, err := kdmp.Open(fixture.Corpus(t, "rizin/dmp/"+file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			checkRizinHeader(t, f, want)
			checkRizinTriage(t, f, want)
			checkRizinRegisters(t, f, want)
			checkRizinDrivers(t, f, want, triageSymstoreKeys[file])
			checkRizinStack(t, f, want)
			if d := f.Diagnostics(); len(d) != 0 {
				t.Errorf("diagnostics on a real triage dump: %+v", d)
			}
		})
	}
	if seen != 2 {
		t.Fatalf("found %d triage cases in %s, want 2", seen, db)
	}
}

func checkRizinHeader(t *testing.T, f *kdmp.File, want rizinTriage) {
	t.Helper()
	info := f.Info()
	h := want.header
	if got := info.OS.Build; got != strconv.FormatUint(h["MinorVersion"], 10) {
		t.Errorf("build %s, rizin MinorVersion %#x", got, h["MinorVersion"])
	}
	if h["MajorVersion"] == 0xf && !strings.Contains(detailOf(info, "Kernel"), " Free ") {
		t.Errorf("Kernel detail %q does not say Free (MajorVersion 0xf)", detailOf(info, "Kernel"))
	}
	if info.CPUs != int(h["NumberProcessors"]) {
		t.Errorf("CPUs %d, rizin %d", info.CPUs, h["NumberProcessors"])
	}
	wantArch := map[uint64]model.Arch{0x8664: model.AMD64, 0xaa64: model.ARM64}[h["MachineImageType"]]
	if info.Arch != wantArch {
		t.Errorf("arch %s, rizin MachineImageType %#x", info.Arch, h["MachineImageType"])
	}
	for _, k := range []string{"DirectoryTableBase", "PfnDataBase", "PsLoadedModuleList", "PsActiveProcessHead", "KdDebuggerDataBlock", "SuiteMask"} {
		if got := detailOf(info, k); got != "0x"+strconv.FormatUint(h[k], 16) {
			t.Errorf("%s = %s, rizin %#x", k, got, h[k])
		}
	}
	if got := detailOf(info, "ProductType"); !strings.HasPrefix(got, strconv.FormatUint(h["ProductType"], 10)+" ") {
		t.Errorf("ProductType = %q, rizin %#x", got, h["ProductType"])
	}
	c := info.Crash
	if c == nil || c.Code != h["BugCheckCode"] || c.Name != want.bugName {
		t.Fatalf("crash %+v, rizin %#x (%s)", c, h["BugCheckCode"], want.bugName)
	}
	for i := range 4 {
		k := "BugCheckParameter" + strconv.Itoa(i+1)
		if i >= len(c.Parameters) || c.Parameters[i] != h[k] {
			t.Errorf("%s = %#x, rizin %#x", k, c.Parameters, h[k])
		}
	}
	if c.ThreadID == nil || *c.ThreadID == 0 {
		t.Errorf("crash ThreadID = %v, want the ETHREAD address", c.ThreadID)
	}
	if info.Threads != 1 || info.Modules != int(want.triage["DriverCount"]) {
		t.Errorf("Threads/Modules = %d/%d, want 1/%d", info.Threads, info.Modules, want.triage["DriverCount"])
	}
}

func detailOf(info model.Info, key string) string {
	for _, d := range info.Details {
		if d.Key == key {
			return d.Value
		}
	}
	return ""
}

func checkRizinTriage(t *testing.T, f *kdmp.File, want rizinTriage) {
	t.Helper()
	h := f.Triage()
	if h == nil {
		t.Fatal("no TRIAGE_DUMP")
	}
	got := map[string]uint64{
		"ServicePackBuild": uint64(h.ServicePackBuild), "SizeOfDump": uint64(h.SizeOfDump), "ValidOffset": uint64(h.ValidOffset),
		"ContextOffset": uint64(h.ContextOffset), "ExceptionOffset": uint64(h.ExceptionOffset), "MmOffset": uint64(h.MmOffset),
		"UnloadedDriversOffset": uint64(h.UnloadedDriversOffset), "PrcbOffset": uint64(h.PrcbOffset),
		"ProcessOffset": uint64(h.ProcessOffset), "ThreadOffset": uint64(h.ThreadOffset),
		"CallStackOffset": uint64(h.CallStackOffset), "SizeOfCallStack": uint64(h.SizeOfCallStack),
		"DriverListOffset": uint64(h.DriverListOffset), "DriverCount": uint64(h.DriverCount),
		"StringPoolOffset": uint64(h.StringPoolOffset), "StringPoolSize": uint64(h.StringPoolSize),
		"BrokenDriverOffset": uint64(h.BrokenDriverOffset), "TriageOptions": uint64(h.TriageOptions),
		"TopOfStack": h.TopOfStack, "BStoreOffset": uint64(h.BStoreOffset), "SizeOfBStore": uint64(h.SizeOfBStore),
		"LimitOfBStore": h.LimitOfBStore, "DataPageAddress": h.DataPageAddress, "DataPageOffset": uint64(h.DataPageOffset),
		"DataPageSize": uint64(h.DataPageSize), "DebuggerDataOffset": uint64(h.DebuggerDataOffset),
		"DebuggerDataSize": uint64(h.DebuggerDataSize), "DataBlocksOffset": uint64(h.DataBlocksOffset),
		"DataBlocksCount": uint64(h.DataBlocksCount),
	}
	for k, v := range want.triage {
		g, ok := got[k]
		if !ok {
			t.Errorf("rizin prints TRIAGE_DUMP64.%s, which TriageHeader lacks", k)
			continue
		}
		if g != v {
			t.Errorf("TRIAGE_DUMP64.%s = %#x, rizin %#x", k, g, v)
		}
	}
	if len(want.triage) != len(got) {
		t.Errorf("rizin prints %d TRIAGE_DUMP64 fields, TriageHeader has %d", len(want.triage), len(got))
	}
	blocks, err := f.TriageDataBlocks()
	if err != nil || len(blocks) != int(want.triage["DataBlocksCount"]) {
		t.Errorf("%d data blocks (%v), rizin DataBlocksCount %d", len(blocks), err, want.triage["DataBlocksCount"])
	}
}

func checkRizinRegisters(t *testing.T, f *kdmp.File, want rizinTriage) {
	t.Helper()
	ths, err := f.Threads()
	if err != nil || len(ths) != 1 || ths[0].Context == nil {
		t.Fatalf("Threads = %+v, %v; want one thread with a context", ths, err)
	}
	th := ths[0]
	ctx := th.Context
	for _, name := range want.regOrder {
		v, ok := ctx.Reg(name)
		if !ok {
			t.Errorf("register %s (rizin %#x) missing", name, want.regs[name])
			continue
		}
		if v != want.regs[name] {
			t.Errorf("%s = %#x, rizin %#x", name, v, want.regs[name])
		}
	}
	if th.StackStart != want.triage["TopOfStack"] || th.StackSize != want.triage["SizeOfCallStack"] {
		t.Errorf("stack %#x+%#x, rizin TopOfStack %#x SizeOfCallStack %#x", th.StackStart, th.StackSize, want.triage["TopOfStack"], want.triage["SizeOfCallStack"])
	}
	if ctx.SP() != want.triage["TopOfStack"] {
		t.Errorf("thread SP %#x != TopOfStack %#x", ctx.SP(), want.triage["TopOfStack"])
	}
	thread, err := f.TriageThread()
	if err != nil || thread == nil || thread.Address == 0 || th.ID != thread.Address {
		t.Errorf("thread ID %#x, ETHREAD %+v (%v)", th.ID, thread, err)
	}
	// Every dbt ends in KiStartSystemThread: a system thread, whose
	// process is System.
	if got := f.TriageProcessName(); got != "System" {
		t.Errorf("process name %q, want System (the stack starts in KiStartSystemThread)", got)
	}
	if p := f.Info().Process; p == nil || p.Name != "System" {
		t.Errorf("Info.Process = %+v", p)
	}
}

func checkRizinDrivers(t *testing.T, f *kdmp.File, want rizinTriage, keys map[string]string) {
	t.Helper()
	drivers, err := f.TriageDrivers()
	if err != nil {
		t.Fatal(err)
	}
	if len(drivers) != int(want.triage["DriverCount"]) {
		t.Errorf("%d drivers, rizin DriverCount %d", len(drivers), want.triage["DriverCount"])
	}
	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]model.Module{}
	for _, m := range mods {
		if !m.Unloaded {
			byName[m.Name()] = m
		}
		// Some arm64 entries (msrpc.sys, win32k.sys, ...) store CheckSum
		// and TimeDateStamp 0: only name, base and size are always set.
		if m.Path == "" || (!m.Unloaded && (m.Base == 0 || m.Size == 0)) {
			t.Errorf("incomplete module %+v", m)
		}
	}
	// The kernel image is the first entry, and rizin's debugger finds it
	// by the suffix \ntoskrnl.exe, as this does.
	if !strings.HasSuffix(drivers[0].Name, `\ntoskrnl.exe`) {
		t.Errorf("first driver %q", drivers[0].Name)
	}
	peChecked := 0
	for name, key := range keys {
		m, ok := byName[name]
		if !ok {
			t.Errorf("no driver %s", name)
			continue
		}
		if got := strings.ToLower(m.CodeID); got != key {
			t.Errorf("%s: CodeID %s, rizin fetched %s/%s", name, got, name, key)
		}
		// Where the corpus has the image, its PE header is a second
		// oracle for the entry's TimeDateStamp and SizeOfImage.
		img, err := pe.Open(corpusPath(t, "rizin-symstore/"+name+"/"+key+"/"+name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		peChecked++
		opt, ok := img.OptionalHeader.(*pe.OptionalHeader64)
		if !ok || uint32(m.Time.Unix()) != img.FileHeader.TimeDateStamp || m.Size != uint64(opt.SizeOfImage) {
			t.Errorf("%s: time stamp %#x size %#x, the image's PE header says %#x and %+v", name, m.Time.Unix(), m.Size, img.FileHeader.TimeDateStamp, opt)
		}
		img.Close()
	}
	t.Logf("%d driver entries checked against their image's PE header", peChecked)
	// Every symbolised frame lies in the driver whose PDB rizin loaded.
	for i, fr := range want.frames {
		if fr.module == "" {
			continue
		}
		img := pdbImage[fr.module]
		m, ok := byName[img]
		if !ok || !m.Contains(fr.pc) {
			t.Errorf("frame %d pc %#x (rizin: %s) is not in %s %+v", i, fr.pc, fr.module, img, m)
		}
	}
}

func checkRizinStack(t *testing.T, f *kdmp.File, want rizinTriage) {
	t.Helper()
	space, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	ths, _ := f.Threads()
	ctx := ths[0].Context
	exc, err := f.ExceptionContext()
	if err != nil {
		t.Fatal(err)
	}
	word := func(addr uint64) (uint64, error) { return mem.ReadUint(space, addr, 8, binary.LittleEndian) }
	if fr := want.frames[0]; fr.pc != ctx.PC() || fr.sp != ctx.SP() {
		t.Errorf("frame 0 %#x sp %#x, thread context pc %#x sp %#x", fr.pc, fr.sp, ctx.PC(), ctx.SP())
	}
	fromStack := 0
	for i, fr := range want.frames[1:] {
		if fr.pc == 0 {
			continue // the end of the walk
		}
		// A frame entered from a trap frame has no return address: it
		// is the exception's context, which the context record holds.
		if fr.pc == exc.PC() {
			if fr.sp != exc.SP() {
				t.Errorf("frame %d is the exception context's pc %#x but sp %#x != %#x", i+1, fr.pc, fr.sp, exc.SP())
			}
			continue
		}
		got, err := word(fr.sp - 8)
		if err != nil || got != fr.pc {
			t.Errorf("frame %d: the stack word below sp %#x is %#x (%v), rizin's return address %#x", i+1, fr.sp, got, err, fr.pc)
		}
		fromStack++
	}
	if fromStack < len(want.frames)-3 {
		t.Errorf("only %d of %d frames found on the stack", fromStack, len(want.frames))
	}
	// The exception context of an "_M" bugcheck is the one
	// BugCheckParameter4 points at; .cxr on it gives the same registers.
	if code := want.header["BugCheckCode"]; code&0x10000000 != 0 {
		c4, err := f.ContextAt(want.header["BugCheckParameter4"])
		if err != nil {
			t.Fatalf("ContextAt(param4): %v", err)
		}
		for _, r := range exc.Regs() {
			if v, _ := c4.Reg(r.Name); v != r.Value {
				t.Errorf(".cxr param4 %s = %#x, context record %#x", r.Name, v, r.Value)
			}
		}
	}
	_, err = word(want.triage["TopOfStack"] + want.triage["SizeOfCallStack"] - 8)
	if err != nil {
		t.Errorf("last stack word: %v", err)
	}
	if _, err := word(0x1000); !errors.Is(err, mem.ErrNotInDump) {
		t.Errorf("read at 0x1000: %v, want not in dump", err)
	}
}
