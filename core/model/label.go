package model

import (
	"strconv"
	"strings"
)

// FileLabel is the label of a file-backed mapping in Range.Label and
// mem.Region.Label: the mapped file's path and the file offset of the
// range's first byte, "/usr/lib/libc.so.6 (offset 0x28000)". Producers use
// it so that consumers (the console's !address and info proc mappings) can
// get the offset back with ParseFileLabel.
func FileLabel(path string, off uint64) string {
	return path + " (offset 0x" + strconv.FormatUint(off, 16) + ")"
}

// ParseFileLabel splits a FileLabel into its path and offset; ok is false
// for any other label.
func ParseFileLabel(label string) (path string, off uint64, ok bool) {
	const mark = " (offset 0x"
	rest, found := strings.CutSuffix(label, ")")
	i := strings.LastIndex(rest, mark)
	if !found || i < 0 {
		return "", 0, false
	}
	off, err := strconv.ParseUint(rest[i+len(mark):], 16, 64)
	if err != nil {
		return "", 0, false
	}
	return rest[:i], off, true
}
