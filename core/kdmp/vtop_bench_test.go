package kdmp_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
)

// translateFixture writes the x64 machine's full dump with 4096 more
// kernel pages mapped (16 MiB, 8 page tables) to a file, opens it with
// Open (so table reads are file reads), and returns random addresses in
// those pages and in the 2 MiB and 1 GiB pages.
func translateFixture(tb testing.TB) (*kdmp.File, []uint64) {
	tb.Helper()
	m := kdmptest.NewMachine(kdmptest.PagingAMD64)
	base := m.KernBase + 0x30000000
	const pages = 4096
	present := m.Mem.PFNs()
	for i := range uint64(pages) {
		m.AS.Map(base+i*kdmptest.PageSize, present[i%uint64(len(present))]*kdmptest.PageSize)
	}
	raw, err := m.Bytes(m.NewBuilder())
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "MEMORY.DMP")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		tb.Fatal(err)
	}
	f, err := kdmp.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	r := rand.New(rand.NewPCG(1, 2))
	vas := make([]uint64, 1<<16)
	for i := range vas {
		switch i % 8 {
		case 0:
			vas[i] = m.LargeVA + r.Uint64N(2<<20)
		case 1:
			vas[i] = m.HugeVA + r.Uint64N(1<<30)
		default:
			vas[i] = base + r.Uint64N(pages*kdmptest.PageSize)
		}
	}
	return f, vas
}

// BenchmarkTranslate times one kernel translation of a random address
// (ns/op; a million take ns/op milliseconds).
func BenchmarkTranslate(b *testing.B) {
	f, vas := translateFixture(b)
	ks, err := f.KernelSpace()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, _, err := ks.Translate(vas[i&(len(vas)-1)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadRandom times an 8-byte read at a random address of the 16
// MiB of 4 KiB pages: the path Map and the TLB serve, without a Walk.
func BenchmarkReadRandom(b *testing.B) {
	f, vas := translateFixture(b)
	vas = slices.DeleteFunc(vas, func(va uint64) bool { return va>>28&0xf != 3 }) // the 4 KiB pages at base
	ks, err := f.KernelSpace()
	if err != nil {
		b.Fatal(err)
	}
	var p [8]byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := ks.ReadMemory(p[:], vas[i%len(vas)]&^7); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTranslateMillion translates a million random kernel addresses. The
// goal is under a second (see BenchmarkTranslate); the test fails only at
// five times that, so that a loaded machine does not make it flaky.
func TestTranslateMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	t.Parallel()
	f, vas := translateFixture(t)
	ks, err := f.KernelSpace()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 1_000_000 {
		if _, _, err := ks.Translate(vas[i&(len(vas)-1)]); err != nil {
			t.Fatal(err)
		}
	}
	d := time.Since(start)
	t.Logf("1,000,000 translations: %v", d)
	if d > 5*time.Second {
		t.Errorf("1,000,000 translations took %v", d)
	}
}
