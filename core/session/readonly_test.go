package session

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// Issue 12, "Read-only guarantee": dump files are opened read-only and
// never modified. Copies of one dump per format, writable as users keep
// them (a stray write would succeed), go through every command; then their
// contents, sizes, modes and mtimes must be unchanged and nothing new may
// appear beside them. Unpacked containers and symbol caches belong in
// $XDG_CACHE_HOME, pointed elsewhere.
//
// A second pass makes the files read-only (0444, their folder 0555) and
// must give the same results. Root ignores permissions, so while each
// session is open the test also checks, where /proc tells, that every
// descriptor and mapping of a file beside the dumps is read-only.

// readOnlyDump is a corpus dump and the files that go beside it.
type readOnlyDump struct {
	rel    string
	extras []string // companions: the PDB or executable, found beside the dump
	store  []string // files copied into a symbol store (same layout) passed as the symbol path
}

var readOnlyDumps = []readOnlyDump{
	// Windows minidump, its PDB beside it.
	{rel: "lldb/windows-sigsegv/sigsegv.dmp", extras: []string{"lldb/windows-sigsegv/sigsegv.pdb"}},
	// Windows kernel (triage) dump with the crashing driver and its PDB
	// in a symbol store.
	{rel: "rizin/dmp/triage_x64.dmp", store: []string{
		"amdppm.sys/c9c030003b000/amdppm.sys",
		"amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb",
	}},
	// ELF process core, its executable beside it.
	{rel: "lldb/elf-core/linux-x86_64.core", extras: []string{"lldb/elf-core/linux-x86_64.out"}},
	// Linux kdump-compressed vmcore: ps and log read the kernel's memory.
	{rel: "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"},
	// Linux ELF vmcore, in a bzip2 container.
	{rel: "elfutils/testfile62.bz2"},
	// LiME memory image.
	{rel: "memflow-lime/deb-x86_64-slice.lime"},
	// ELF process core in a zstd container.
	{rel: "drgn/crashme.core.zst"},
	// (The corpus has no FreeBSD dump.)
}

const symStoreCorpus = "rizin-symstore"

func TestReadOnlyGuarantee(t *testing.T) {
	root := fixture.CorpusDir(t)
	tmp := t.TempDir()
	if r, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = r // /proc shows resolved paths
	}
	dir := filepath.Join(tmp, "dumps")
	store := filepath.Join(dir, "symstore")
	cache := filepath.Join(tmp, "cache")
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("HOME", filepath.Join(tmp, "home"))
	for _, v := range []string{"_NT_SYMBOL_PATH", "_NT_ALT_SYMBOL_PATH", "DEBUGINFOD_URLS"} {
		t.Setenv(v, "")
	}

	var dumps []readOnlyDump
	for _, d := range readOnlyDumps {
		if _, err := os.Stat(filepath.Join(root, d.rel)); err != nil {
			t.Logf("%s is absent from the corpus: not checked", d.rel)
			continue
		}
		for _, rel := range append([]string{d.rel}, d.extras...) {
			copyFile(t, filepath.Join(root, rel), filepath.Join(dir, filepath.Base(rel)))
		}
		for _, rel := range d.store {
			copyFile(t, filepath.Join(root, symStoreCorpus, rel), filepath.Join(store, rel))
		}
		dumps = append(dumps, d)
	}
	if len(dumps) == 0 {
		t.Skip("none of the read-only test's dumps is in the corpus")
	}
	// Old mtimes: a write, even within the same second, moves them.
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	setTimes(t, dir, old)

	run := func(pass string) map[string]string {
		before := snapshot(t, dir)
		out := map[string]string{}
		for _, d := range dumps {
			o := Options{Offline: true, Sysroot: filepath.Join(tmp, "empty-sysroot")}
			if len(d.store) > 0 {
				o.SymPath = store
			}
			out[d.rel] = runEveryCommand(t, pass, filepath.Join(dir, filepath.Base(d.rel)), dir, cache, o)
		}
		after := snapshot(t, dir)
		for name, b := range before {
			if a, ok := after[name]; !ok {
				t.Errorf("%s: %s disappeared", pass, name)
			} else if a != b {
				t.Errorf("%s: %s changed: before %s, after %s", pass, name, b, a)
			}
		}
		for name, a := range after {
			if _, ok := before[name]; !ok {
				t.Errorf("%s: %s appeared beside the dumps (%s)", pass, name, a)
			}
		}
		return out
	}

	writable := run("writable")

	// Second pass: read-only files in a read-only folder.
	setModes(t, dir, 0o444, 0o555)
	t.Cleanup(func() { setModes(t, dir, 0o644, 0o755) }) // so that TempDir can remove them
	readOnly := run("read-only")
	for _, d := range dumps {
		if w, r := writable[d.rel], readOnly[d.rel]; w != r {
			t.Errorf("%s: results differ once the files are read-only:\n%s", d.rel, firstDiff(w, r))
		}
	}
	if !t.Failed() {
		t.Logf("%d dumps, every command twice (writable, then read-only): no dump or companion file changed", len(dumps))
	}
}

// runEveryCommand opens path and runs every command on it, returning a
// transcript of their output and errors. Open, Report and Analyze must
// succeed on these undamaged dumps; console commands may fail (ps on a
// minidump), which the transcript records.
func runEveryCommand(t *testing.T, pass, path, dir, cache string, o Options) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := filepath.Base(path)
	s, err := Open(ctx, path, o)
	if err != nil {
		t.Errorf("%s: %v", pass, err)
		return ""
	}
	defer s.Close()
	var b strings.Builder
	rep, err := s.Report(ReportOptions{Memory: true, Log: true})
	if errors.Is(err, ErrNoLog) {
		rep, err = s.Report(ReportOptions{Memory: true})
	}
	if err != nil {
		t.Errorf("%s: %s: Report: %v", pass, name, err)
	} else {
		rep.WriteText(&b)
		if u := rep.File.Unpacked; u != "" && !strings.HasPrefix(u, cache+string(filepath.Separator)) {
			t.Errorf("%s: %s was unpacked to %s, outside the cache %s", pass, name, u, cache)
		}
	}
	a, err := s.Analyze(ctx)
	if err != nil {
		t.Errorf("%s: %s: Analyze: %v", pass, name, err)
		return b.String()
	}
	WriteAnalysisText(&b, a, nil)

	pc := "@$ip"
	if c := a.Info.Crash; c != nil && c.PC != nil {
		pc = fmt.Sprintf("%#x", *c.PC)
	} else if a.Crashed >= 0 && len(a.Threads[a.Crashed].Frames) > 0 {
		pc = fmt.Sprintf("%#x", a.Threads[a.Crashed].Frames[0].PC)
	}
	for _, c := range everyCommand(pc) {
		fmt.Fprintf(&b, "> %s\n", c)
		if err := s.Exec(ctx, c, console.NewTextOutput(&b)); err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
		}
	}
	// Still open: how is each file beside the dumps held?
	if n, ok := checkReadOnlyHandles(t, pass, dir); ok && n == 0 && rep != nil && rep.File.Unpacked == "" {
		t.Errorf("%s: %s: no descriptor or mapping of it found in /proc/self: the read-only check saw nothing", pass, name)
	}
	return b.String()
}

// everyCommand lists the console commands the read-only tests run, pc
// being an address of code to dump and disassemble.
func everyCommand(pc string) []string {
	return []string{"lm", "k", "~*k", "!address", ".ecxr", "db " + pc, "dd " + pc, "dq " + pc, "u " + pc,
		"!analyze -v", "log", "ps", ".reload /f", "lm"}
}

// TestReadOnlyCorpus is the guarantee over the whole corpus, in place:
// every file under it is hashed, every dump (including the malformed ones
// kept on purpose, whose errors are not this test's business) is opened
// and goes through every command, and every file is hashed again.
func TestReadOnlyCorpus(t *testing.T) {
	root := fixture.CorpusDir(t)
	if testing.Short() {
		t.Skip("runs every command on every corpus dump; skipped with -short")
	}
	tmp := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "cache"))
	t.Setenv("HOME", filepath.Join(tmp, "home"))
	for _, v := range []string{"_NT_SYMBOL_PATH", "_NT_ALT_SYMBOL_PATH", "DEBUGINFOD_URLS"} {
		t.Setenv(v, "")
	}
	before := snapshot(t, root)
	dumps := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := Open(ctx, path, Options{Offline: true, Sysroot: filepath.Join(tmp, "empty-sysroot")})
		if err != nil {
			return nil // not a dump, or a malformed one
		}
		defer s.Close()
		dumps++
		s.Report(ReportOptions{Memory: true, Log: true})
		s.Analyze(ctx)
		for _, c := range everyCommand("@$ip") {
			s.Exec(ctx, c, console.NewTextOutput(io.Discard))
		}
		checkReadOnlyHandles(t, "corpus", root)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, root)
	for name, b := range before {
		if a := after[name]; a != b {
			t.Errorf("%s changed: before %s, after %q", name, b, a)
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			t.Errorf("%s appeared in the corpus", name)
		}
	}
	if !t.Failed() {
		t.Logf("%d dumps, every command; %d files and folders described before and after: none changed", dumps, len(before))
	}
}

// checkReadOnlyHandles fails the test for any descriptor open for writing
// or mapping with write access on a file under dir. It returns how many
// handles it found, and false where /proc does not tell.
func checkReadOnlyHandles(t *testing.T, pass, dir string) (int, bool) {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	under := func(p string) bool { return strings.HasPrefix(p, dir+string(filepath.Separator)) }
	n := 0
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err != nil || !under(target) {
			continue
		}
		n++
		info, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		for _, l := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(l, "flags:"); ok {
				const accMode = 3 // O_ACCMODE: O_RDONLY is 0
				if flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64); err == nil && flags&accMode != 0 {
					t.Errorf("%s: %s is open for writing (flags %o)", pass, target, flags)
				}
			}
		}
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return n, true
	}
	// address perms offset dev inode path
	for _, l := range strings.Split(string(maps), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || !under(f[5]) {
			continue
		}
		n++
		if strings.Contains(f[1], "w") {
			t.Errorf("%s: %s is mapped writable (%s)", pass, f[5], f[1])
		}
	}
	return n, true
}

// snapshot describes every file and folder under dir: mode, size, mtime
// and, for files, the SHA-256 of the contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("mode %v, size %d, mtime %v", st.Mode(), st.Size(), st.ModTime().UTC().Format(time.RFC3339Nano))
		if st.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			desc += fmt.Sprintf(", sha256 %x", h.Sum(nil))
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// setTimes sets the mtime of everything under dir.
func setTimes(t *testing.T, dir string, when time.Time) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, when, when)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// setModes gives the files under dir fileMode and the folders dirMode
// (folders last, so that a read-only one is still walked).
func setModes(t *testing.T, dir string, fileMode, dirMode fs.FileMode) {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		return os.Chmod(p, fileMode)
	})
	for i := len(dirs) - 1; i >= 0 && err == nil; i-- {
		err = os.Chmod(dirs[i], dirMode)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// firstDiff shows where two transcripts part.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n  writable:  %q\n  read-only: %q", i+1, x, y)
		}
	}
	return "(same lines)"
}
