package secrets

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Reader reads memory at 64-bit addresses, with mem.Reader's contract: a
// short count comes with an error at the first byte not read. mem.Space
// satisfies it.
type Reader interface {
	ReadMemory(p []byte, addr uint64) (n int, err error)
}

// Region is a range of memory to scan, with what it is.
type Region struct {
	Start, Size uint64
	Label       string // e.g. "stack", a mapped file; optional
}

// Kind is what a finding is.
type Kind string

// The kinds of secrets, most specific first (see Kinds).
const (
	PrivateKey    Kind = "private-key"    // PEM private key block
	AWSSecretKey  Kind = "aws-secret-key" // 40-character secret next to aws_secret_access_key
	AWSAccessKey  Kind = "aws-access-key" // AKIA/ASIA access key id
	GoogleAPIKey  Kind = "google-api-key" // AIza...
	GitHubToken   Kind = "github-token"   // ghp_, gho_, ghu_, ghs_, ghr_, github_pat_
	SlackToken    Kind = "slack-token"    // xoxb-, xoxa-, xoxp-, xoxr-, xoxs-
	AzureKey      Kind = "azure-key"      // AccountKey= / SharedAccessKey= in a connection string
	JWT           Kind = "jwt"            // JSON Web Token
	URLPassword   Kind = "url-password"   // scheme://user:PASSWORD@host
	Password      Kind = "password"       // Password=, pwd= in connection strings and key=value text
	Authorization Kind = "authorization"  // HTTP Authorization header credentials
	BearerToken   Kind = "bearer-token"   // "Bearer TOKEN" outside a header
)

// Kinds returns every kind in priority order: where findings overlap, the
// earlier kind is kept.
func Kinds() []Kind {
	return []Kind{PrivateKey, AWSSecretKey, AWSAccessKey, GoogleAPIKey, GitHubToken, SlackToken, AzureKey,
		JWT, URLPassword, Password, Authorization, BearerToken}
}

// Encoding is how a finding's text is stored in memory.
type Encoding string

// Encodings.
const (
	ASCII   Encoding = "ascii"
	UTF16LE Encoding = "utf-16le"
)

// Finding is one secret found in memory.
type Finding struct {
	Kind     Kind
	Addr     uint64   // address of the secret's first byte
	Len      int      // bytes it occupies in memory (twice its characters in UTF-16)
	Encoding Encoding // ASCII or UTF16LE
	Region   string   // label of the region it lies in, if known
	Module   string   // module whose image holds it, if known (filled in by the caller)
	Context  string   // what surrounds it, not secret: "RSA PRIVATE KEY", "postgres://admin@db", "Basic"
	Preview  string   // redacted: a few leading characters and the length
	Value    string   // the secret itself, only when Options.Show
}

// MarshalJSON writes the address in hex, as the other JSON reports do,
// and omits what is empty.
func (f Finding) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Kind     Kind     `json:"kind"`
		Address  string   `json:"address"`
		Length   int      `json:"length"`
		Encoding Encoding `json:"encoding"`
		Region   string   `json:"region,omitempty"`
		Module   string   `json:"module,omitempty"`
		Context  string   `json:"context,omitempty"`
		Preview  string   `json:"preview"`
		Value    string   `json:"value,omitempty"`
	}{f.Kind, fmt.Sprintf("%#x", f.Addr), f.Len, f.Encoding, f.Region, f.Module, f.Context, f.Preview, f.Value})
}

// Report is the result of a scan.
type Report struct {
	Space      string       `json:"space,omitempty"` // what was scanned, e.g. "process memory"; set by the caller
	Physical   bool         `json:"physical,omitempty"`
	Regions    int          `json:"regions"`          // regions given to scan
	Scanned    uint64       `json:"scanned_bytes"`    // bytes read and searched
	Unreadable uint64       `json:"unreadable_bytes"` // bytes of the regions that could not be read
	Complete   bool         `json:"complete"`         // false when the scan was cancelled
	Shown      bool         `json:"values_shown"`     // Findings carry their values
	Total      int          `json:"total"`            // secrets found, including those not listed
	Counts     map[Kind]int `json:"counts"`           // secrets found per kind
	Omitted    int          `json:"omitted,omitempty"`
	Findings   []Finding    `json:"findings"` // at most Options.MaxPerKind per kind, by address
	Notes      []string     `json:"notes,omitempty"`
}

// Options tune a scan.
type Options struct {
	// Show puts each secret's value in its finding; otherwise only a
	// redacted preview is kept.
	Show bool
	// MaxPerKind bounds the findings listed per kind (default 200); the
	// counts include the ones beyond it.
	MaxPerKind int
	// ChunkSize is how much is read and searched at a time (default 1 MiB).
	ChunkSize int
	// Progress, when set, hears of the bytes done out of the total.
	Progress func(done, total int64)
}

const (
	defaultChunk      = 1 << 20
	defaultMaxPerKind = 200
	// maxMatch bounds a match's length in memory, and so is the overlap
	// between chunks: a secret up to this long starting anywhere in a
	// chunk is seen whole. PEM keys are the longest (an 8192-bit RSA key
	// is about 6.5 KB).
	maxMatch = 16 << 10
	pageSize = 4096
	// maxFaults is how many pages in a row may fail to read before the
	// rest of a region is given up, so that a region of corrupt size
	// costs a bounded number of reads.
	maxFaults = 256
)

// Scan searches the regions of m for secrets. Regions may come in any
// order; overlapping parts are scanned once, and contiguous regions are
// read as one so that a secret crossing their boundary is found. When ctx
// is cancelled Scan returns the findings so far with Complete false and
// the context's error.
func Scan(ctx context.Context, m Reader, regions []Region, o Options) (*Report, error) {
	if o.ChunkSize <= 0 {
		o.ChunkSize = defaultChunk
	}
	if o.MaxPerKind <= 0 {
		o.MaxPerKind = defaultMaxPerKind
	}
	s := &scanner{o: o, m: m, rep: &Report{Counts: map[Kind]int{}, Shown: o.Show, Regions: len(regions)}}
	s.regions = normalize(regions)
	spans := spansOf(s.regions)
	var total int64
	for _, sp := range spans {
		total = satAdd(total, sp.size())
	}
	s.total = total
	s.buf = make([]byte, 0, o.ChunkSize+maxMatch)
	for _, sp := range spans {
		if err := s.scanSpan(ctx, sp); err != nil {
			s.finish()
			return s.rep, err
		}
	}
	s.rep.Complete = true
	s.finish()
	return s.rep, nil
}

// span is a run of contiguous regions, [start, last].
type span struct{ start, last uint64 }

func (sp span) size() int64 {
	n := sp.last - sp.start
	if n >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n + 1)
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// normalize sorts the regions, drops empty ones, clips those running past
// 2^64 and cuts overlaps, so that each byte is scanned once.
func normalize(in []Region) []Region {
	rs := make([]Region, 0, len(in))
	for _, r := range in {
		if r.Size == 0 {
			continue
		}
		if r.Size-1 > math.MaxUint64-r.Start {
			r.Size = math.MaxUint64 - r.Start + 1
		}
		rs = append(rs, r)
	}
	slices.SortStableFunc(rs, func(a, b Region) int { return cmp.Compare(a.Start, b.Start) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 {
			prevLast := out[n-1].Start + out[n-1].Size - 1
			if r.Start <= prevLast {
				last := r.Start + r.Size - 1
				if last <= prevLast {
					continue
				}
				r.Size = last - prevLast
				r.Start = prevLast + 1
			}
		}
		out = append(out, r)
	}
	return out
}

// spansOf merges contiguous regions.
func spansOf(rs []Region) []span {
	var out []span
	for _, r := range rs {
		last := r.Start + r.Size - 1
		if n := len(out); n > 0 && out[n-1].last != math.MaxUint64 && out[n-1].last+1 == r.Start {
			out[n-1].last = last
			continue
		}
		out = append(out, span{r.Start, last})
	}
	return out
}

type scanner struct {
	o       Options
	m       Reader
	rep     *Report
	regions []Region
	buf     []byte
	work    detectBuffers
	kept    map[Kind]int
	done    int64
	total   int64

	gaveUp      int // regions given up after maxFaults
	firstGaveUp uint64
	gaveUpErr   error
}

// scanSpan reads a span chunk by chunk. Each read takes a chunk plus
// maxMatch bytes of overlap; matches are kept only if they start within
// the chunk proper, so those starting in the overlap are found (whole)
// by the next chunk instead, and none is reported twice.
func (s *scanner) scanSpan(ctx context.Context, sp span) error {
	chunk := uint64(s.o.ChunkSize)
	addr := sp.start
	faults := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		left := sp.last - addr // bytes left minus one, so that 2^64 fits
		want, last := chunk+maxMatch, false
		if left < want {
			want, last = left+1, true
		}
		buf := s.buf[:want]
		n, err := s.m.ReadMemory(buf, addr)
		n = min(max(n, 0), len(buf))
		full := n == len(buf)
		if !full && err == nil {
			err = errors.New("short read") // a reader breaking the contract
		}
		own := n // bytes of this read that belong to this chunk
		if n > int(chunk) && !(full && last) {
			own = int(chunk) // the rest is overlap: the next chunk starts there
		}
		if own > 0 {
			faults = 0
			s.scanBuf(addr, buf[:n], own)
			s.rep.Scanned += uint64(own)
			s.progress(int64(own))
		}
		switch {
		case full && last:
			return nil
		case own == int(chunk):
			addr += chunk
			continue
		}
		// A fault at addr+n: go on at the next page, and after a run of
		// faults at the next region (the rest of this one is likely
		// missing: a truncated dump, a corrupt size).
		at := addr + uint64(n)
		faults++
		next := (at &^ (pageSize - 1)) + pageSize
		if faults > maxFaults {
			if s.gaveUp == 0 {
				s.firstGaveUp, s.gaveUpErr = at, err
			}
			s.gaveUp++
			faults = 0
			next = s.nextRegion(at)
		}
		if next <= at || next > sp.last {
			rest := sp.last - at + 1 // 0 only for a whole 2^64 space, never scanned
			s.rep.Unreadable += rest
			s.progress(int64(min(rest, math.MaxInt64)))
			return nil
		}
		s.rep.Unreadable += next - at
		s.progress(int64(next - at))
		addr = next
	}
}

// nextRegion returns the start of the first region after addr, or 0.
func (s *scanner) nextRegion(addr uint64) uint64 {
	i, _ := slices.BinarySearchFunc(s.regions, addr+1, func(r Region, a uint64) int { return cmp.Compare(r.Start, a) })
	if addr == math.MaxUint64 || i >= len(s.regions) {
		return 0
	}
	return s.regions[i].Start
}

func (s *scanner) progress(n int64) {
	s.done = satAdd(s.done, n)
	if s.o.Progress != nil {
		s.o.Progress(min(s.done, s.total), s.total)
	}
}

// scanBuf runs the detectors over buf (at base) and records the matches
// that start before own.
func (s *scanner) scanBuf(base uint64, buf []byte, own int) {
	ms := s.work.detect(buf)
	for _, m := range ms {
		if m.start >= own {
			continue
		}
		s.record(base, buf, m)
	}
}

func (s *scanner) record(base uint64, buf []byte, m match) {
	s.rep.Counts[m.kind]++
	s.rep.Total++
	if s.kept == nil {
		s.kept = map[Kind]int{}
	}
	if s.kept[m.kind] >= s.o.MaxPerKind {
		s.rep.Omitted++
		return
	}
	s.kept[m.kind]++
	f := Finding{Kind: m.kind, Addr: base + uint64(m.start), Len: m.end - m.start, Encoding: ASCII, Context: m.context}
	value := string(buf[m.start:m.end])
	if m.utf16 {
		f.Encoding = UTF16LE
		value = narrowString(buf[m.start:m.end])
	}
	f.Region = s.regionLabel(f.Addr)
	f.Preview = Redact(value)
	if s.o.Show {
		f.Value = value
	}
	s.rep.Findings = append(s.rep.Findings, f)
}

func (s *scanner) regionLabel(addr uint64) string {
	i, found := slices.BinarySearchFunc(s.regions, addr, func(r Region, a uint64) int { return cmp.Compare(r.Start, a) })
	if !found {
		i--
	}
	if i >= 0 && addr-s.regions[i].Start < s.regions[i].Size {
		return s.regions[i].Label
	}
	return ""
}

func (s *scanner) finish() {
	if s.gaveUp > 0 {
		s.rep.Notes = append(s.rep.Notes, fmt.Sprintf("%d region(s) could not be read to the end and the rest was skipped, the first from %#x: %v",
			s.gaveUp, s.firstGaveUp, s.gaveUpErr))
	}
	slices.SortStableFunc(s.rep.Findings, func(a, b Finding) int { return cmp.Compare(a.Addr, b.Addr) })
	if s.rep.Findings == nil {
		s.rep.Findings = []Finding{} // "findings": [] rather than null
	}
}

// Redact returns a preview of a secret that does not give it away: up to
// four leading characters (fewer for a short secret, at most a quarter
// of it) and its length, e.g. "AKIA…(20 chars)".
func Redact(v string) string {
	n := utf8.RuneCountInString(v)
	k := min(4, n/4)
	prefix := []rune(v)[:k]
	return string(prefix) + "…(" + strconv.Itoa(n) + " chars)"
}

// narrowString decodes UTF-16LE text that detect found to be ASCII.
func narrowString(b []byte) string {
	out := make([]byte, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		out = append(out, b[i])
	}
	return string(out)
}
