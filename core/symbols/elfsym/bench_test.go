package elfsym

import (
	"bytes"
	"encoding/hex"
	"os"
	"testing"
)

// libcFrameRVAs are the libc return addresses of the corpus core
// generated/linux-core/core.crashc.sigsegv (pause, start_thread and
// clone3 in its worker threads).
var libcFrameRVAs = []uint64{0xd3df2, 0x891f5, 0x1098ec}

// skipWithoutLibcDebug skips unless this machine has the Debian 12 libc
// the corpus core was written with and its libc6-dbg debug file.
func skipWithoutLibcDebug(tb testing.TB) {
	tb.Helper()
	id, _ := hex.DecodeString(libcBuildID)
	if got, err := BuildID(libcPath); err != nil || !bytes.Equal(got, id) {
		tb.Skipf("%s has build id %x (err %v), not %s", libcPath, got, err, libcBuildID)
	}
	if _, err := os.Stat(libcDebug); err != nil {
		tb.Skipf("libc debug file missing (Debian: apt-get install libc6-dbg): %v", err)
	}
}

// BenchmarkLibcLookup is what naming a core's libc frames costs: opening
// libc and its separate debug file and looking up three return
// addresses, as `crashbench run core -c "~*k"` does.
func BenchmarkLibcLookup(b *testing.B) {
	skipWithoutLibcDebug(b)
	for b.Loop() {
		tab, err := OpenPair(libcPath, libcDebug)
		if err != nil {
			b.Fatal(err)
		}
		for _, rva := range libcFrameRVAs {
			if _, ok := tab.LookupRVA(rva); !ok {
				b.Fatalf("%#x not found", rva)
			}
		}
	}
}
