package elfcore

import (
	"bufio"
	"encoding/binary"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// gdbAllRegsCores maps each file testdata/gdb-allregs/make.sh writes to
// its core and the registers that must have been compared in it (a
// prefix stands for every register it starts).
var gdbAllRegsCores = map[string]struct {
	core string
	must []string
}{
	"lldb-linux-fpr_sse_x86_64":      {"lldb/elf-core/linux-fpr_sse_x86_64.core", []string{"st", "fctrl", "ftag", "fioff", "xmm", "ymm", "mxcsr"}},
	"lldb-linux-fpr_sse_i386":        {"lldb/elf-core/linux-fpr_sse_i386.core", []string{"st", "fctrl", "ftag", "fioff", "xmm", "ymm", "mxcsr"}},
	"lldb-linux-x86_64":              {"lldb/elf-core/linux-x86_64.core", []string{"st", "fctrl", "ftag", "xmm", "ymm", "mxcsr"}},
	"generated-crashc":               {"generated/linux-core/core.crashc.sigsegv", []string{"st", "fctrl", "ftag", "xmm", "ymm", "zmm", "mxcsr"}},
	"rizin-core-linux-arm64":         {"rizin/elf-core/core-linux-arm64", []string{"v", "fpsr", "fpcr", "tpidr"}},
	"elfutils-testfile_aarch64_core": {"elfutils/testfile_aarch64_core.bz2", []string{"v", "fpsr", "fpcr", "tpidr"}},
	"elfutils-backtrace.aarch64":     {"elfutils/backtrace.aarch64.core.bz2", []string{"v", "fpsr", "fpcr", "tpidr"}},
}

// gdbNotDecoded lists the registers gdb prints in those files that the
// package does not decode, and why. Every other register gdb prints with
// a value is compared.
var gdbNotDecoded = map[string]string{
	"mm": "i386 MMX registers: gdb's views of st0..st7's significands",
	"w":  "arm64 w0..w30: gdb's 32-bit views of x0..x30",
}

var (
	reGDBThread = regexp.MustCompile(`^Thread \d+ .*\bLWP (\d+)\)`)
	reGDBLine   = regexp.MustCompile(`^([a-z][a-z0-9_]*)\s+(.+)$`)
	reGDBRaw    = regexp.MustCompile(`\(raw 0x([0-9a-f]+)\)`)
	reGDBLanes  = regexp.MustCompile(`v\d+_int64 = \{([^}]*)\}`)
	reGDBQ      = regexp.MustCompile(`q = \{u = \{0x([0-9a-f]+)\}`)
	reGDBHex    = regexp.MustCompile(`^0x([0-9a-f]+)(\s|$)`)
)

// TestFPRegsAgreeWithGDB compares the registers decoded from the notes
// after each NT_PRSTATUS with what gdb prints for the same thread
// (testdata/gdb-allregs): st0..7 by their raw 80 bits, x86 vector
// registers by their 64-bit lanes (the lanes gdb has: for crashc it reads
// only NT_FPREGSET, see make.sh), arm64 v registers by q.u, and the rest
// by value. Registers gdb prints as <unavailable> are counted, not
// compared; registers the package does not decode must be listed in
// gdbNotDecoded.
func TestFPRegsAgreeWithGDB(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join("testdata", "gdb-allregs", "*.txt"))
	if len(files) != len(gdbAllRegsCores) {
		t.Errorf("%d oracle files, %d cores listed", len(files), len(gdbAllRegsCores))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		tc, ok := gdbAllRegsCores[name]
		if !ok {
			t.Errorf("%s: no core listed", path)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := openCorpusCore(t, fixture.Corpus(t, tc.core))
			ts, err := f.Threads()
			if err != nil || len(ts) == 0 {
				t.Fatalf("threads %v, %v", ts, err)
			}
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			byLWP := map[uint64]model.Context{}
			for _, th := range ts {
				byLWP[th.ID] = th.Context
			}
			cur := ts[0].Context // before any "Thread N" header: gdb's current thread
			compared := map[string]int{}
			var unavailable []string
			threads := map[model.Context]bool{}
			sc := bufio.NewScanner(strings.NewReader(string(text)))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if m := reGDBThread.FindStringSubmatch(line); m != nil {
					lwp, _ := strconv.ParseUint(m[1], 10, 64)
					if cur = byLWP[lwp]; cur == nil {
						t.Fatalf("gdb's LWP %d has no context", lwp)
					}
					continue
				}
				m := reGDBLine.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				reg, val := m[1], m[2]
				ours, ok := findReg(cur, reg)
				if !ok {
					if why := notDecoded(reg); why == "" {
						t.Errorf("gdb shows %s = %.60s, which is neither decoded nor listed in gdbNotDecoded", reg, val)
					}
					continue
				}
				n, skipped := compareGDBReg(t, reg, ours, val)
				if n > 0 {
					compared[regClass(reg)]++
					threads[cur] = true
				}
				if skipped {
					unavailable = append(unavailable, reg)
				}
			}
			for _, c := range tc.must {
				if compared[c] == 0 {
					t.Errorf("no %s register compared (compared: %v)", c, compared)
				}
			}
			t.Logf("compared %v in %d threads; partly or wholly <unavailable> in gdb: %d registers (%s)",
				compared, len(threads), len(unavailable), strings.Join(firstN(unavailable, 8), " "))
		})
	}
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "...")
	}
	return s
}

func findReg(c model.Context, name string) (model.Reg, bool) {
	for _, r := range c.Regs() {
		if r.Name == name {
			return r, true
		}
	}
	return model.Reg{}, false
}

// regClass is a register's name without its number: st0 → st.
func regClass(name string) string {
	return strings.TrimRight(name, "0123456789")
}

func notDecoded(name string) string {
	return gdbNotDecoded[regClass(name)]
}

// compareGDBReg compares one register with gdb's text for it, returning
// how many values (lanes) were compared and whether gdb had none or only
// some of them.
func compareGDBReg(t *testing.T, name string, r model.Reg, val string) (n int, unavailable bool) {
	t.Helper()
	if strings.HasPrefix(val, "<unavailable>") {
		return 0, true
	}
	if m := reGDBRaw.FindStringSubmatch(val); m != nil { // x87: (raw 0x<20 hex digits>)
		want, _ := new(big.Int).SetString(m[1], 16)
		if got := leInt(r.Wide); got.Cmp(want) != 0 || len(r.Wide) != 10 {
			t.Errorf("%s = %#x (%d bytes), gdb raw %#x", name, got, len(r.Wide), want)
		}
		return 1, false
	}
	if m := reGDBLanes.FindStringSubmatch(val); m != nil { // x86 vectors: vN_int64 lanes
		lanes := strings.Split(m[1], ", ")
		if len(r.Wide) != 8*len(lanes) {
			t.Errorf("%s has %d bytes, gdb %d lanes", name, len(r.Wide), len(lanes))
			return 0, false
		}
		for i, l := range lanes {
			if l == "<unavailable>" {
				unavailable = true
				continue
			}
			want, err := strconv.ParseUint(strings.TrimPrefix(l, "0x"), 16, 64)
			if err != nil {
				t.Fatalf("%s lane %q: %v", name, l, err)
			}
			if got := binary.LittleEndian.Uint64(r.Wide[8*i:]); got != want {
				t.Errorf("%s lane %d = %#x, gdb %#x", name, i, got, want)
			}
			n++
		}
		return n, unavailable
	}
	if m := reGDBQ.FindStringSubmatch(val); m != nil { // arm64 v: q.u
		want, _ := new(big.Int).SetString(m[1], 16)
		if got := leInt(r.Wide); got.Cmp(want) != 0 || len(r.Wide) != 16 {
			t.Errorf("%s = %#x (%d bytes), gdb %#x", name, got, len(r.Wide), want)
		}
		return 1, false
	}
	if m := reGDBHex.FindStringSubmatch(val); m != nil && r.Wide == nil {
		want, err := strconv.ParseUint(m[1], 16, 64)
		if err != nil {
			t.Fatalf("%s = %q: %v", name, val, err)
		}
		if r.Value != want {
			t.Errorf("%s = %#x, gdb %#x", name, r.Value, want)
		}
		return 1, false
	}
	t.Errorf("%s: cannot compare %d-byte register with gdb's %.80q", name, r.Size, val)
	return 0, false
}

// leInt reads little-endian bytes as an unsigned integer.
func leInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}
