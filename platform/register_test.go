package platform

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRegister writes the registration into a temporary XDG_DATA_HOME:
// the .desktop entry passes desktop-file-validate, the MIME package is
// valid XML with each dump type's magic, and update-mime-database compiles
// it into per-type files.
func TestRegister(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skip("registration through the installer or app bundle on " + runtime.GOOS)
	}
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // xdg-mime default writes mimeapps.list here
	exe := filepath.Join(t.TempDir(), "crash bench", "crashbench")
	r, err := Register(exe)
	if err != nil {
		t.Logf("register: %v", err) // missing update tools are reported, not fatal
	}
	if r == nil {
		t.Fatal("nothing registered")
	}
	desktop, err := os.ReadFile(r.DesktopFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(desktop), `Exec="`+exe+`" %F`) || !strings.Contains(string(desktop), "application/x-ms-minidump;") {
		t.Errorf("desktop entry:\n%s", desktop)
	}
	if v, err := exec.LookPath("desktop-file-validate"); err == nil {
		if out, err := exec.Command(v, r.DesktopFile).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("desktop-file-validate: %v\n%s", err, out)
		}
	} else {
		t.Log("desktop-file-validate is not installed: the entry is not validated")
	}
	raw, err := os.ReadFile(r.MIMEFile)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Types []struct {
			Type  string `xml:"type,attr"`
			Globs []struct {
				Pattern string `xml:"pattern,attr"`
			} `xml:"glob"`
			Matches []struct {
				Value string `xml:"value,attr"`
			} `xml:"magic>match"`
		} `xml:"mime-type"`
	}
	if err := xml.Unmarshal(raw, &info); err != nil {
		t.Fatalf("MIME package: %v\n%s", err, raw)
	}
	magic := map[string][]string{}
	for _, mt := range info.Types {
		for _, m := range mt.Matches {
			magic[mt.Type] = append(magic[mt.Type], m.Value)
		}
	}
	if len(info.Types) != len(DumpMIMETypes) || magic["application/x-ms-minidump"][0] != "MDMP" || len(magic["application/x-ms-kernel-dump"]) != 2 {
		t.Errorf("MIME types %+v", info.Types)
	}
	if _, err := exec.LookPath("update-mime-database"); err == nil {
		if _, err := os.Stat(filepath.Join(data, "mime", "application", "x-ms-minidump.xml")); err != nil {
			t.Errorf("update-mime-database did not compile the package: %v (ran %v)", err, r.Commands)
		}
	}
}
