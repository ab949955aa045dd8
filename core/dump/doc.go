// Package dump identifies a file by its content and opens it with the right
// format package. Detection never looks at the file name.
//
// Probing happens in one fixed, explicit order (Formats): each format's
// Probe only checks magic bytes, and the first that matches owns the file;
// the format packages do all parsing. A file that no format claims is
// described by what it looks like instead (an executable, a symbol file,
// text), so the user learns why it is not a dump.
//
// Compressed and archived dumps (.gz .xz .zst .bz2 .zip .cab) are unpacked
// into the per-user cache by package container before probing.
package dump
