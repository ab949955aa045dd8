package dump

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/crashbench/crashbench/core/container"
	"github.com/crashbench/crashbench/core/elfcore"
	"github.com/crashbench/crashbench/core/fbsd"
	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/lime"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/minidump"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/vmcore"
)

// Format is one dump format in the probe order.
type Format struct {
	Name  string // short name used in errors and logs
	Looks string // what a file that matches the probe looks like, for error messages
	Probe func(r io.ReaderAt, size int64) bool
	Open  func(r io.ReaderAt, size int64) (model.Target, error)
}

// Formats is the probe order. Signatures at offset 0 come first; among the
// ELF cores, kernel vmcores (VMCOREINFO or QEMU notes) and FreeBSD full
// dumps are claimed before the generic process core, which accepts any
// ET_CORE.
var Formats = []Format{
	{"minidump", "a Windows user-mode minidump (MDMP)", minidump.Probe, func(r io.ReaderAt, n int64) (model.Target, error) { return minidump.NewFile(r, n) }},
	{"kdmp", "a Windows kernel dump (PAGEDUMP/PAGEDU64)", kdmp.Probe, func(r io.ReaderAt, n int64) (model.Target, error) { return kdmp.NewFile(r, n) }},
	{"kdump-compressed", "a makedumpfile kdump-compressed or flattened Linux vmcore", vmcore.ProbeCompressed, openVMCore},
	{"lime", "a LiME memory image", lime.Probe, func(r io.ReaderAt, n int64) (model.Target, error) { return lime.NewFile(r, n) }},
	{"fbsd", "a FreeBSD kernel minidump", fbsd.Probe, func(r io.ReaderAt, n int64) (model.Target, error) { return fbsd.NewFile(r, n) }},
	{"vmcore", "a Linux kernel vmcore (ELF)", vmcore.ProbeELF, openVMCore},
	{"fbsd-elf", "a FreeBSD full kernel dump (ELF)", fbsd.ProbeELF, func(r io.ReaderAt, n int64) (model.Target, error) { return fbsd.NewELFFile(r, n) }},
	{"elfcore", "an ELF process core", elfcore.Probe, func(r io.ReaderAt, n int64) (model.Target, error) { return elfcore.NewFile(r, n) }},
}

func openVMCore(r io.ReaderAt, n int64) (model.Target, error) { return vmcore.NewFile(r, n) }

// ErrUnrecognized matches errors for files that are not dumps Crashbench
// knows.
var ErrUnrecognized = errors.New("not a recognized dump")

// Error says why a file could not be opened as a dump: what it looks like,
// where the problem is and what is wrong.
type Error struct {
	Path      string
	LooksLike string // "a Windows kernel dump", "an ELF executable", "a text file"
	Off       int64
	What      string
	Err       error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: looks like %s: offset %#x: %s", e.Path, e.LooksLike, e.Off, e.What)
	if e.Err != nil && e.What == "" {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error (a format package's structured error,
// or ErrUnrecognized).
func (e *Error) Unwrap() error { return e.Err }

// offsetOf extracts the file offset from a format package's error.
func offsetOf(err error) (int64, string) {
	var (
		md *minidump.FormatError
		ec *elfcore.FormatError
		vc *vmcore.FormatError
		kd *kdmp.FormatError
		li *lime.FormatError
		fb *fbsd.FormatError
	)
	switch {
	case errors.As(err, &kd):
		return kd.Off, kd.What + suffix(kd.Err)
	case errors.As(err, &li):
		return li.Off, li.What + suffix(li.Err)
	case errors.As(err, &fb):
		return fb.Off, fb.What + suffix(fb.Err)
	case errors.As(err, &vc):
		return vc.Off, vc.What + suffix(vc.Err)
	case errors.As(err, &md):
		return md.Off, md.What + suffix(md.Err)
	case errors.As(err, &ec):
		return ec.Off, ec.What + suffix(ec.Err)
	}
	return formatOffset(err)
}

func suffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// Detect returns the first format whose probe accepts r.
func Detect(r io.ReaderAt, size int64) (Format, bool) {
	for _, f := range Formats {
		if f.Probe(r, size) {
			return f, true
		}
	}
	return Format{}, false
}

// NewTarget detects the format of r and opens it. name is used in errors.
func NewTarget(r io.ReaderAt, size int64, name string) (model.Target, Format, error) {
	f, ok := Detect(r, size)
	if !ok {
		looks, off, what := sniff(r, size)
		return nil, Format{}, &Error{Path: name, LooksLike: looks, Off: off, What: what, Err: ErrUnrecognized}
	}
	t, err := f.Open(r, size)
	if err != nil {
		off, what := offsetOf(err)
		return nil, f, &Error{Path: name, LooksLike: f.Looks, Off: off, What: what, Err: err}
	}
	return t, f, nil
}

// Options configure Open.
type Options struct {
	Container container.Options // where and how compressed dumps are unpacked
}

// Dump is an opened dump file.
type Dump struct {
	model.Target
	Format     Format
	Path       string           // the path the user gave
	Size       int64            // size of the file as given
	Unpacked   string           // the unpacked file in the cache, "" when not compressed
	Containers []container.Kind // outer to inner
	// Truncated says why the unpacked data stops early when the archive
	// was cut off or damaged: the dump is its beginning (see Diagnostics).
	Truncated string
	file      *mem.MappedFile
}

// Open opens a dump file, unpacking it first when it is compressed or
// archived.
func Open(ctx context.Context, path string, o Options) (*Dump, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &Error{Path: path, LooksLike: "a directory", What: "not a file", Err: ErrUnrecognized}
	}
	d := &Dump{Path: path, Size: st.Size()}
	real := path
	if kind, ok := detectContainer(path); ok {
		u, err := container.Unpack(ctx, path, o.Container)
		if err != nil {
			off, what := containerFailure(err)
			return nil, &Error{Path: path, LooksLike: "a " + string(kind) + " archive", Off: off, What: what, Err: err}
		}
		d.Unpacked = u.Path
		d.Containers = u.Nested
		d.Truncated = u.Truncated
		real = u.Path
	}
	mf, err := mem.OpenFile(real)
	if err != nil {
		return nil, err
	}
	t, f, err := NewTarget(mf, mf.Size(), path)
	if err != nil {
		mf.Close()
		return nil, err
	}
	// systemd-coredump names its files with the crash's time, uid and
	// boot: the only place a process core's time is recorded.
	if ef, ok := t.(*elfcore.File); ok {
		c, named := elfcore.ParseCoredumpName(filepath.Base(path))
		c, tagged := elfcore.ReadCoredumpXattrs(path, c)
		if named || tagged {
			ef.SetCoredump(c)
		}
	}
	d.Target, d.Format, d.file = t, f, mf
	return d, nil
}

// Diagnostics are the target's, after what the container said: a cut-off
// archive gives a truncated dump, which the parser may or may not notice.
func (d *Dump) Diagnostics() []model.Diagnostic {
	ds := d.Target.Diagnostics()
	if d.Truncated == "" {
		return ds
	}
	c := model.Diagnostic{Severity: model.Warning, Off: -1,
		Msg: fmt.Sprintf("the archive is cut off or damaged: only its first %d bytes of dump could be unpacked, so the dump is truncated there (%s)", d.unpackedSize(), d.Truncated)}
	return append([]model.Diagnostic{c}, ds...)
}

func (d *Dump) unpackedSize() int64 {
	if d.file != nil {
		return d.file.Size()
	}
	return 0
}

// Close releases the target and the mapped file.
func (d *Dump) Close() error {
	err := d.Target.Close()
	if cerr := d.file.Close(); err == nil {
		err = cerr
	}
	return err
}

func detectContainer(path string) (container.Kind, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", false
	}
	return container.Detect(f, st.Size())
}

// containerFailure says where and why unpacking failed: "cannot unpack:
// bz2 data: bzip2 data invalid: ..." rather than the bare verdict, so that a
// truncated archive and a budget that was hit read differently.
func containerFailure(err error) (int64, string) {
	var ce *container.Error
	if !errors.As(err, &ce) {
		return 0, "cannot unpack: " + err.Error()
	}
	what := "cannot unpack"
	if ce.What != "" {
		what += ": " + ce.What
	}
	if ce.Err != nil {
		what += ": " + ce.Err.Error()
	}
	return max(ce.Off, 0), what
}
