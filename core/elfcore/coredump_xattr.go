package elfcore

import (
	"strconv"
	"time"
)

// systemd-coredump also records the crash in extended attributes of the
// file it writes (src/coredump/coredump.c, fix_xattr): the same facts as
// the name plus the host, the executable, the signal and the gid. They
// survive a rename, and a copy with `cp -a` or rsync -X, but not most
// copies; the name and the core stay the primary sources.

// coredumpXattr reads one extended attribute of path; ok is false when it
// is absent or attributes are not supported here.
var coredumpXattr = readXattr

// maxXattr bounds one attribute's value: systemd writes a number, a host
// name or a path.
const maxXattr = 4096

// ReadCoredumpXattrs adds to c what the user.coredump.* attributes of the
// file at path say, filling only what c lacks; ok is false when the file
// has none.
func ReadCoredumpXattrs(path string, c Coredump) (Coredump, bool) {
	get := func(name string) (string, bool) { return coredumpXattr(path, "user.coredump."+name) }
	found := false
	num := func(name string, dst *uint64) {
		if s, ok := get(name); ok {
			found = true
			if v, err := strconv.ParseUint(s, 10, 64); err == nil && *dst == 0 {
				*dst = v
			}
		}
	}
	str := func(name string, dst *string) {
		if s, ok := get(name); ok {
			found = true
			if *dst == "" {
				*dst = s
			}
		}
	}
	num("pid", &c.PID)
	num("uid", &c.UID)
	num("gid", &c.GID)
	var sig uint64
	num("signal", &sig)
	if c.Signal == 0 && sig < 128 {
		c.Signal = int(sig)
	}
	var usec uint64
	num("timestamp", &usec)
	if c.Time.IsZero() && usec > 0 && usec < 1<<62 {
		c.Time = time.UnixMicro(int64(usec)).UTC()
	}
	str("hostname", &c.Hostname)
	str("comm", &c.Comm)
	str("exe", &c.Exe)
	return c, found
}
