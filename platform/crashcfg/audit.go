package crashcfg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DumpFile is a dump the hygiene audit found.
type DumpFile struct {
	Path     string
	Kind     string // "minidump", "Windows kernel dump", "ELF core", "kdump vmcore", "compressed core", ...
	Size     int64
	Modified time.Time
	Owner    string      // user name, or uid; "" where the OS has no owner bits (Windows)
	Mode     fs.FileMode // permission bits
	// Exposed says who else can read it: "world", "group", or "" (only
	// the owner). Dumps hold whatever was in memory: passwords, session
	// tokens, private keys.
	Exposed string
	Fix     string // the command that makes it private, when Exposed
}

// AuditLocations lists where dumps land on os: the known crash folders,
// whichever exist under root (root "" or "/" is this machine). getenv
// reads the environment (os.Getenv), for the Windows folders.
func AuditLocations(o OS, root string, getenv func(string) string) []string {
	var dirs []string
	switch o {
	case Linux:
		dirs = []string{"/var/crash", "/var/lib/systemd/coredump", "/var/lib/apport/coredump", "/var/spool/abrt", "/var/lib/kdump"}
	case FreeBSD:
		dirs = []string{"/var/crash"}
	case Windows:
		for _, d := range []struct{ env, rel string }{
			{"SystemRoot", "Minidump"}, {"SystemRoot", "LiveKernelReports"}, {"LOCALAPPDATA", "CrashDumps"},
			{"ProgramData", `Microsoft\Windows\WER\ReportArchive`}, {"ProgramData", `Microsoft\Windows\WER\ReportQueue`},
		} {
			if v := getenv(d.env); v != "" {
				dirs = append(dirs, v+`\`+d.rel)
			}
		}
		if v := getenv("SystemRoot"); v != "" {
			dirs = append(dirs, v+`\MEMORY.DMP`)
		}
		return dirs // Windows paths are absolute; root does not apply
	}
	var out []string
	for _, d := range dirs {
		p := filepath.Join(root, d)
		if root == "" {
			p = d
		}
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// auditFileLimit bounds how many files one audit looks at, so a folder
// with millions of files cannot make it run for ever.
const auditFileLimit = 200_000

// Audit walks paths (folders, recursively, or files) and returns the
// dumps it finds, oldest first, with who can read them; errors are
// folders it could not read (the walk goes on).
func Audit(paths []string) ([]DumpFile, []error) {
	var found []DumpFile
	var errs []error
	seen := 0
	for _, root := range paths {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err)
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if seen++; seen > auditFileLimit {
				return fs.SkipAll
			}
			kind := dumpKind(p)
			if kind == "" {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			f := DumpFile{Path: p, Kind: kind, Size: fi.Size(), Modified: fi.ModTime(), Mode: fi.Mode().Perm(), Owner: owner(fi)}
			f.Exposed, f.Fix = exposure(p, fi)
			found = append(found, f)
			return nil
		})
		if err != nil && !errors.Is(err, fs.SkipAll) {
			errs = append(errs, err)
		}
	}
	slices.SortFunc(found, func(a, b DumpFile) int { return a.Modified.Compare(b.Modified) })
	return found, errs
}

// exposure says who besides the owner can read a dump, from its
// permission bits (POSIX; Windows ACLs are not read), and the fix.
func exposure(path string, fi fs.FileInfo) (string, string) {
	if !hasOwnerBits {
		return "", ""
	}
	m := fi.Mode().Perm()
	fix := fmt.Sprintf("chmod go-rwx %s", shellQuote(path))
	switch {
	case m&0o004 != 0:
		return "world", fix
	case m&0o040 != 0:
		return "group", fix
	}
	return "", ""
}

// shellQuote quotes a path for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dumpKind recognises a dump by its first bytes (name patterns alone
// would miss renamed dumps and flag unrelated "core" files), or by the
// name systemd-coredump and apport give their compressed cores.
func dumpKind(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var head [64]byte
	n, _ := io.ReadFull(f, head[:])
	b := head[:n]
	switch {
	case bytes.HasPrefix(b, []byte("MDMP")):
		return "minidump"
	case bytes.HasPrefix(b, []byte("PAGEDU64")), bytes.HasPrefix(b, []byte("PAGEDUMP")):
		return "Windows kernel dump"
	case bytes.HasPrefix(b, []byte("KDUMP   ")), bytes.HasPrefix(b, []byte("makedumpfile")):
		return "kdump vmcore"
	case bytes.HasPrefix(b, []byte("EMiL")):
		return "LiME image"
	case len(b) >= 18 && bytes.HasPrefix(b, []byte("\x7fELF")) && isELFCore(b):
		return "ELF core"
	}
	base := filepath.Base(path)
	compressed := bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) || bytes.HasPrefix(b, []byte("\xfd7zXZ")) ||
		bytes.HasPrefix(b, []byte("BZh")) || bytes.HasPrefix(b, []byte{0x04, 0x22, 0x4d, 0x18}) || bytes.HasPrefix(b, []byte{0x1f, 0x8b})
	if compressed && (strings.HasPrefix(base, "core.") || strings.HasPrefix(base, "vmcore")) {
		return "compressed core"
	}
	return ""
}

// isELFCore checks e_type == ET_CORE in either byte order.
func isELFCore(b []byte) bool {
	const etCore = 4
	if b[5] == 2 { // ELFDATA2MSB
		return b[16] == 0 && b[17] == etCore
	}
	return b[16] == etCore && b[17] == 0
}
