package dump

import (
	"bufio"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/container"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// expectation is what the corpus MANIFEST says a file is.
type expectation struct {
	dump      bool
	format    string
	variant   string // "" = not checked
	arch      string // "" = not checked
	container string
	malformed bool // a damaged dump: an error or diagnostics, never a panic
}

var (
	sectionRE = regexp.MustCompile("^## (\\S+)/ ")
	rowRE     = regexp.MustCompile("^\\| `([^`]+)` \\| .*? \\| [\\d,]+(?: \\([\\d,]+ decompressed\\))? \\| `[0-9a-f ]+` `[^`]*` \\| (.*?) \\| (.*?) \\|")
	elfRE     = regexp.MustCompile(`^ELF (CORE|EXEC|DYN|REL) ELF(32|64) (LE|BE) ([^,]+),`)
	mdmpArch  = regexp.MustCompile(`\b(x86|amd64|arm64|arm)\b`)
	kdmpRE    = regexp.MustCompile(`DumpType (\d+)(?: \((\w+)\))?, Machine (0x[0-9a-f]+)`)
)

// elfArch maps the MANIFEST's readelf machine names to report arch names.
func elfArch(machine, class, data string) string {
	switch machine {
	case "x86-64":
		return "amd64"
	case "i386":
		return "x86"
	case "AArch64":
		return "arm64"
	case "ARM":
		return "arm"
	case "PPC":
		return "ppc"
	case "PPC64":
		if data == "LE" {
			return "ppc64le"
		}
		return "ppc64"
	case "S390":
		if class == "64" {
			return "s390x"
		}
		return "s390"
	case "MIPS":
		if class == "64" {
			return "mips64"
		}
		return "mips"
	case "RISC-V":
		return "riscv" + class
	case "m68k":
		return "m68k"
	case "Alpha":
		return "alpha"
	case "PA-RISC":
		return "hppa"
	case "LoongArch":
		return "loongarch64"
	case "SPARCV9":
		return "sparc64"
	}
	return "?" + machine
}

// manifestExpectations reads MANIFEST.md's tables: the "format (verified)"
// and "contents" columns are the oracle for what each file is.
func manifestExpectations(t *testing.T, corpus string) map[string]expectation {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]expectation{}
	section := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := sectionRE.FindStringSubmatch(line); m != nil {
			section = m[1]
			continue
		}
		m := rowRE.FindStringSubmatch(line)
		if m == nil || section == "" {
			continue
		}
		rel, format, contents := section+"/"+m[1], m[2], m[3]
		var e expectation
		for _, c := range []struct{ prefix, kind string }{{"bzip2 of ", "bz2"}, {"zstd of ", "zst"}} {
			if rest, ok := strings.CutPrefix(format, c.prefix); ok {
				format, e.container = rest, c.kind
			}
		}
		switch {
		case strings.HasPrefix(format, "MDMP minidump"):
			e.dump, e.format, e.variant = true, "minidump", "user"
			if a := mdmpArch.FindString(format); a != "" {
				e.arch = a
			} else {
				e.malformed = true // "MDMP minidump" with nothing verified: the fuzzer-style samples
				e.variant = ""
			}
		case strings.Contains(format, "PAGEDU64"):
			e.dump, e.format = true, "windows-kernel"
			if k := kdmpRE.FindStringSubmatch(format); k != nil {
				e.variant = map[string]string{"1": "complete", "4": "triage"}[k[1]]
				e.arch = map[string]string{"0x8664": "amd64", "0xaa64": "arm64"}[k[3]]
			} else if strings.Contains(format, "DumpType 1") {
				e.variant = "complete"
				e.malformed = strings.Contains(format, "truncated")
			}
		case elfRE.MatchString(format):
			el := elfRE.FindStringSubmatch(format)
			if el[1] != "CORE" {
				break // executables and libraries are not dumps
			}
			e.dump, e.format, e.variant = true, "elf-core", "process"
			e.arch = elfArch(el[4], el[2], el[3])
			if strings.Contains(contents, "kernel crash dump") || strings.Contains(contents, "/proc/vmcore") {
				e.format, e.variant = "linux-vmcore", "elf"
				e.malformed = strings.Contains(contents, "TRUNCATED")
			}
		case strings.HasPrefix(format, "LiME"):
			e.dump, e.format, e.variant = true, "lime", "lime"
		}
		out[rel] = e
	}
	if len(out) < 200 {
		t.Fatalf("parsed only %d MANIFEST rows; has its layout changed?", len(out))
	}
	// generated/ is described in generated/README.md.
	out["generated/linux-core/core.crashc.sigsegv"] = expectation{dump: true, format: "elf-core", variant: "process", arch: "amd64"}
	out["generated/windows-minidump/wine-MiniDumpNormal-exception.dmp"] = expectation{dump: true, format: "minidump", variant: "user", arch: "amd64"}
	out["generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"] = expectation{dump: true, format: "linux-vmcore", variant: "kdump-compressed", arch: "amd64"}
	return out
}

// TestCorpusIdentification opens every file of the shared corpus: dumps
// must be identified as MANIFEST.md says, everything else must fail with
// ErrUnrecognized, and nothing may panic.
func TestCorpusIdentification(t *testing.T) {
	corpus := fixture.CorpusDir(t)
	want := manifestExpectations(t, corpus)
	cache := t.TempDir()
	var files []string
	filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	seenDumps := 0
	for _, p := range files {
		rel, _ := filepath.Rel(corpus, p)
		rel = filepath.ToSlash(rel)
		e, listed := want[rel]
		if !listed && !strings.HasPrefix(rel, "generated/") && !strings.Contains(rel, "local-oracles/") && filepath.Base(rel) != "MANIFEST.md" {
			t.Errorf("%s: not described by MANIFEST.md", rel)
			continue
		}
		t.Run(rel, func(t *testing.T) {
			d, err := Open(context.Background(), p, Options{Container: container.Options{CacheDir: cache}})
			if !e.dump {
				if err == nil {
					d.Close()
					t.Fatalf("opened a non-dump as %s", d.Format.Name)
				}
				if !errors.Is(err, ErrUnrecognized) {
					t.Fatalf("err = %v, want ErrUnrecognized", err)
				}
				return
			}
			if err != nil {
				if e.malformed {
					var de *Error
					if !errors.As(err, &de) || errors.Is(err, ErrUnrecognized) {
						t.Fatalf("malformed dump: err = %v, want a *dump.Error naming the format", err)
					}
					return
				}
				t.Fatalf("open: %v", err)
			}
			defer d.Close()
			seenDumps++
			i := d.Info()
			if string(i.Format) != e.format {
				t.Errorf("format = %q, want %q", i.Format, e.format)
			}
			if e.variant != "" && i.Variant != e.variant {
				t.Errorf("variant = %q, want %q", i.Variant, e.variant)
			}
			if e.arch != "" && string(i.Arch) != e.arch {
				t.Errorf("arch = %q, want %q", i.Arch, e.arch)
			}
			var got string
			if len(d.Containers) > 0 {
				got = string(d.Containers[0])
			}
			if got != e.container {
				t.Errorf("container = %q, want %q", got, e.container)
			}
			if e.malformed && len(d.Diagnostics()) == 0 {
				t.Errorf("malformed dump opened without diagnostics")
			}
		})
	}
	if seenDumps < 60 {
		t.Errorf("only %d corpus dumps opened", seenDumps)
	}
}
