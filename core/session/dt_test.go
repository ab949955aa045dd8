package session

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestDtFromPDB shows types from crash.pdb (the PDB of symbolic's
// mini.dmp, an x86 process): _CONTEXT has the x86 layout winnt.h
// defines, and _EXCEPTION_POINTERS read at the stack pointer gives the
// same two dwords dd reads there.
func TestDtFromPDB(t *testing.T) {
	t.Parallel()
	s := openSession(t, fixture.Corpus(t, "symbolic/windows/mini.dmp"), Options{SymPath: fixture.Corpus(t, "symbolic-pdb/windows")})
	out := run(t, s, "dt crash!_CONTEXT")
	// winnt.h, i386 CONTEXT: Eip at 0xb8, Esp at 0xc4, ExtendedRegisters[512] at 0xcc.
	wantAll(t, "dt _CONTEXT", out,
		"+0x000 ContextFlags     : Uint4B",
		"+0x01c FloatSave        : _FLOATING_SAVE_AREA",
		"+0x0b8 Eip              : Uint4B",
		"+0x0c4 Esp              : Uint4B",
		"+0x0cc ExtendedRegisters : [512] UChar")
	out = run(t, s, "dt -r1 crash!_CONTEXT")
	wantAll(t, "dt -r1 _CONTEXT", out, "      +0x000 ControlWord      : Uint4B")

	if out := run(t, s, "dt crash!_EXCEPTION_*"); !strings.Contains(out, "crash!_EXCEPTION_POINTERS") || !strings.Contains(out, "crash!_EXCEPTION_RECORD") {
		t.Errorf("dt crash!_EXCEPTION_*:\n%s", out)
	}

	dd := run(t, s, "dd @esp L2")
	f := strings.Fields(dd)
	if len(f) < 3 {
		t.Fatalf("dd: %q", dd)
	}
	dt := run(t, s, "dt crash!_EXCEPTION_POINTERS @esp")
	for i, field := range []string{"ExceptionRecord", "ContextRecord"} {
		m := regexp.MustCompile(`\+0x00` + strconv.Itoa(4*i) + ` ` + field + ` +: 0x([0-9a-f]+) _`).FindStringSubmatch(dt)
		if m == nil || m[1] != f[1+i] {
			t.Errorf("%s: dt says %v, dd says %s\n%s\n%s", field, m, f[1+i], dt, dd)
		}
	}
	if out := run(t, s, "dt crash!_EXCEPTION_POINTERS 10"); !strings.Contains(out, "Memory read error") {
		t.Errorf("dt at an address the dump lacks: %q", out)
	}
	// A global variable: its type and the value dd reads at the address
	// x gives.
	x := strings.Fields(run(t, s, "x crash!__security_cookie"))
	cookie := strings.Fields(run(t, s, "dd crash!__security_cookie L1"))
	gv := run(t, s, "dt crash!__security_cookie")
	if len(x) < 2 || len(cookie) < 2 || !strings.Contains(gv, "crash!__security_cookie (Uint4B) at "+x[0]) || !strings.Contains(gv, "0x"+strings.TrimLeft(cookie[1], "0")) {
		t.Errorf("dt of a global: %q; x %q; dd %q", gv, x, cookie)
	}
	// kernel32 has no PDB here: dt says so.
	if out := run(t, s, "dt kernel32!_PEB"); !strings.Contains(out, "no type information") {
		t.Errorf("dt in a module without types: %q", out)
	}
}

// TestDtFromDWARF shows sighandler's struct sigaction from its DWARF, in
// the core gcore wrote (testdata/linux-core): the layout and main's local
// sa agree with gdb's ptype /o and print (sighandler.types.gdb.txt).
func TestDtFromDWARF(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "testdata", "linux-core")
	oracle, err := os.ReadFile(filepath.Join(dir, "sighandler.types.gdb.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s := openSession(t, filepath.Join(dir, "core.sighandler.zst"), Options{})
	layout := run(t, s, "dt sighandler!sigaction")
	// Every top-level member of gdb's ptype /o at the same offset.
	members := regexp.MustCompile(`(?m)^/\*\s+(\d+)\s+\|\s+\d+ \*/    (?:union \{|.*?(\w+);|.*\(\*(\w+)\)\(.*\);)$`).FindAllStringSubmatch(string(oracle), -1)
	union := regexp.MustCompile(`(?m)^\s+\} (\w+);$`).FindStringSubmatch(string(oracle))
	if len(members) != 4 || union == nil {
		t.Fatalf("oracle: %d members, union %v", len(members), union)
	}
	for _, m := range members {
		name := m[2] + m[3]
		if name == "" {
			name = union[1]
		}
		off, _ := strconv.Atoi(m[1])
		if want := fmt.Sprintf("+0x%03x %-16s : ", off, name); !strings.Contains(layout, want) {
			t.Errorf("dt lacks %q:\n%s", want, layout)
		}
	}
	// gdb: $1 = (struct sigaction *) 0x7fffffffe4e0, $2 = ... <on_segv>, $3 = 0.
	vals := regexp.MustCompile(`(?m)^\$1 = \(struct sigaction \*\) 0x([0-9a-f]+)\n\$2 = \(__sighandler_t\) 0x([0-9a-f]+) <(\w+)>\n\$3 = (-?\d+)$`).FindStringSubmatch(string(oracle))
	if vals == nil {
		t.Fatalf("no values in the oracle:\n%s", oracle)
	}
	out := run(t, s, "dt -r1 sighandler!sigaction 0x"+vals[1])
	handler, _ := strconv.ParseUint(vals[2], 16, 64)
	wantAll(t, "dt at &sa", out,
		"+0x000 sa_handler       : 0x"+disasmAddr(handler)+" Function sighandler!"+vals[3],
		"+0x088 sa_flags         : 0n"+vals[4],
		"+0x008 sa_mask          : __sigset_t")
}

// disasmAddr formats a 64-bit address as the console does (backtick).
func disasmAddr(v uint64) string { return fmt.Sprintf("%08x`%08x", v>>32, uint32(v)) }
