package dump

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/container"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

var (
	cursigRE  = regexp.MustCompile(`cursig: (\d+)`)
	siginfoRE = regexp.MustCompile(`(?m)^\s+si_signo: (\d+), si_errno`)
	psPIDRE   = regexp.MustCompile(`(?m)^\s+uid: \d+, gid: \d+, pid: (\d+)`)
	fnameRE   = regexp.MustCompile(`(?m)^\s+fname: (.*?), psargs:`)
	noteRE    = regexp.MustCompile(`(?m)^  (\S+)\s+\d+\s+(\w+)$`)
)

// TestCoresAgreeWithEuReadelf compares every ELF core's notes summary with
// `eu-readelf -n` output in the corpus's local-oracles: thread count (one
// NT_PRSTATUS each), the first thread's signal, and NT_PRPSINFO's pid and
// program name.
func TestCoresAgreeWithEuReadelf(t *testing.T) {
	corpus := fixture.CorpusDir(t)
	oracles, _ := filepath.Glob(filepath.Join(corpus, "*", "local-oracles", "*.eu-readelf-n.txt"))
	if len(oracles) == 0 {
		t.Skip("no eu-readelf oracles in the corpus")
	}
	cache := t.TempDir()
	checked := 0
	for _, o := range oracles {
		dir := filepath.Dir(filepath.Dir(o))
		key := strings.TrimSuffix(filepath.Base(o), ".eu-readelf-n.txt")
		core := findByOracleKey(dir, key)
		name, _ := filepath.Rel(corpus, o)
		t.Run(name, func(t *testing.T) {
			if core == "" {
				t.Fatalf("no corpus file for oracle key %q", key)
			}
			text, err := os.ReadFile(o)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Open(context.Background(), core, Options{Container: container.Options{CacheDir: cache}})
			if err != nil {
				t.Fatalf("open %s: %v", core, err)
			}
			defer d.Close()
			i := d.Info()
			if i.Format != model.ELFCore {
				t.Skipf("%s is a %s, not a process core", core, i.Format)
			}
			checked++
			threads := 0
			for _, m := range noteRE.FindAllStringSubmatch(string(text), -1) {
				if m[2] == "PRSTATUS" {
					threads++
				}
			}
			if i.Threads != threads {
				t.Errorf("threads = %d, eu-readelf shows %d PRSTATUS notes", i.Threads, threads)
			}
			// NT_SIGINFO, when present, is the signal; else the first
			// thread's pr_cursig.
			m := siginfoRE.FindStringSubmatch(string(text))
			if m == nil {
				m = cursigRE.FindStringSubmatch(string(text))
			}
			if m != nil {
				sig, _ := strconv.ParseUint(m[1], 10, 64)
				if i.Crash == nil || i.Crash.Code != sig {
					t.Errorf("crash = %+v, eu-readelf cursig %d", i.Crash, sig)
				}
			}
			if m := psPIDRE.FindStringSubmatch(string(text)); m != nil {
				pid, _ := strconv.ParseUint(m[1], 10, 64)
				if i.Process == nil || i.Process.PID != pid {
					t.Errorf("process = %+v, eu-readelf pid %d", i.Process, pid)
				}
			}
			if m := fnameRE.FindStringSubmatch(string(text)); m != nil && i.Process != nil && i.Process.Name != m[1] {
				t.Errorf("name = %q, eu-readelf fname %q", i.Process.Name, m[1])
			}
		})
	}
	if checked < 40 {
		t.Errorf("checked only %d process cores against eu-readelf", checked)
	}
}

// findByOracleKey finds the corpus file a local-oracles name refers to:
// "<dir parts joined by _>__<file>", compressed files without their .bz2 or
// .zst suffix.
func findByOracleKey(dir, key string) string {
	found := ""
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.Contains(p, "local-oracles") {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = strings.TrimSuffix(strings.TrimSuffix(filepath.ToSlash(rel), ".bz2"), ".zst")
		k := rel
		if i := strings.LastIndex(rel, "/"); i >= 0 {
			k = strings.ReplaceAll(rel[:i], "/", "_") + "__" + rel[i+1:]
		}
		if k == key {
			found = p
		}
		return nil
	})
	return found
}
