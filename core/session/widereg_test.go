package session

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestWideRegistersInConsole reads x87 and SSE registers of lldb's FP test
// core through `r`, against the bytes lldb's TestLinuxCore asserts (see
// the corpus's lldb/ORACLE-NOTES.md): st0 = 99 f7 cf fb 84 9a 20 9a fd 3f
// and xmm0 = 29 31 64 46 four times, printed most significant byte first.
func TestWideRegistersInConsole(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), fixture.Corpus(t, "lldb/elf-core/linux-fpr_sse_x86_64.core"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b bytes.Buffer
	if err := s.Exec(context.Background(), "r st0; r xmm0", console.NewTextOutput(&b)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"st0=3ffd9a209a84fbcff799", "xmm0=" + strings.Repeat("46643129", 4)} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in:\n%s", want, b.String())
		}
	}
}
