package dwarftab

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const crashcRel = "generated/linux-core/crashc"

// crashcSections returns the DWARF sections of the corpus's crashc and
// its eager tables.
func crashcSections(t testing.TB, path string) (Sections, *Tables) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := Sections{Order: f.ByteOrder}
	for name, dst := range map[string]*Section{
		".debug_info": &s.Info, ".debug_abbrev": &s.Abbrev, ".debug_line": &s.Line,
		".debug_str": &s.Str, ".debug_line_str": &s.LineStr, ".debug_aranges": &s.Aranges,
	} {
		if sec := f.Section(name); sec != nil {
			b, err := sec.Data()
			if err != nil {
				t.Fatal(err)
			}
			*dst = Bytes(b)
		}
	}
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	eager := &Tables{}
	if err := eager.Read(d); err != nil {
		t.Fatal(err)
	}
	return s, eager
}

// TestLazyFollowsAUnitBehindFiller reads a unit placed after another
// one (crashc's single unit, twice: the second copy is read behind a
// filler unit) and checks it reads as the original.
func TestLazyFollowsAUnitBehindFiller(t *testing.T) {
	s, eager := crashcSections(t, fixture.Corpus(t, crashcRel))
	info := s.Info.(Bytes)
	twice := append(bytes.Clone(info), info...)
	s.Info = Bytes(twice)
	// .debug_aranges naming only the second copy, for crashc's code.
	lo, hi := eager.Funcs[0].Low, eager.Funcs[len(eager.Funcs)-1].High
	var ar []byte
	ar = binary.LittleEndian.AppendUint32(ar, 44) // length of what follows
	ar = binary.LittleEndian.AppendUint16(ar, 2)
	ar = binary.LittleEndian.AppendUint32(ar, uint32(len(info)))
	ar = append(ar, 8, 0, 0, 0, 0, 0) // address size, segment size, padding to 16
	ar = binary.LittleEndian.AppendUint64(ar, lo)
	ar = binary.LittleEndian.AppendUint64(ar, hi-lo)
	ar = append(ar, make([]byte, 16)...)
	s.Aranges = Bytes(ar)

	l := NewLazy(s, 0, nil)
	for _, f := range eager.Funcs {
		got, ok := l.Lookup(f.Low)
		want, _ := eager.Lookup(f.Low)
		want.Addr, got.Addr = 0, 0
		if !ok || got.Name != want.Name || got.File != want.File || got.Line != want.Line || !reflect.DeepEqual(got.Inlined, want.Inlined) {
			t.Errorf("Lookup(%#x) = %+v, %v; want %+v", f.Low, got, ok, want)
		}
	}
	if u := l.units[dwarf.Offset(len(info))]; u == nil || u.tab == nil {
		t.Error("the second copy was not read through .debug_aranges")
	}
	if l.complete {
		t.Error("lookups in listed ranges indexed every unit")
	}
}

func TestFillerHeaders(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, vers := range []int{2, 4, 5} {
			for _, gap := range []int{11, 12, 13, 4096} {
				h := unitHeader{version: vers, abbrevOff: 0x1234, asize: 8}
				b := make([]byte, gap+1)
				ok := writeFiller(b[:gap], h, order)
				if vers == 5 && gap < 12 {
					if ok {
						t.Errorf("v%d gap %d: filled", vers, gap)
					}
					continue
				}
				if !ok {
					t.Fatalf("v%d gap %d: not filled", vers, gap)
				}
				got, err := parseUnitHeader(b, 0, order)
				if err != nil || got.end != dwarf.Offset(gap) || got.version != vers || got.abbrevOff != 0x1234 || got.asize != 8 {
					t.Errorf("v%d gap %d: %+v, %v", vers, gap, got, err)
				}
			}
		}
	}
}

// TestLazyCorruptSections: errors or fewer results, never a panic.
func TestLazyCorruptSections(t *testing.T) {
	s, eager := crashcSections(t, fixture.Corpus(t, crashcRel))
	info, abbrev, ar := s.Info.(Bytes), s.Abbrev.(Bytes), s.Aranges.(Bytes)
	for i := 0; i < len(info)+len(abbrev)+len(ar); i += 3 {
		c := s
		switch {
		case i < len(info):
			b := bytes.Clone(info)
			b[i] ^= 0xff
			c.Info = Bytes(b)
		case i < len(info)+len(abbrev):
			b := bytes.Clone(abbrev)
			b[i-len(info)] ^= 0xff
			c.Abbrev = Bytes(b)
		default:
			b := bytes.Clone(ar)
			b[i-len(info)-len(abbrev)] ^= 0xff
			c.Aranges = Bytes(b)
		}
		exerciseLazy(NewLazy(c, 0, nil), eager)
	}
	for _, n := range []int{0, 1, 11, len(info) / 2} {
		c := s
		c.Info = info[:n]
		exerciseLazy(NewLazy(c, 0, nil), eager)
	}
}

func exerciseLazy(l *Lazy, eager *Tables) {
	for _, f := range eager.Funcs {
		l.Lookup(f.Low)
		l.LineAt(f.High)
	}
	l.Lookup(1 << 40)
	l.HasCode()
	l.Funcs()
	l.Lookup(eager.Funcs[0].Low)
}

func FuzzLazy(f *testing.F) {
	corpus := os.Getenv("CRASHBENCH_CORPUS")
	if corpus == "" {
		corpus = filepath.Join(fixture.Root(f), "..", "shared", "corpus")
	}
	path := filepath.Join(corpus, filepath.FromSlash(crashcRel))
	if _, err := os.Stat(path); err != nil {
		f.Skip(err)
	}
	s, eager := crashcSections(f, path)
	f.Add([]byte(s.Info.(Bytes)), []byte(s.Aranges.(Bytes)))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, info, ar []byte) {
		c := s
		c.Info, c.Aranges = Bytes(info), Bytes(ar)
		exerciseLazy(NewLazy(c, 0, nil), eager)
	})
}

// TestStalledReaderEnds: a unit whose last bytes all carry the LEB128
// continuation bit makes debug/dwarf's Reader return null entries without
// advancing; Read, NewTypes' index and Lazy end anyway.
func TestStalledReaderEnds(t *testing.T) {
	// .debug_abbrev (DWARF 4 section 7.5.3): code 1, DW_TAG_compile_unit,
	// with children, one attribute DW_AT_name as DW_FORM_string.
	abbrev := []byte{1, 0x11, 1, 0x03, 0x08, 0, 0, 0}
	// .debug_info: a DWARF 4 unit header (length, version, abbrev offset,
	// address size), the top entry named "a", then unterminated LEB128s.
	body := []byte{4, 0, 0, 0, 0, 0, 8, 1, 'a', 0, 0xaa, 0xaa, 0xaa, 0xaa}
	info := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
	info = append(info, body...)
	d, err := dwarf.New(abbrev, nil, nil, info, nil, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		var tab Tables
		err := tab.Read(d)
		NewTypes(d).index()
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Read: no error for a unit that stops mid-entry")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Read or the type index did not return on a stalled reader")
	}
}
