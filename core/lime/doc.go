// Package lime reads LiME (Linux Memory Extractor) physical memory images in
// LiME's own "lime" format: a chain of 32-byte range headers (magic
// 0x4C694D45, stored as "EMiL"; version 1; first and last physical address,
// the last one inclusive), each followed by the bytes of its range.
//
// Info reports the format, variant "lime" and OS family linux; LiME is a
// Linux kernel module, so that much is certain. The architecture is not: the
// headers carry no machine field, so Arch stays empty and a detail says so.
// An image is always a live acquisition, so the crash kind is "none". Ranges
// returns the physical ranges with the file offset of each range's bytes.
//
// LiME's other two output formats, "raw" (the System RAM ranges concatenated)
// and "padded" (all of physical memory from 0, holes zero-filled), have no
// header at all: their content is indistinguishable from any other memory
// image or data file, so Probe cannot recognise them and this package does
// not try. Callers that know a file is raw or padded LiME must say so.
//
// # Robustness
//
// Safe on corrupt and hostile input; fuzzed by FuzzNewFile. NewFile walks the
// header chain with one 32-byte read per range; every range consumes at
// least 33 bytes of file and the walk stops at MaxRanges headers, so work and
// memory are bounded by the file size. A later header with a bad magic, an
// end address before its start, or a range running past the end of the file
// becomes a model.Diagnostic and ends the walk (the truncated range is listed
// with the bytes present); only a missing or wrong first header is an error,
// a *FormatError carrying the file offset.
package lime
