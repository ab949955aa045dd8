package session

import (
	"context"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestImagesFillInCode: neither dump captured the code of the functions
// below; the executables beside them (wcrash.exe, PE; crashc, ELF PIE) are
// mapped under the dumps' memory, so uf disassembles real instructions.
func TestImagesFillInCode(t *testing.T) {
	for _, tc := range []struct{ dump, cmd, want string }{
		{"generated/windows-minidump/wine-MiniDumpNormal-exception.dmp", "uf wcrash!main", "call    wcrash!level1"},
		{"generated/linux-core/core.crashc.sigsegv", "uf crashc!level2", "call    crashc!level3"},
		{"generated/linux-core/core.crashc.sigsegv", ".ecxr; u @rip L1", "mov     dword ptr [rax],2Ah"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			s, err := Open(context.Background(), fixture.Corpus(t, tc.dump), Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var b strings.Builder
			if err := s.Exec(context.Background(), tc.cmd, console.NewTextOutput(&b)); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tc.want) {
				t.Fatalf("%s: no %q in:\n%s", tc.cmd, tc.want, b.String())
			}
		})
	}
}
