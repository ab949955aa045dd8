//go:build unix

package crashcfg

import (
	"io/fs"
	"os/user"
	"strconv"
	"syscall"
)

// hasOwnerBits: POSIX permission bits say who can read a file.
const hasOwnerBits = true

// owner names a file's owner, or gives its uid.
func owner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return uid
}
