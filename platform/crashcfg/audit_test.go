//go:build unix

package crashcfg

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// elfCore is the start of a little-endian ELF core file, as the ELF
// specification lays out the identification and e_type.
func elfCore() []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = 2, 1, 1 // ELFCLASS64, ELFDATA2LSB, EV_CURRENT
	binary.LittleEndian.PutUint16(b[16:], 4)
	return b
}

// TestAuditFindsExposedDumps plants dumps in a folder: the world-readable
// one is flagged with the chmod that fixes it, the private one is not, an
// ELF executable and a text file named core are not dumps, and a
// systemd-coredump zstd core is found by its name and magic.
func TestAuditFindsExposedDumps(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	exposed := write("app/crash 1.dmp", append([]byte("MDMP\x93\xa7"), make([]byte, 58)...), 0o644)
	private := write("core.1234", elfCore(), 0o600)
	group := write("var/crash/vmcore", []byte("KDUMP   \x06\x00\x00\x00"), 0o640)
	zst := write("coredump/core.sleep.0.abc.99.1700000000000000.zst", []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, 0o640)
	exe := elfCore()
	binary.LittleEndian.PutUint16(exe[16:], 2) // ET_EXEC
	write("bin/tool", exe, 0o755)
	write("core", []byte("not a dump\n"), 0o644)

	found, errs := Audit([]string{dir})
	if len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
	byPath := map[string]DumpFile{}
	for _, f := range found {
		byPath[f.Path] = f
	}
	if len(found) != 4 {
		t.Fatalf("found %d dumps, want 4: %+v", len(found), found)
	}
	want := map[string]struct{ kind, exposed string }{
		exposed: {"minidump", "world"}, private: {"ELF core", ""}, group: {"kdump vmcore", "group"}, zst: {"compressed core", "group"},
	}
	for p, w := range want {
		f, ok := byPath[p]
		if !ok {
			t.Errorf("%s not found", p)
			continue
		}
		if f.Kind != w.kind || f.Exposed != w.exposed {
			t.Errorf("%s: kind %q exposed %q, want %q %q", p, f.Kind, f.Exposed, w.kind, w.exposed)
		}
		if (f.Fix != "") != (w.exposed != "") {
			t.Errorf("%s: fix %q", p, f.Fix)
		}
		if f.Owner == "" || f.Size == 0 || f.Modified.IsZero() {
			t.Errorf("%s: owner %q size %d time %v", p, f.Owner, f.Size, f.Modified)
		}
	}
	if fix := byPath[exposed].Fix; fix != "chmod go-rwx '"+exposed+"'" {
		t.Errorf("fix %q does not quote the path with a space", fix)
	}
	if !strings.HasPrefix(byPath[group].Fix, "chmod go-rwx "+group) {
		t.Errorf("fix %q", byPath[group].Fix)
	}
}

func TestAuditLocations(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/lib/systemd/coredump"), 0o755); err != nil {
		t.Fatal(err)
	}
	got := AuditLocations(Linux, root, os.Getenv)
	if len(got) != 1 || got[0] != filepath.Join(root, "var/lib/systemd/coredump") {
		t.Errorf("locations %q", got)
	}
	env := map[string]string{"SystemRoot": `C:\Windows`, "LOCALAPPDATA": `C:\Users\u\AppData\Local`}
	win := AuditLocations(Windows, "", func(k string) string { return env[k] })
	if !strings.Contains(strings.Join(win, "|"), `C:\Windows\Minidump`) || !strings.Contains(strings.Join(win, "|"), `C:\Users\u\AppData\Local\CrashDumps`) {
		t.Errorf("windows locations %q", win)
	}
}

func TestExplainRanks(t *testing.T) {
	checks := []Check{
		{ID: "a", Status: Pass}, {ID: "b", Status: Unknown}, {ID: "c", Status: Warn},
		{ID: "d", Status: Fail}, {ID: "e", Status: Fail},
	}
	var ids []string
	for _, c := range Explain(checks) {
		ids = append(ids, c.ID)
		if c.Rank != len(ids) {
			t.Errorf("%s ranked %d", c.ID, c.Rank)
		}
	}
	if strings.Join(ids, "") != "decb" {
		t.Errorf("order %q, want d e c b", ids)
	}
}
