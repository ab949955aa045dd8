//go:build !unix

package crashcfg

import "io/fs"

// hasOwnerBits: Windows keeps access in ACLs, which the audit does not
// read; its mode bits say nothing about other users.
const hasOwnerBits = false

func owner(fs.FileInfo) string { return "" }
