package secrets_test

import (
	"context"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/secrets"
	"github.com/crashbench/crashbench/core/secrets/secretstest"
)

// scanText scans text placed at base.
func scanText(t *testing.T, text []byte, o secrets.Options) *secrets.Report {
	t.Helper()
	rep, err := secrets.Scan(context.Background(), byteReader{base: testBase, b: text}, []secrets.Region{{Start: testBase, Size: uint64(len(text)), Label: "test"}}, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

const testBase = 0x7f00_0000_1000

// byteReader serves b at base.
type byteReader struct {
	base uint64
	b    []byte
}

func (r byteReader) ReadMemory(p []byte, addr uint64) (int, error) {
	if addr < r.base || addr-r.base >= uint64(len(r.b)) {
		return 0, errFault
	}
	n := copy(p, r.b[addr-r.base:])
	if n < len(p) {
		return n, errFault
	}
	return n, nil
}

var errFault = &faultErr{}

type faultErr struct{}

func (*faultErr) Error() string { return "fault" }

func TestDetectPositive(t *testing.T) {
	for _, tc := range secretstest.Secrets() {
		t.Run(tc.Name, func(t *testing.T) {
			at := strings.Index(tc.Text, tc.Value)
			if at < 0 {
				t.Fatalf("bad case: value not in text")
			}
			for _, enc := range []secrets.Encoding{secrets.ASCII, secrets.UTF16LE} {
				text, addr, n := []byte(tc.Text), testBase+uint64(at), len(tc.Value)
				if enc == secrets.UTF16LE {
					text, addr, n = secretstest.UTF16LE(tc.Text), testBase+2*uint64(at), 2*len(tc.Value)
				}
				rep := scanText(t, text, secrets.Options{Show: true})
				if len(rep.Findings) != 1 || rep.Total != 1 {
					t.Fatalf("%s: %d findings, want 1: %+v", enc, len(rep.Findings), rep.Findings)
				}
				f := rep.Findings[0]
				if f.Kind != tc.Kind || f.Addr != addr || f.Len != n || f.Value != tc.Value || f.Encoding != enc || f.Region != "test" {
					t.Errorf("%s: got %s at %#x+%d (%s, region %q) value %q;\nwant %s at %#x+%d value %q",
						enc, f.Kind, f.Addr, f.Len, f.Encoding, f.Region, f.Value, tc.Kind, addr, n, tc.Value)
				}
				if rep.Counts[tc.Kind] != 1 {
					t.Errorf("%s: counts %v", enc, rep.Counts)
				}
			}
		})
	}
}

func TestDetectNearMisses(t *testing.T) {
	for _, tc := range secretstest.NearMisses() {
		t.Run(tc.Name, func(t *testing.T) {
			for _, text := range [][]byte{[]byte(tc.Text), secretstest.UTF16LE(tc.Text)} {
				if rep := scanText(t, text, secrets.Options{Show: true}); len(rep.Findings) != 0 {
					t.Errorf("found %+v in %q", rep.Findings, tc.Text)
				}
			}
		})
	}
}

// TestOverlapMostSpecificWins checks that one secret seen by several
// detectors is reported once, as the most specific kind.
func TestOverlapMostSpecificWins(t *testing.T) {
	jwt := secretstest.JWT(`{"alg":"RS256"}`, `{"iss":"me"}`)
	opaque := secretstest.Token(secretstest.Alnum, 30, 30)
	ghp := "gh" + "p_" + secretstest.Token(secretstest.Alnum, 36, 31)
	for _, tc := range []struct {
		Text  string
		Kind  secrets.Kind
		Value string
	}{
		{"Authorization: Bearer " + jwt + "\r\n", secrets.JWT, jwt},
		{"Authorization: Bearer " + opaque + "\r\n", secrets.Authorization, opaque},
		{"Authorization: token " + ghp + "\r\n", secrets.GitHubToken, ghp},
		{"https://x:" + ghp + "@github.com/a/b", secrets.GitHubToken, ghp},
	} {
		rep := scanText(t, []byte(tc.Text), secrets.Options{Show: true})
		if len(rep.Findings) != 1 || rep.Findings[0].Kind != tc.Kind || rep.Findings[0].Value != tc.Value {
			t.Errorf("%q: got %+v, want one %s", tc.Text, rep.Findings, tc.Kind)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, v := range []string{"abc", "hunter22", "S3cr3t-Pa55", secretstest.Token(secretstest.Alnum, 40, 40)} {
		p := secrets.Redact(v)
		if strings.Contains(p, v) || !strings.Contains(p, "(") {
			t.Errorf("Redact(%q) = %q gives it away", v, p)
		}
		if k := min(4, len(v)/4); !strings.HasPrefix(p, v[:k]+"…") {
			t.Errorf("Redact(%q) = %q, want the first %d characters", v, p, k)
		}
	}
}

// BenchmarkScan measures the scan over memory that is random bytes (most
// of a dump, where the anchors must reject nearly every position at
// once) and over text (where they match often).
func BenchmarkScan(b *testing.B) {
	text := []byte(strings.Repeat("user=admin host=db.example.com path=/var/lib/app Authorization: none; ", 1<<20/64))
	for _, c := range []struct {
		name string
		mem  []byte
	}{
		{"random-32MiB", secretstest.Random(32<<20, 9)},
		{"text-1MiB", text},
		{"utf16-1MiB", secretstest.UTF16LE(string(text[:512<<10]))},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := byteReader{base: testBase, b: c.mem}
			regions := []secrets.Region{{Start: testBase, Size: uint64(len(c.mem))}}
			b.SetBytes(int64(len(c.mem)))
			for b.Loop() {
				if _, err := secrets.Scan(context.Background(), r, regions, secrets.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
