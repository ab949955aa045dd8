package session

import (
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
	// kernel32 has no PDB here: dt says so.
	if out := run(t, s, "dt kernel32!_PEB"); !strings.Contains(out, "no type information") {
		t.Errorf("dt in a module without types: %q", out)
	}
}
