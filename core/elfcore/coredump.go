package elfcore

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crashbench/crashbench/core/model"
)

// Coredump is what systemd-coredump's file name records about a crash:
// it stores cores as core.COMM.UID.BOOTID.PID.USEC[.zst|.xz|.lz4] in
// /var/lib/systemd/coredump (src/coredump/coredump.c, make_filename), and
// the core itself holds no time. The journal entry has more; the name is
// what travels with the file.
type Coredump struct {
	Comm   string    // the process name, \xNN escapes undone
	UID    uint64    // the crashed process's user
	BootID string    // the boot it crashed in, 32 hex digits
	PID    uint64    // its process id (in its own pid namespace)
	Time   time.Time // when systemd-coredump received it
	// From the file's extended attributes only (ReadCoredumpXattrs).
	GID      uint64
	Signal   int
	Hostname string
	Exe      string
}

// ParseCoredumpName parses a systemd-coredump file name (without
// directory); ok is false for any other name.
func ParseCoredumpName(name string) (c Coredump, ok bool) {
	for _, ext := range []string{".zst", ".xz", ".lz4"} {
		name = strings.TrimSuffix(name, ext)
	}
	if !strings.HasPrefix(name, "core.") {
		return Coredump{}, false
	}
	f := strings.Split(strings.TrimPrefix(name, "core."), ".")
	if len(f) < 5 {
		return Coredump{}, false
	}
	n := len(f)
	uid, err1 := strconv.ParseUint(f[n-4], 10, 32)
	pid, err2 := strconv.ParseUint(f[n-2], 10, 32)
	usec, err3 := strconv.ParseInt(f[n-1], 10, 64)
	boot := f[n-3]
	if _, err := hex.DecodeString(boot); err != nil || len(boot) != 32 || err1 != nil || err2 != nil || err3 != nil || usec <= 0 {
		return Coredump{}, false
	}
	comm := strings.Join(f[:n-4], ".")
	if u, err := unescapeComm(comm); err == nil {
		comm = u
	}
	return Coredump{Comm: comm, UID: uid, BootID: boot, PID: pid, Time: time.UnixMicro(usec).UTC()}, true
}

// unescapeComm undoes systemd's xescape of the process name ("/", "." and
// " " become \xNN).
func unescapeComm(s string) (string, error) {
	if !strings.Contains(s, `\x`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(v))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// SetCoredump records what the file's systemd-coredump name says, before
// Info is first asked for: the crash time (the core holds none), the boot
// and the user. A pid that disagrees with the core's own is reported as a
// diagnostic, not trusted.
func (f *File) SetCoredump(c Coredump) {
	f.mu.Lock()
	f.coredump = &c
	f.mu.Unlock()
}

// addCoredump merges the file-name facts into info.
func (f *File) addCoredump(info *model.Info) {
	f.mu.Lock()
	c := f.coredump
	f.mu.Unlock()
	if c == nil {
		return
	}
	if info.Time.IsZero() {
		info.Time = c.Time
	}
	info.Details = append(info.Details, model.Detail{Key: "systemd-coredump", Value: c.describe()})
	if p := info.Process; p != nil && p.PID != 0 && p.PID != c.PID {
		f.diag(model.Note, 0, fmt.Sprintf("the file name says pid %d, the core %d (another pid namespace?)", c.PID, p.PID))
	}
}

// describe is the summary line: what is known, in a fixed order.
func (c *Coredump) describe() string {
	var parts []string
	if !c.Time.IsZero() {
		parts = append(parts, c.Time.Format(time.RFC3339))
	}
	if c.Hostname != "" {
		parts = append(parts, "host "+c.Hostname)
	}
	if c.Exe != "" {
		parts = append(parts, c.Exe)
	}
	parts = append(parts, fmt.Sprintf("uid %d", c.UID))
	if c.GID != 0 {
		parts = append(parts, fmt.Sprintf("gid %d", c.GID))
	}
	parts = append(parts, fmt.Sprintf("pid %d", c.PID))
	if c.Signal != 0 {
		parts = append(parts, fmt.Sprintf("signal %d", c.Signal))
	}
	if c.BootID != "" {
		parts = append(parts, "boot "+c.BootID)
	}
	return strings.Join(parts, ", ")
}
