package secrets_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/secrets"
	"github.com/crashbench/crashbench/core/secrets/secretstest"
)

// TestChunkEdges places a secret at every offset around a chunk boundary:
// it must be found exactly once, whole, wherever it falls.
func TestChunkEdges(t *testing.T) {
	const chunk = 4096
	jwt := secretstest.JWT(`{"alg":"HS256"}`, `{"sub":"edge"}`)
	key := secretstest.PEM()
	for _, secret := range []string{jwt, key} {
		for off := chunk - len(secret) - 2; off <= chunk+2; off++ {
			b := make([]byte, 3*chunk)
			copy(b[off:], secret)
			rep := scanText(t, b, secrets.Options{ChunkSize: chunk, Show: true})
			if len(rep.Findings) != 1 || rep.Findings[0].Addr != testBase+uint64(off) || rep.Findings[0].Value != secret {
				t.Fatalf("secret at offset %d across a %d-byte chunk edge: %+v", off, chunk, rep.Findings)
			}
			if rep.Scanned != uint64(len(b)) {
				t.Fatalf("scanned %d bytes of %d", rep.Scanned, len(b))
			}
		}
	}
}

// TestContiguousRegionsReadAsOne: a secret across the boundary of two
// adjacent regions is found, labelled with the region it starts in.
func TestContiguousRegionsReadAsOne(t *testing.T) {
	secret := "postgres://app:" + secretstest.Token(secretstest.Alnum, 20, 50) + "@db/app"
	b := make([]byte, 8192)
	copy(b[4096-20:], secret)
	regions := []secrets.Region{{Start: testBase + 4096, Size: 4096, Label: "second"}, {Start: testBase, Size: 4096, Label: "first"}}
	rep, err := secrets.Scan(context.Background(), byteReader{testBase, b}, regions, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Region != "first" || rep.Findings[0].Kind != secrets.URLPassword {
		t.Fatalf("findings %+v", rep.Findings)
	}
	if rep.Findings[0].Value != "" || strings.Contains(rep.Findings[0].Preview, secret[15:35]) {
		t.Errorf("value not hidden without Show: %+v", rep.Findings[0])
	}
}

// TestOverlappingRegionsScannedOnce: regions given twice or overlapping
// do not double the findings.
func TestOverlappingRegionsScannedOnce(t *testing.T) {
	ghp := "gh" + "p_" + secretstest.Token(secretstest.Alnum, 36, 51)
	b := make([]byte, 8192)
	copy(b[5000:], ghp)
	regions := []secrets.Region{{Start: testBase, Size: 8192}, {Start: testBase + 4096, Size: 4096}, {Start: testBase, Size: 6000}}
	rep, err := secrets.Scan(context.Background(), byteReader{testBase, b}, regions, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 1 || rep.Scanned != 8192 {
		t.Fatalf("total %d, scanned %d: %+v", rep.Total, rep.Scanned, rep.Findings)
	}
}

func TestMaxPerKind(t *testing.T) {
	var sb strings.Builder
	for i := range 30 {
		sb.WriteString("\nPassword=Secret-" + secretstest.Token(secretstest.Alnum, 8, uint64(i)) + ";\n")
	}
	rep := scanText(t, []byte(sb.String()), secrets.Options{MaxPerKind: 5})
	if rep.Counts[secrets.Password] != 30 || rep.Total != 30 || len(rep.Findings) != 5 || rep.Omitted != 25 {
		t.Fatalf("counts %v total %d listed %d omitted %d", rep.Counts, rep.Total, len(rep.Findings), rep.Omitted)
	}
}

// TestUnreadablePagesSkipped: a hole in a region is skipped and counted;
// what follows it is still scanned.
func TestUnreadablePagesSkipped(t *testing.T) {
	ghp := "gh" + "p_" + secretstest.Token(secretstest.Alnum, 36, 52)
	after := make([]byte, 4096)
	copy(after[100:], ghp)
	m := memtest.Map{testBase: make([]byte, 4096), testBase + 3*4096: after}
	rep, err := secrets.Scan(context.Background(), m, []secrets.Region{{Start: testBase, Size: 4 * 4096}}, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Addr != testBase+3*4096+100 {
		t.Fatalf("findings %+v", rep.Findings)
	}
	if rep.Unreadable != 2*4096 || rep.Scanned != 2*4096 {
		t.Errorf("unreadable %d, scanned %d; want 8192 each", rep.Unreadable, rep.Scanned)
	}
}

// TestBogusHugeRegion: a region of 2^62 bytes that cannot be read (a
// corrupt size) is given up after a bounded number of reads, with a note.
func TestBogusHugeRegion(t *testing.T) {
	reads := 0
	r := readerFunc(func(p []byte, addr uint64) (int, error) { reads++; return 0, errFault })
	rep, err := secrets.Scan(context.Background(), r, []secrets.Region{{Start: 1 << 40, Size: 1 << 62}, {Start: math.MaxUint64 - 10, Size: 100}}, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if reads > 1000 || len(rep.Notes) == 0 || rep.Scanned != 0 || rep.Unreadable != 1<<62+11 {
		t.Fatalf("reads %d, notes %q, scanned %d, unreadable %d", reads, rep.Notes, rep.Scanned, rep.Unreadable)
	}
}

type readerFunc func(p []byte, addr uint64) (int, error)

func (f readerFunc) ReadMemory(p []byte, addr uint64) (int, error) { return f(p, addr) }

func TestCancel(t *testing.T) {
	b := make([]byte, 1<<20)
	copy(b[10:], "Password=Hunter-22;")
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	o := secrets.Options{ChunkSize: 64 << 10, Progress: func(done, total int64) {
		calls++
		if calls == 2 {
			cancel()
		}
	}}
	rep, err := secrets.Scan(ctx, byteReader{testBase, b}, []secrets.Region{{Start: testBase, Size: uint64(len(b))}}, o)
	if !errors.Is(err, context.Canceled) || rep == nil || rep.Complete {
		t.Fatalf("err %v, report %+v", err, rep)
	}
	if rep.Total != 1 || rep.Scanned != 2*64<<10 {
		t.Errorf("before the cancel: %d found, %d scanned", rep.Total, rep.Scanned)
	}
}

func TestProgressReachesTotal(t *testing.T) {
	var last, total int64
	m := memtest.Map{0x1000: make([]byte, 3<<20), 0x1000_0000: make([]byte, 5000)}
	_, err := secrets.Scan(context.Background(), m, []secrets.Region{{Start: 0x1000, Size: 3 << 20}, {Start: 0x1000_0000, Size: 10000}},
		secrets.Options{Progress: func(d, t int64) { last, total = d, t }})
	if err != nil {
		t.Fatal(err)
	}
	if total != 3<<20+10000 || last != total {
		t.Errorf("progress ended at %d of %d", last, total)
	}
}

// TestCleanRandomMemory: random bytes, random printable text and random
// base64 text hold nothing that looks like a secret.
func TestCleanRandomMemory(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 34))
	random := make([]byte, 4<<20)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	printable := make([]byte, 2<<20)
	for i := range printable {
		printable[i] = byte(' ' + r.IntN(95))
	}
	base64Text := make([]byte, 2<<20)
	for i := range base64Text {
		base64Text[i] = (secretstest.Base64 + "\n=")[r.IntN(66)]
	}
	wide := secretstest.UTF16LE(string(printable[:1<<20]))
	for name, b := range map[string][]byte{"random": random, "printable": printable, "base64": base64Text, "utf-16": wide} {
		rep := scanText(t, b, secrets.Options{Show: true})
		if rep.Total != 0 || rep.Scanned != uint64(len(b)) {
			t.Errorf("%s: %d found in %d bytes scanned: %+v", name, rep.Total, rep.Scanned, rep.Findings)
		}
	}
}

func TestReportJSON(t *testing.T) {
	rep := scanText(t, []byte("x Password=Hunter-22; y"), secrets.Options{})
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Counts   map[string]int `json:"counts"`
		Findings []map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Counts["password"] != 1 || len(got.Findings) != 1 || got.Findings[0]["address"] != "0x7f000000100b" ||
		got.Findings[0]["value"] != nil || strings.Contains(string(b), "Hunter-22") {
		t.Errorf("JSON %s", b)
	}
	empty, _ := json.Marshal(scanText(t, []byte("nothing"), secrets.Options{}))
	if !strings.Contains(string(empty), `"findings":[]`) {
		t.Errorf("empty report JSON %s", empty)
	}
}

// TestPlantedAmongRandom plants every kind, in ASCII and in UTF-16LE,
// among random bytes read in small chunks (so that some plants straddle
// chunk edges): each is found once at its address, and nothing else is.
func TestPlantedAmongRandom(t *testing.T) {
	mem := secretstest.Random(1<<20, 99)
	var plants []secretstest.Planted
	off := 1000
	for _, enc := range []secrets.Encoding{secrets.ASCII, secrets.UTF16LE} {
		for _, c := range secretstest.Secrets() {
			p := secretstest.Plant(mem, testBase, off, c, enc)
			plants = append(plants, p)
			off += 7919 // prime: the plants fall at every phase of the chunks
		}
	}
	rep, err := secrets.Scan(context.Background(), byteReader{testBase, mem}, []secrets.Region{{Start: testBase, Size: uint64(len(mem))}},
		secrets.Options{ChunkSize: 16 << 10, Show: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]secrets.Finding{}
	for _, f := range rep.Findings {
		got[f.Addr] = f
	}
	for _, p := range plants {
		f, ok := got[p.Addr]
		if !ok || f.Kind != p.Kind || f.Len != p.Len || f.Encoding != p.Encoding || f.Value != p.Value {
			t.Errorf("%s (%s) at %#x: got %+v", p.Name, p.Encoding, p.Addr, f)
		}
	}
	if rep.Total != len(plants) || len(rep.Findings) != len(plants) {
		t.Errorf("%d found, %d planted", rep.Total, len(plants))
	}
}

// FuzzScan scans arbitrary memory, in small chunks so that matches meet
// chunk edges: it must not panic, and every finding must lie in the
// memory and hold its value there.
func FuzzScan(f *testing.F) {
	for _, c := range append(secretstest.Secrets(), secretstest.NearMisses()...) {
		f.Add([]byte(c.Text))
		f.Add(secretstest.UTF16LE(c.Text))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := secrets.Scan(context.Background(), byteReader{testBase, b}, []secrets.Region{{Start: testBase, Size: uint64(len(b))}},
			secrets.Options{ChunkSize: 64, Show: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Scanned != uint64(len(b)) || rep.Total != len(rep.Findings) {
			t.Fatalf("scanned %d of %d, total %d, listed %d", rep.Scanned, len(b), rep.Total, len(rep.Findings))
		}
		for _, f := range rep.Findings {
			off := f.Addr - testBase
			if f.Addr < testBase || off+uint64(f.Len) > uint64(len(b)) || f.Len == 0 {
				t.Fatalf("finding %+v outside the memory", f)
			}
			raw := b[off : off+uint64(f.Len)]
			want := string(raw)
			if f.Encoding == secrets.UTF16LE {
				var n []byte
				for i := 0; i < len(raw); i += 2 {
					n = append(n, raw[i])
				}
				want = string(n)
			}
			if f.Value != want || f.Preview != secrets.Redact(want) {
				t.Fatalf("finding %+v: memory holds %q", f, want)
			}
		}
	})
}
