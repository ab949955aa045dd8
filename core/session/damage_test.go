//go:build unix

package session

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/dump"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// Issue 12, "Corrupt input": every corpus dump is damaged in many ways
// (truncated, bytes flipped in its header and tables, pages zeroed) and
// each damaged copy must open with diagnostics or fail with a clear error:
// never panic, hang over 10 s or use over 1 GiB of RSS.
//
// A panic, a hang or a runaway allocation would take the test binary down
// with it, so the damaged copies are opened in child processes (this test
// binary re-run as TestDamageHelper), which the parent watches, times and
// measures. By default a deterministic sample runs (one truncation, one
// flip and one zeroing per dump); CRASHBENCH_DAMAGE=full runs every damage
// of every dump.

const (
	damageFilesEnv = "CRASHBENCH_DAMAGE_FILES" // the helper's list of damaged files
	damageModeEnv  = "CRASHBENCH_DAMAGE"       // "full": every damage of every dump

	damageTimeLimit = 10 * time.Second // issue 12: no damaged dump may take longer
	damageRSSLimit  = 1 << 30          // issue 12: nor use more RSS
	// damageWatchdog kills a child that reports nothing for this long: a
	// hang. It is longer than damageTimeLimit so that a slow but finished
	// variant is reported with its time rather than as a hang.
	damageWatchdog = 30 * time.Second
)

// damageCommands are the console commands run on each damaged dump that
// opens, after Report and Analyze.
var damageCommands = []string{"lm", "k", "!address", "bt -a"}

// damageResult is what the helper reports for one damaged file.
type damageResult struct {
	I       int    `json:"i"`
	Opened  bool   `json:"opened"`
	Diags   int    `json:"diags"`         // diagnostics after every command ran
	Err     string `json:"err,omitempty"` // Open's error
	Bad     string `json:"bad,omitempty"` // a breach seen in the helper: an empty error message
	Millis  int64  `json:"ms"`
	PeakRSS int64  `json:"rss"` // the helper's VmHWM after this file, bytes; 0 when unknown
	GoSys   uint64 `json:"sys"` // memory the Go runtime holds from the OS after this file

	// Set by the parent: this file took the helper over the limit. Both
	// measures are peaks, so the files after it are not to blame.
	overRSS, overSys bool
}

// TestDamageHelper is the child of TestDamagedCorpus: it opens each file
// named in $CRASHBENCH_DAMAGE_FILES and runs every command on it, writing
// a line before and after each so that the parent knows which file a crash
// or a hang belongs to.
func TestDamageHelper(t *testing.T) {
	list := os.Getenv(damageFilesEnv)
	if list == "" {
		t.Skip("helper process of TestDamagedCorpus; runs only when it sets " + damageFilesEnv)
	}
	b, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	// Module files are looked for under an empty sysroot: damaged paths
	// must not reach this machine's files, and results must not depend on
	// what this machine has installed.
	sysroot := filepath.Join(filepath.Dir(list), "empty-sysroot")
	w := bufio.NewWriter(os.Stdout)
	for i, path := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		fmt.Fprintf(w, "DAMAGE start %d\n", i)
		w.Flush()
		start := time.Now()
		r := openDamaged(path, sysroot)
		r.I, r.Millis = i, time.Since(start).Milliseconds()
		r.PeakRSS = peakRSS()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		r.GoSys = ms.Sys
		j, _ := json.Marshal(r)
		fmt.Fprintf(w, "DAMAGE done %s\n", j)
		w.Flush()
	}
}

// openDamaged opens path and runs Report, Analyze and damageCommands on
// it. Errors after Open are expected on damaged dumps; only empty error
// messages are a breach.
func openDamaged(path, sysroot string) damageResult {
	ctx, cancel := context.WithTimeout(context.Background(), damageTimeLimit)
	defer cancel()
	var r damageResult
	s, err := Open(ctx, path, Options{Offline: true, Sysroot: sysroot})
	if err != nil {
		r.Err = err.Error()
		if strings.TrimSpace(r.Err) == "" {
			r.Bad = "Open failed with an empty error message"
		}
		return r
	}
	defer s.Close()
	r.Opened = true
	check := func(what string, err error) {
		if err != nil && strings.TrimSpace(err.Error()) == "" && r.Bad == "" {
			r.Bad = what + " failed with an empty error message"
		}
	}
	_, err = s.Report(ReportOptions{Memory: true, Log: true})
	if errors.Is(err, ErrNoLog) {
		_, err = s.Report(ReportOptions{Memory: true})
	}
	check("Report", err)
	_, err = s.Analyze(ctx)
	check("Analyze", err)
	for _, c := range damageCommands {
		check(c, s.Exec(ctx, c, console.NewTextOutput(io.Discard)))
	}
	r.Diags = len(s.Diagnostics())
	return r
}

// peakRSS returns this process's peak resident set (VmHWM) in bytes, or 0
// where /proc does not tell.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// A damageUnit is one undamaged dump: a corpus file, or the payload
// unpacked from a compressed one (what the parsers see).
type damageUnit struct {
	name string // corpus-relative path, + "!unpacked" for a payload
	src  string // where its bytes are
	base string // file name for the damaged copies
}

// A damage is one way of damaging a unit.
type damage struct {
	kind  string // "trunc", "flip" or "zero": the sample takes one of each
	name  string // what was done, precise enough to redo it by hand
	apply func(b []byte) []byte
}

type damageVariant struct {
	unit *damageUnit
	d    damage
}

func (v *damageVariant) String() string { return v.unit.name + ": " + v.d.name }

func TestDamagedCorpus(t *testing.T) {
	root := fixture.CorpusDir(t)
	if testing.Short() {
		t.Skip("damages every corpus dump in child processes; skipped with -short")
	}
	full := os.Getenv(damageModeEnv) == "full"
	tmp := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	units := damageUnits(t, root, filepath.Join(tmp, "unpacked"))
	if len(units) == 0 {
		t.Skipf("no dumps found in the corpus at %s", root)
	}

	var variants []*damageVariant
	for i, u := range units {
		b, err := os.ReadFile(u.src)
		if err != nil {
			t.Fatal(err)
		}
		all := damages(b)
		if full {
			for _, d := range all {
				variants = append(variants, &damageVariant{u, d})
			}
			continue
		}
		for _, d := range sampleDamages(all, i) {
			variants = append(variants, &damageVariant{u, d})
		}
	}

	// Batches of variants share a child: starting one costs more than
	// opening most damaged dumps.
	batch := 40
	if full {
		batch = 100
	}
	var (
		opened, withDiags, failed int
		silent                    []string // truncated copies that opened without a diagnostic
	)
	for start := 0; start < len(variants); start += batch {
		vs := variants[start:min(start+batch, len(variants))]
		for i, r := range runDamageBatch(t, filepath.Join(tmp, fmt.Sprintf("batch%d", start/batch)), vs) {
			v := vs[i]
			switch {
			case r == nil:
				continue // reported by runDamageBatch
			case r.Bad != "":
				t.Errorf("%v: %s", v, r.Bad)
			case time.Duration(r.Millis)*time.Millisecond > damageTimeLimit:
				t.Errorf("%v: took %d ms, over the %v limit", v, r.Millis, damageTimeLimit)
			case r.overRSS:
				t.Errorf("%v: peak RSS reached %d MiB, over the %d MiB limit", v, r.PeakRSS>>20, damageRSSLimit>>20)
			case r.overSys:
				// Untouched memory is not resident, so a huge
				// allocation the parser never fills escapes the RSS
				// check; the Go runtime still had to map it.
				t.Errorf("%v: the Go runtime mapped %d MiB, over the %d MiB limit", v, r.GoSys>>20, damageRSSLimit>>20)
			case !r.Opened && !strings.Contains(r.Err, v.unit.base):
				t.Errorf("%v: the error does not name the file: %q", v, r.Err)
			}
			if r.Opened && r.Diags == 0 && v.d.kind == "trunc" {
				silent = append(silent, v.String())
			}
			switch {
			case r.Opened && r.Diags > 0:
				opened++
				withDiags++
			case r.Opened:
				opened++
			default:
				failed++
			}
		}
	}
	mode := "sample (set " + damageModeEnv + "=full for every damage)"
	if full {
		mode = "full"
	}
	t.Logf("%s: %d damaged copies of %d dumps: %d opened (%d with diagnostics), %d failed with an error",
		mode, len(variants), len(units), opened, withDiags, failed)
	// Not an error yet: some formats only notice missing data when it is
	// read (issue 12 item 3 wants the truncation said up front), and a cut
	// may only remove padding or what no parser reads.
	if len(silent) > 0 {
		t.Logf("%d truncated copies opened without any diagnostic:\n  %s", len(silent), strings.Join(silent, "\n  "))
	}
}

// damageUnits finds the corpus dumps: every file Open does not reject as
// "not a recognized dump" (READMEs, oracles, symbol files and executables
// are), plus the payload of each compressed dump, copied to unpacked.
func damageUnits(t *testing.T, root, unpacked string) []*damageUnit {
	t.Helper()
	if err := os.MkdirAll(unpacked, 0o755); err != nil {
		t.Fatal(err)
	}
	var units []*damageUnit
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		ctx, cancel := context.WithTimeout(context.Background(), damageTimeLimit)
		defer cancel()
		s, err := Open(ctx, path, Options{Offline: true})
		if errors.Is(err, dump.ErrUnrecognized) {
			return nil
		}
		// A dump that fails undamaged (a malformed one kept on purpose)
		// is damaged all the same.
		units = append(units, &damageUnit{name: rel, src: path, base: filepath.Base(path)})
		if err != nil || s.d.Unpacked == "" {
			if s != nil {
				s.Close()
			}
			return nil
		}
		defer s.Close()
		base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		dst := filepath.Join(unpacked, fmt.Sprintf("%d-%s", len(units), base))
		b, err := os.ReadFile(s.d.Unpacked)
		if err == nil {
			err = os.WriteFile(dst, b, 0o644)
		}
		if err != nil {
			return err
		}
		units = append(units, &damageUnit{name: rel + "!unpacked", src: dst, base: base})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return units
}

// sampleDamages picks one damage of each kind for the i-th unit, rotating
// through each kind's variants from one unit to the next so that the
// sample covers them all across the corpus.
func sampleDamages(all []damage, i int) []damage {
	byKind := map[string][]damage{}
	var kinds []string
	for _, d := range all {
		if byKind[d.kind] == nil {
			kinds = append(kinds, d.kind)
		}
		byKind[d.kind] = append(byKind[d.kind], d)
	}
	var out []damage
	for k, kind := range kinds {
		ds := byKind[kind]
		out = append(out, ds[(i*7919+k)%len(ds)]) // 7919: prime, so i covers every index
	}
	return out
}

// damages lists the ways b is damaged: truncation at 10 points, flipped
// bytes in the first 4 KiB, corrupted header and table fields (counts,
// offsets and sizes: see damageFields), and zeroed pages.
func damages(b []byte) []damage {
	n := len(b)
	var ds []damage

	seen := map[int]bool{}
	for _, at := range []int{16, 100, 1000, n / 8, n / 4, n / 2, 3 * n / 4, n - 4096, n - 512, n - 1} {
		if at <= 0 || at >= n || seen[at] {
			continue
		}
		seen[at] = true
		ds = append(ds, damage{"trunc", fmt.Sprintf("truncated at %#x of %#x", at, n),
			func(b []byte) []byte { return b[:at] }})
	}

	head := min(n, 4096)
	for seed := range 4 * min(head, 1) {
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(n)))
		offs := make([]int, 8)
		for j := range offs {
			offs[j] = rng.IntN(head)
		}
		ds = append(ds, damage{"flip", fmt.Sprintf("bytes inverted at %#x", offs), func(b []byte) []byte {
			c := bytes.Clone(b)
			for _, o := range offs {
				c[o] ^= 0xff
			}
			return c
		}})
	}

	fields := damageFields(b)
	const maxFields = 16 // spread over the list when there are more
	if len(fields) > maxFields {
		picked := make([]damageField, maxFields)
		for j := range picked {
			picked[j] = fields[j*len(fields)/maxFields]
		}
		fields = picked
	}
	for _, f := range fields {
		ds = append(ds,
			damage{"flip", fmt.Sprintf("%s (%d bytes at %#x) set to all ones", f.what, f.width, f.off), func(b []byte) []byte {
				c := bytes.Clone(b)
				for j := range f.width {
					c[f.off+j] = 0xff
				}
				return c
			}},
			// Huge but not the all-ones value a parser may special-case.
			damage{"flip", fmt.Sprintf("%s (%d bytes at %#x) top bit flipped", f.what, f.width, f.off), func(b []byte) []byte {
				c := bytes.Clone(b)
				c[f.byteAt(f.width-1)] ^= 0x80
				return c
			}},
			// Plausible: a few MiB off, so still within a count × size a
			// careless parser might allocate.
			damage{"flip", fmt.Sprintf("%s (%d bytes at %#x) bit 22 flipped", f.what, f.width, f.off), func(b []byte) []byte {
				c := bytes.Clone(b)
				if f.width >= 4 {
					c[f.byteAt(2)] ^= 0x40
				} else {
					c[f.byteAt(0)] ^= 0x40
				}
				return c
			}})
	}

	// Page-aligned 4 KiB pages; the last may be short.
	zero := func(name string, pages ...int) {
		ds = append(ds, damage{"zero", name, func(b []byte) []byte {
			c := bytes.Clone(b)
			for _, p := range pages {
				clear(c[min(p, n):min(p+4096, n)])
			}
			return c
		}})
	}
	page := func(at int) int { return at &^ 4095 }
	zero(fmt.Sprintf("pages at %#x, %#x and %#x zeroed", page(n/3), page(n/2), page(2*n/3)), page(n/3), page(n/2), page(2*n/3))
	if n > 4096 {
		zero("page at 0x1000 zeroed", 4096)
	}
	ds = append(ds, damage{"zero", "first page zeroed but for its first 64 bytes", func(b []byte) []byte {
		c := bytes.Clone(b)
		clear(c[min(64, n):min(4096, n)])
		return c
	}})
	return ds
}

// A damageField is a header or table field: a count, an offset or a size.
type damageField struct {
	off, width int
	be         bool // big-endian
	what       string
}

// byteAt is the offset of the field's i-th least significant byte.
func (f damageField) byteAt(i int) int {
	if f.be {
		return f.off + f.width - 1 - i
	}
	return f.off + i
}

// damageFields finds the fields worth corrupting: the minidump header,
// stream directory and each stream's first words (its counts and entry
// sizes); the ELF header, program headers and note headers; LiME range
// headers. Other formats (Windows kernel dumps, kdump-compressed) get
// aligned words in the first 64 KiB whose value could be an offset or a
// size within the file, which is what their headers are made of.
func damageFields(b []byte) []damageField {
	n := len(b)
	var out []damageField
	add := func(off, width int, be bool, what string, args ...any) {
		if off >= 0 && off+width <= n {
			out = append(out, damageField{off, width, be, fmt.Sprintf(what, args...)})
		}
	}
	le := binary.LittleEndian
	switch {
	case n >= 32 && string(b[:4]) == "MDMP":
		add(8, 4, false, "NumberOfStreams")
		add(12, 4, false, "StreamDirectoryRva")
		count, dir := int(le.Uint32(b[8:])), int(le.Uint32(b[12:]))
		for i := 0; i < min(count, 64) && dir >= 0 && dir+12*i+12 <= n; i++ {
			e := dir + 12*i
			typ := le.Uint32(b[e:])
			add(e+4, 4, false, "stream %d (type %#x) DataSize", i, typ)
			add(e+8, 4, false, "stream %d (type %#x) Rva", i, typ)
			rva := int(le.Uint32(b[e+8:]))
			for w := 0; w < 12; w += 4 {
				add(rva+w, 4, false, "stream %d (type %#x) word %d", i, typ, w/4)
			}
		}
	case n >= 52 && string(b[:4]) == "\x7fELF":
		elfFields(b, add)
	case n >= 32 && le.Uint32(b) == 0x4c694d45: // LiME
		for off, i := 0, 0; off+32 <= n && le.Uint32(b[off:]) == 0x4c694d45 && i < 64; i++ {
			add(off+8, 8, false, "range %d start", i)
			add(off+16, 8, false, "range %d end", i)
			s, e := le.Uint64(b[off+8:]), le.Uint64(b[off+16:])
			if e < s || e-s >= uint64(n) {
				break
			}
			off += 32 + int(e-s+1)
		}
	default:
		for off := 8; off+4 <= min(n, 64<<10); off += 4 {
			if v := le.Uint32(b[off:]); v > 0 && int64(v) < int64(n) {
				add(off, 4, false, "word %#x (offset-like)", v)
			}
		}
	}
	return out
}

// elfFields lists an ELF file's header fields, program headers' offsets
// and sizes, and the size fields of the notes in its PT_NOTE segments.
func elfFields(b []byte, add func(off, width int, be bool, what string, args ...any)) {
	var bo binary.ByteOrder = binary.LittleEndian
	be := b[5] == 2
	if be {
		bo = binary.BigEndian
	}
	is64 := b[4] == 2
	u := func(off, w int) int {
		if off+w > len(b) {
			return -1
		}
		switch w {
		case 2:
			return int(bo.Uint16(b[off:]))
		case 4:
			return int(bo.Uint32(b[off:]))
		}
		v := bo.Uint64(b[off:])
		if v > uint64(len(b)) {
			return -1
		}
		return int(v)
	}
	// Offsets of e_phoff, e_shoff, e_phentsize, e_phnum, e_shnum, and of
	// p_offset, p_filesz, p_memsz in a program header, for each class.
	word, phoff, shoff, phentsize, phnum, shnum := 4, 0x1c, 0x20, 0x2a, 0x2c, 0x30
	pOffset, pFilesz, pMemsz := 4, 16, 20
	if is64 {
		word, phoff, shoff, phentsize, phnum, shnum = 8, 0x20, 0x28, 0x36, 0x38, 0x3c
		pOffset, pFilesz, pMemsz = 8, 32, 40
	}
	collect := func(off, width int, what string, args ...any) {
		add(off, width, be, what, args...)
	}
	collect(phoff, word, "e_phoff")
	collect(shoff, word, "e_shoff")
	collect(phentsize, 2, "e_phentsize")
	collect(phnum, 2, "e_phnum")
	collect(shnum, 2, "e_shnum")
	ph, entsize, count := u(phoff, word), u(phentsize, 2), u(phnum, 2)
	for i := 0; i < min(count, 64) && ph >= 0 && entsize > 0; i++ {
		p := ph + i*entsize
		typ := u(p, 4)
		if typ < 0 {
			break
		}
		collect(p+pOffset, word, "phdr %d (type %#x) p_offset", i, typ)
		collect(p+pFilesz, word, "phdr %d (type %#x) p_filesz", i, typ)
		collect(p+pMemsz, word, "phdr %d (type %#x) p_memsz", i, typ)
		if typ != 4 { // PT_NOTE
			continue
		}
		off, size := u(p+pOffset, word), u(p+pFilesz, word)
		if off < 0 || size < 0 {
			continue
		}
		for j, at := 0, off; at+12 <= min(off+size, len(b)) && j < 64; j++ {
			collect(at, 4, "note %d at %#x namesz", j, at)
			collect(at+4, 4, "note %d at %#x descsz", j, at)
			at += 12 + (u(at, 4)+3)&^3 + (u(at+4, 4)+3)&^3
		}
	}
}

// runDamageBatch writes the damaged copies of vs into dir and opens them in
// child processes, returning each one's result; nil for a variant the
// child crashed or hung on, which is reported as a test error. After a
// crash a new child carries on with the rest of the batch.
func runDamageBatch(t *testing.T, dir string, vs []*damageVariant) []*damageResult {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir) // the copies of big dumps add up
	paths := make([]string, len(vs))
	var (
		lastSrc string
		data    []byte
	)
	for i, v := range vs {
		if v.unit.src != lastSrc {
			b, err := os.ReadFile(v.unit.src)
			if err != nil {
				t.Fatal(err)
			}
			lastSrc, data = v.unit.src, b
		}
		paths[i] = filepath.Join(dir, fmt.Sprintf("%d-%s", i, v.unit.base))
		if err := os.WriteFile(paths[i], v.d.apply(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	results := make([]*damageResult, len(vs))
	for next := 0; next < len(vs); {
		done, culprit, why := runDamageChild(t, dir, paths[next:])
		for _, r := range done {
			r.I += next
			results[r.I] = r
		}
		if culprit < 0 {
			break
		}
		t.Errorf("%v: %s", vs[next+culprit], why)
		next += culprit + 1
	}
	return results
}

// runDamageChild runs one helper on paths. It returns the results of the
// files finished, and when the child crashed, hung or went over the RSS
// limit, the index of the file it was on (else -1) and what happened.
func runDamageChild(t *testing.T, dir string, paths []string) ([]*damageResult, int, string) {
	t.Helper()
	list := filepath.Join(dir, "files.txt")
	if err := os.WriteFile(list, []byte(strings.Join(paths, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache") // damaged containers unpack here
	defer os.RemoveAll(cache)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDamageHelper$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), damageFilesEnv+"="+list, "XDG_CACHE_HOME="+cache,
		"_NT_SYMBOL_PATH=", "_NT_ALT_SYMBOL_PATH=", "DEBUGINFOD_URLS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
	}()

	var (
		results          []*damageResult
		current, hung    = -1, false
		prevRSS, prevSys = int64(0), uint64(0)
	)
	watchdog := time.NewTimer(damageWatchdog)
	defer watchdog.Stop()
read:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break read
			}
			watchdog.Reset(damageWatchdog)
			if v, ok := strings.CutPrefix(l, "DAMAGE start "); ok {
				current, _ = strconv.Atoi(v)
			} else if v, ok := strings.CutPrefix(l, "DAMAGE done "); ok {
				r := new(damageResult)
				if err := json.Unmarshal([]byte(v), r); err != nil {
					t.Fatalf("helper output %q: %v", l, err)
				}
				r.overRSS = r.PeakRSS > damageRSSLimit && prevRSS <= damageRSSLimit
				r.overSys = r.GoSys > damageRSSLimit && prevSys <= damageRSSLimit
				prevRSS, prevSys = r.PeakRSS, r.GoSys
				results = append(results, r)
				current = -1
			}
		case <-watchdog.C:
			hung = true
			cmd.Process.Kill()
			for range lines {
			}
			break read
		}
	}
	err = cmd.Wait()
	if current < 0 {
		// Between files (in start-up, or after the last): pinned on the
		// next one, so that the batch still moves on.
		current = len(results)
	}
	switch {
	case hung && current < len(paths):
		return results, current, fmt.Sprintf("no progress for %v: killed as hung", damageWatchdog)
	case err != nil && current < len(paths):
		return results, current, fmt.Sprintf("the helper died (%v):\n%s", err, firstLines(stderr.String(), 40))
	case hung || err != nil:
		t.Errorf("the helper failed after its last file (%v):\n%s", err, firstLines(stderr.String(), 40))
	}
	if rss := maxRSS(cmd.ProcessState); rss > damageRSSLimit && prevRSS <= damageRSSLimit {
		// The per-file VmHWM pins it on a file when /proc tells; this
		// catches what it cannot see.
		t.Errorf("a helper running %d damaged files reached %d MiB of RSS, over the %d MiB limit", len(paths), rss>>20, damageRSSLimit>>20)
	}
	return results, -1, ""
}

// maxRSS is a finished process's peak RSS in bytes, 0 where unknown: only
// Linux reports ru_maxrss in KiB.
func maxRSS(ps *os.ProcessState) int64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || runtime.GOOS != "linux" {
		return 0
	}
	return int64(ru.Maxrss) << 10
}

// firstLines returns the first n lines of s (a panic's message and the top of
// its stack), for test errors.
func firstLines(s string, n int) string {
	ls := strings.SplitAfter(s, "\n")
	if len(ls) > n {
		ls = append(ls[:n], "...\n")
	}
	return strings.Join(ls, "")
}
