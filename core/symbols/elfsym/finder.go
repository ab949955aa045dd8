package elfsym

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/crashbench/crashbench/core/model"
)

// ntGNUBuildID is the type of the GNU build-id note.
const ntGNUBuildID = 3

// maxNoteSize bounds the note data read from one section or segment.
const maxNoteSize = 1 << 20

// maxDebuglinkSize bounds the .gnu_debuglink section: a file name, its
// padding and a CRC.
const maxDebuglinkSize = 4096

// DefaultDebugDir is GDB's default debug-file-directory, where
// distributions install separate debug files (Debian's *-dbg and *-dbgsym
// packages, Fedora's debuginfo packages).
const DefaultDebugDir = "/usr/lib/debug"

// Kinds of file a FetchFunc is asked for, as debuginfod names them in its
// URLs (/buildid/<hex>/debuginfo, /buildid/<hex>/executable).
const (
	KindDebuginfo  = "debuginfo"
	KindExecutable = "executable"
)

// FetchFunc fetches the file of the given kind (KindDebuginfo or
// KindExecutable) for a build id, typically from a debuginfod server, and
// returns its local path. The Finder checks the file's build id itself.
type FetchFunc func(ctx context.Context, buildID []byte, kind string) (path string, err error)

// Finder locates the ELF files of a module: the image (the executable or
// shared object that was mapped, whose bytes and .eh_frame the session
// uses) and its separate debug file (.symtab and DWARF split off by
// strip/objcopy --only-keep-debug). The search order is in the package
// documentation. A nil *Finder finds nothing.
type Finder struct {
	// Dirs are searched first, for images by module file name and for
	// both kinds by the build-id layouts of GDB and debuginfod caches.
	Dirs []string
	// Files are images named one by one (gdb's `file`, WinDbg's -i): each
	// is used for the module whose build id it has, whatever its name.
	Files []string
	// Sysroot, when set, is where the dumped machine's file system is
	// (GDB's "set sysroot"): a module path /usr/lib/x.so is looked for at
	// Sysroot/usr/lib/x.so instead of on this machine.
	Sysroot string
	// DebugDirs are GDB's debug-file-directory list; nil means
	// DefaultDebugDir. With Sysroot set each is tried under it first.
	DebugDirs []string
	// Fetch, when set, is asked after the local lookups fail (for
	// KindExecutable by Find, KindDebuginfo by FindDebug). It keeps
	// network clients such as package debuginfod out of this package.
	Fetch FetchFunc
}

// Find returns the path of the image file of m (see FindContext).
func (f *Finder) Find(m model.Module) (path string, ok bool) {
	return f.FindContext(context.Background(), m)
}

// FindContext returns the path of the image file of m: the executable or
// shared object whose GNU build id equals the module's (Module.BuildID,
// else Module.CodeID decoded from hex). It tries, in order, each of Files
// (for a module with a build id), then for each Dir:
// <dir>/<module file name>, <dir>/<buildid>/executable (debuginfod
// cache), <dir>/.build-id/<xx>/<rest> (GDB's symlink to the image); then
// the module's own path (under Sysroot when set); then
// <debugdir>/.build-id/<xx>/<rest> for each DebugDir; then Fetch.
//
// A file that does not match is skipped: one without the module's build
// id, and a separate debug file (its code is NOBITS, so it cannot stand
// for the image in memory or give .eh_frame). A module that records no
// build id accepts only files without a build-id note.
func (f *Finder) FindContext(ctx context.Context, m model.Module) (path string, ok bool) {
	if f == nil {
		return "", false
	}
	id := moduleBuildID(m)
	hexID := hex.EncodeToString(id)
	var cands []string
	if len(id) > 0 {
		cands = append(cands, f.Files...)
	}
	name := m.Name()
	useName := name != "" && name != "." && name != ".." && name != "/"
	for _, dir := range f.Dirs {
		if useName {
			cands = append(cands, filepath.Join(dir, name))
		}
		if len(id) > 0 {
			cands = append(cands, filepath.Join(dir, hexID, KindExecutable))
			if rel := buildIDPath(hexID, ""); rel != "" {
				cands = append(cands, filepath.Join(dir, rel))
			}
		}
	}
	if p := f.hostPath(m.Path); p != "" {
		cands = append(cands, p)
	}
	if rel := buildIDPath(hexID, ""); rel != "" && len(id) > 0 {
		for _, d := range f.debugDirs() {
			cands = append(cands, filepath.Join(d, rel))
		}
	}
	for _, p := range cands {
		if info, ok := inspect(p); ok && info.idMatches(id) && !info.debugOnly {
			return p, true
		}
	}
	// A core without the ELF headers of its mappings (coredump_filter
	// without bit 4) records no build ids. gdb then loads the file at the
	// module's path; so does Find, but only when the file's loadable
	// extent is exactly the module's, so that another build of the
	// library is not taken for it.
	if p := f.hostPath(m.Path); p != "" && len(id) == 0 && m.Size > 0 {
		if info, ok := inspect(p); ok && !info.debugOnly && info.extent == m.Size {
			return p, true
		}
	}
	if f.Fetch != nil && len(id) > 0 {
		if p, err := f.Fetch(ctx, id, KindExecutable); err == nil {
			if info, ok := inspect(p); ok && info.idMatches(id) && !info.debugOnly {
				return p, true
			}
		}
	}
	return "", false
}

// FindDebug returns the path of the separate debug file of m (see
// FindDebugContext).
func (f *Finder) FindDebug(m model.Module, image string) (path string, ok bool) {
	return f.FindDebugContext(context.Background(), m, image)
}

// FindDebugContext returns the path of the separate debug file of m,
// whose image (as Find returned it) is at image, "" when there is none.
// It tries, in GDB's order: <debugdir>/.build-id/<xx>/<rest>.debug for
// each DebugDir (under Sysroot first when set); <dir>/.build-id/<xx>/
// <rest>.debug and <dir>/<buildid>/debuginfo (debuginfod cache) for each
// Dir; the image's .gnu_debuglink name in the image's directory, in its
// .debug subdirectory and in <debugdir>/<image's directory>; then Fetch.
//
// The build id is the module's, else the image's. A build-id lookup
// takes only a file with that build id; a debuglink candidate must have
// the CRC32 the image records and, when both have one, the same build id.
func (f *Finder) FindDebugContext(ctx context.Context, m model.Module, image string) (path string, ok bool) {
	if f == nil {
		return "", false
	}
	id := moduleBuildID(m)
	var link debuglink
	if image != "" {
		if info, ok := inspect(image); ok {
			if len(id) == 0 {
				id = info.buildID
			}
			link = info.link
		}
	}
	hexID := hex.EncodeToString(id)
	if rel := buildIDPath(hexID, ".debug"); rel != "" && len(id) > 0 {
		var cands []string
		for _, d := range f.debugDirs() {
			cands = append(cands, filepath.Join(d, rel))
		}
		for _, dir := range f.Dirs {
			cands = append(cands, filepath.Join(dir, rel), filepath.Join(dir, hexID, KindDebuginfo))
		}
		for _, p := range cands {
			if info, ok := inspect(p); ok && len(info.buildID) > 0 && info.idMatches(id) && !sameFile(p, image) {
				return p, true
			}
		}
	}
	if link.name != "" {
		for _, p := range f.debuglinkCandidates(image, link.name) {
			if sameFile(p, image) {
				continue
			}
			info, ok := inspect(p)
			if !ok || (len(id) > 0 && len(info.buildID) > 0 && !bytes.Equal(info.buildID, id)) {
				continue
			}
			if crc, err := fileCRC32(p); err == nil && crc == link.crc {
				return p, true
			}
		}
	}
	if f.Fetch != nil && len(id) > 0 {
		if p, err := f.Fetch(ctx, id, KindDebuginfo); err == nil {
			if info, ok := inspect(p); ok && len(info.buildID) > 0 && info.idMatches(id) {
				return p, true
			}
		}
	}
	return "", false
}

// debugDirs returns the debug-file directories to search: each DebugDir
// under Sysroot (when set), then as is; a build id or CRC check rejects
// a host file that is not the dumped machine's.
func (f *Finder) debugDirs() []string {
	dirs := f.DebugDirs
	if dirs == nil {
		dirs = []string{DefaultDebugDir}
	}
	var out []string
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if f.Sysroot != "" {
			out = append(out, filepath.Join(f.Sysroot, d))
		}
		out = append(out, d)
	}
	return out
}

// hostPath returns where the module path p (a path on the dumped
// machine) is on this one: under Sysroot when set, else p itself. Only
// absolute slash paths qualify; "" otherwise.
func (f *Finder) hostPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return ""
	}
	if f.Sysroot != "" {
		return filepath.Join(f.Sysroot, filepath.FromSlash(p))
	}
	return filepath.FromSlash(p)
}

// debuglinkCandidates returns GDB's places for a debuglink name: the
// image's directory, its .debug subdirectory, and each debug directory
// followed by the image's directory (taken relative to Sysroot when the
// image lies under it, since the debug tree mirrors the dumped machine).
func (f *Finder) debuglinkCandidates(image, name string) []string {
	// The name is a file name; a path in it could point anywhere.
	if name != filepath.Base(name) || name != path.Base(name) || name == "." || name == ".." {
		return nil
	}
	dir := filepath.Dir(image)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	out := []string{filepath.Join(dir, name), filepath.Join(dir, ".debug", name)}
	rel := dir
	if f.Sysroot != "" {
		if root, err := filepath.Abs(f.Sysroot); err == nil {
			if r, err := filepath.Rel(root, dir); err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				rel = string(filepath.Separator) + r
			}
		}
	}
	rels := []string{rel}
	// GDB also tries the directory with symlinks resolved (/lib is
	// /usr/lib on merged-/usr systems, and debug trees mirror only one).
	if real, err := filepath.EvalSymlinks(dir); err == nil && real != dir && f.Sysroot == "" {
		rels = append(rels, real)
	}
	for _, d := range f.debugDirs() {
		for _, r := range rels {
			// Joining "/usr/lib/debug" and "C:\x" must keep the volume out.
			r = strings.TrimPrefix(r, filepath.VolumeName(r))
			out = append(out, filepath.Join(d, r, name))
		}
	}
	return out
}

// buildIDPath returns the GDB build-id layout path .build-id/<xx>/<rest>
// plus suffix, "" for an id too short to split.
func buildIDPath(hexID, suffix string) string {
	if len(hexID) <= 2 {
		return ""
	}
	return filepath.Join(".build-id", hexID[:2], hexID[2:]+suffix)
}

// sameFile reports whether p and q name the same existing file.
func sameFile(p, q string) bool {
	if p == "" || q == "" {
		return false
	}
	a, err := os.Stat(p)
	if err != nil {
		return false
	}
	b, err := os.Stat(q)
	return err == nil && os.SameFile(a, b)
}

// moduleBuildID returns the module's GNU build id: BuildID, else CodeID
// when it is hex (a PE CodeID is hex too, but then no ELF note matches).
func moduleBuildID(m model.Module) []byte {
	if len(m.BuildID) > 0 {
		return m.BuildID
	}
	if m.CodeID != "" {
		if b, err := hex.DecodeString(strings.TrimSpace(m.CodeID)); err == nil && len(b) > 0 {
			return b
		}
	}
	return nil
}

// fileInfo is what the Finder needs to know of a candidate ELF file.
type fileInfo struct {
	buildID []byte
	// debugOnly: an allocated executable section is NOBITS, the mark of
	// objcopy --only-keep-debug (the code stayed in the image).
	debugOnly bool
	link      debuglink
	// extent is the span of the PT_LOAD segments, from the first one's
	// page to the last one's end rounded up to a page: what a mapping of
	// the file covers.
	extent uint64
}

// debuglink is the content of a .gnu_debuglink section.
type debuglink struct {
	name string
	crc  uint32
}

// idMatches reports whether the file has build id id, or none when id is
// empty.
func (fi fileInfo) idMatches(id []byte) bool {
	if len(id) == 0 {
		return fi.buildID == nil
	}
	return bytes.Equal(fi.buildID, id)
}

// inspect reads the build id, debug-only mark and debuglink of the
// regular ELF file at p; ok is false when p is not one.
func inspect(p string) (info fileInfo, ok bool) {
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return fileInfo{}, false
	}
	fh, err := os.Open(p)
	if err != nil {
		return fileInfo{}, false
	}
	defer fh.Close()
	defer func() {
		if recover() != nil {
			info, ok = fileInfo{}, false
		}
	}()
	ef, err := elf.NewFile(fh)
	if err != nil {
		return fileInfo{}, false
	}
	defer ef.Close()
	info.buildID, _ = buildID(ef)
	info.debugOnly = isDebugOnly(ef)
	info.link = readDebuglink(ef)
	lo, hi := ^uint64(0), uint64(0)
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD && p.Memsz > 0 {
			lo, hi = min(lo, p.Vaddr&^pageMask), max(hi, p.Vaddr+p.Memsz)
		}
	}
	if lo < hi {
		info.extent = (hi+pageMask)&^pageMask - lo
	}
	return info, true
}

// isDebugOnly reports whether ef is a separate debug file: one whose
// allocated executable sections hold no bytes.
func isDebugOnly(ef *elf.File) bool {
	for _, s := range ef.Sections {
		if s.Type == elf.SHT_NOBITS && s.Flags&(elf.SHF_ALLOC|elf.SHF_EXECINSTR) == elf.SHF_ALLOC|elf.SHF_EXECINSTR && s.Size > 0 {
			return true
		}
	}
	return false
}

// readDebuglink parses .gnu_debuglink: a NUL-terminated file name, zero
// padding to 4 bytes, and the CRC32 of the debug file in the file's byte
// order. See https://sourceware.org/gdb/current/onlinedocs/gdb.html/Separate-Debug-Files.html
func readDebuglink(ef *elf.File) debuglink {
	s := ef.Section(".gnu_debuglink")
	if s == nil || s.Type == elf.SHT_NOBITS || s.Size < 8 || s.Size > maxDebuglinkSize {
		return debuglink{}
	}
	b, err := s.Data()
	if err != nil {
		return debuglink{}
	}
	n := bytes.IndexByte(b, 0)
	if n <= 0 {
		return debuglink{}
	}
	off := (n + 4) &^ 3
	if off+4 > len(b) {
		return debuglink{}
	}
	return debuglink{name: string(b[:n]), crc: ef.ByteOrder.Uint32(b[off:])}
}

// fileCRC32 returns the CRC32 (IEEE, as zlib and GNU binutils compute
// it for debuglinks) of the file at p.
func fileCRC32(p string) (uint32, error) {
	fh, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, fh); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}

// BuildID returns the GNU build id of the ELF file at path, nil when it
// has none.
func BuildID(path string) (id []byte, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	defer func() {
		if p := recover(); p != nil {
			id, err = nil, fmt.Errorf("malformed ELF: %v", p)
		}
	}()
	ef, err := elf.NewFile(fh)
	if err != nil {
		return nil, err
	}
	defer ef.Close()
	return buildID(ef)
}

// buildID returns the desc of the first NT_GNU_BUILD_ID note in the
// file's SHT_NOTE sections, else its PT_NOTE segments (stripped files may
// lack section headers).
func buildID(ef *elf.File) ([]byte, error) {
	for _, s := range ef.Sections {
		if s.Type != elf.SHT_NOTE || s.Size == 0 || s.Size > maxNoteSize {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		if id := gnuBuildID(b, ef.ByteOrder); id != nil {
			return id, nil
		}
	}
	for _, p := range ef.Progs {
		if p.Type != elf.PT_NOTE || p.Filesz == 0 || p.Filesz > maxNoteSize {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			continue
		}
		if id := gnuBuildID(b, ef.ByteOrder); id != nil {
			return id, nil
		}
	}
	return nil, nil
}

// gnuBuildID scans a run of ELF notes for NT_GNU_BUILD_ID owned by "GNU".
func gnuBuildID(b []byte, bo binary.ByteOrder) []byte {
	for len(b) >= 12 {
		namesz, descsz, typ := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		b = b[12:]
		nameEnd := (namesz + 3) &^ 3
		if nameEnd > uint64(len(b)) {
			return nil
		}
		name := b[:namesz]
		b = b[nameEnd:]
		descEnd := (descsz + 3) &^ 3
		if descsz > uint64(len(b)) {
			return nil
		}
		desc := b[:descsz]
		if descEnd > uint64(len(b)) {
			descEnd = uint64(len(b))
		}
		b = b[descEnd:]
		if typ == ntGNUBuildID && string(bytes.TrimRight(name, "\x00")) == "GNU" && len(desc) > 0 {
			return bytes.Clone(desc)
		}
	}
	return nil
}
