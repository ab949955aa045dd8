package platform

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"text/template"
)

// DumpMIMETypes are the types Crashbench opens, with the magic bytes and
// file-name patterns shared-mime-info recognises them by. Debian maps
// *.dmp to a pcap capture, so the magic matters: a file whose first bytes
// are a dump's is a dump whatever its name.
var DumpMIMETypes = []MIMEType{
	{Type: "application/x-ms-minidump", Comment: "Windows minidump", Globs: []string{"*.dmp", "*.mdmp", "*.hdmp"}, Magic: []string{"MDMP"}},
	{Type: "application/x-ms-kernel-dump", Comment: "Windows kernel memory dump", Globs: []string{"MEMORY.DMP", "Mini*.dmp"}, Magic: []string{"PAGEDU64", "PAGEDUMP"}},
	{Type: "application/x-linux-vmcore", Comment: "Linux kernel crash dump", Globs: []string{"vmcore", "vmcore*", "*.kdump"}, Magic: []string{"KDUMP   ", "makedumpfile"}},
	{Type: "application/x-lime-image", Comment: "LiME memory image", Globs: []string{"*.lime"}, Magic: []string{"EMiL"}},
	{Type: "application/x-core-dump", Comment: "Process core dump", Globs: []string{"core", "core.*"}},
}

// MIMEType is one type of DumpMIMETypes.
type MIMEType struct {
	Type, Comment string
	Globs         []string
	Magic         []string // strings at offset 0
}

// Registration says where Register wrote what.
type Registration struct {
	DesktopFile string // the .desktop entry
	MIMEFile    string // the shared-mime-info package
	Commands    []string
}

// Register makes this executable the handler of dump files for the
// current user, so a double-click on a dump opens the workbench: on Linux
// and the BSDs, a .desktop entry and a shared-mime-info package under
// $XDG_DATA_HOME (~/.local/share), the MIME and desktop databases updated,
// and the types made Crashbench's default with xdg-mime. The update tools
// are run when present; their absence is reported, not fatal. Windows and
// macOS register through the installer and the app bundle instead.
func Register(exe string) (*Registration, error) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return nil, fmt.Errorf("register: on %s the installer (Windows file associations) or the app bundle (Info.plist) registers Crashbench", runtime.GOOS)
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		data = filepath.Join(home, ".local", "share")
	}
	exe, err := filepath.Abs(exe)
	if err != nil {
		return nil, err
	}
	r := &Registration{
		DesktopFile: filepath.Join(data, "applications", "io.crashbench.app.desktop"),
		MIMEFile:    filepath.Join(data, "mime", "packages", "crashbench.xml"),
	}
	desktop, mime, err := RegistrationFiles(exe)
	if err != nil {
		return nil, err
	}
	for path, body := range map[string][]byte{r.DesktopFile: desktop, r.MIMEFile: mime} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return nil, err
		}
	}
	var errs []error
	run := func(name string, args ...string) {
		if _, err := exec.LookPath(name); err != nil {
			errs = append(errs, fmt.Errorf("%s is not installed: run it later, or install it (Debian: shared-mime-info, desktop-file-utils, xdg-utils)", name))
			return
		}
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+data)
		if out, err := cmd.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v: %s", name, err, bytes.TrimSpace(out)))
			return
		}
		r.Commands = append(r.Commands, name)
	}
	run("update-mime-database", filepath.Join(data, "mime"))
	run("update-desktop-database", filepath.Join(data, "applications"))
	args := []string{"default", filepath.Base(r.DesktopFile)}
	for _, t := range DumpMIMETypes {
		args = append(args, t.Type)
	}
	run("xdg-mime", args...)
	return r, errors.Join(errs...)
}

// RegistrationFiles returns the .desktop entry and the shared-mime-info
// package that make exe the handler of DumpMIMETypes.
func RegistrationFiles(exe string) (desktop, mime []byte, err error) {
	var d, m bytes.Buffer
	if err := desktopTmpl.Execute(&d, struct {
		Exe   string
		Types []MIMEType
	}{exe, DumpMIMETypes}); err != nil {
		return nil, nil, err
	}
	if err := mimeTmpl.Execute(&m, DumpMIMETypes); err != nil {
		return nil, nil, err
	}
	return d.Bytes(), m.Bytes(), nil
}

// desktopTmpl is a Desktop Entry (freedesktop.org Desktop Entry
// Specification 1.5); %F passes every selected file.
var desktopTmpl = template.Must(template.New("desktop").Parse(`[Desktop Entry]
Type=Application
Version=1.4
Name=Crashbench
GenericName=Crash Dump Workbench
Comment=Open Windows, Linux and FreeBSD crash and memory dumps
Exec="{{.Exe}}" %F
Icon=io.crashbench.app
Terminal=false
Categories=Development;Debugger;
MimeType={{range .Types}}{{.Type}};{{end}}
`))

// mimeTmpl is a shared-mime-info package: each type with its globs and,
// where it has some, the magic at offset 0 (priority 80: above the pcap
// mapping Debian gives *.dmp).
var mimeTmpl = template.Must(template.New("mime").Parse(`<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
{{- range .}}
  <mime-type type="{{.Type}}">
    <comment>{{.Comment}}</comment>
{{- range .Globs}}
    <glob pattern="{{.}}"/>
{{- end}}
{{- if .Magic}}
    <magic priority="80">
{{- range .Magic}}
      <match type="string" offset="0" value="{{.}}"/>
{{- end}}
    </magic>
{{- end}}
  </mime-type>
{{- end}}
</mime-info>
`))
