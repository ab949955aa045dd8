package vmcore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"regexp"
	"slices"
	"sync"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/internal/osfile"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// Variants, as spelled in the JSON report (model.Info.Variant).
const (
	VariantELF        = "elf"
	VariantCompressed = "kdump-compressed"
	VariantFlattened  = "flattened"
)

// ErrUnrecognized says the input is none of the three vmcore containers (or
// an ELF core that the ProbeELF rule does not take for a kernel dump). It
// arrives wrapped in a *FormatError.
var ErrUnrecognized = errors.New("vmcore: not a Linux kernel vmcore")

// ErrNoVMCOREINFO says the dump carries no VMCOREINFO (kdump-compressed
// header_version < 3, or an ELF dump without the note, such as QEMU's
// dump-guest-memory of a guest without the vmcoreinfo device).
var ErrNoVMCOREINFO = errors.New("vmcore: no VMCOREINFO in this dump")

// FormatError reports a structural problem at a file offset. For flattened
// dumps, offsets past the 4 KiB flattened header that come from the inner
// dump are offsets in the rearranged image (what `makedumpfile -R` would
// write), not in the flattened file.
type FormatError struct {
	Off  int64  // file offset of the problem
	What string // what was wrong
	Err  error  // underlying cause (io.ErrUnexpectedEOF, ErrUnrecognized, an *elfx.Error), or nil
}

// Error formats the error as "vmcore: offset 0x1a8: what: cause".
func (e *FormatError) Error() string {
	s := fmt.Sprintf("vmcore: offset %#x: %s", e.Off, e.What)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

// File is an opened Linux kernel vmcore. It is safe for concurrent use.
type File struct {
	r      io.ReaderAt
	size   int64
	closer io.Closer

	variant string
	inner   string // flattened: VariantCompressed or VariantELF

	// The dump as its headers address it: the file itself, or the
	// rearranged image of a flattened file.
	lr         io.ReaderAt
	lsize      int64 // logical size; meaningful only when lsizeKnown
	lsizeKnown bool
	probe      *flatIndex
	fullFlat   func() *flatIndex

	elf *elfPart
	kd  *kdumpPart

	vmcoreinfoRaw []byte
	vmcoreinfoErr error // why the raw text could not be read; nil if read or absent
	vmcoreinfo    func() (map[string]string, error)
	ranges        func() ([]model.Range, error)
	phys          func() (mem.Space, error)

	info model.Info

	mu    sync.Mutex
	diags []model.Diagnostic
}

var (
	_ model.Target      = (*File)(nil)
	_ model.RangeLister = (*File)(nil)
)

// ProbeCompressed reports whether r starts with a kdump-compressed
// disk_dump_header ("KDUMP   ") or a makedumpfile flattened header. It reads
// 24 bytes.
func ProbeCompressed(r io.ReaderAt, size int64) bool {
	var b [SIZE_SIG_MDF + 8]byte
	n, _ := r.ReadAt(b[:], 0)
	return (n >= SIG_LEN && string(b[:SIG_LEN]) == KDUMP_SIGNATURE) || isFlat(b[:n])
}

// ProbeELF reports whether r is an ELF ET_CORE file that is a kernel vmcore
// by the rule in the package documentation ("Telling a vmcore from a process
// core"). It reads the ELF header, the program headers and the notes, all
// bounded by size.
func ProbeELF(r io.ReaderAt, size int64) bool {
	e, _, err := readELF(r, size)
	return err == nil && e.evidence != ""
}

// Open opens the named file with NewFile; Close closes it. File-system
// errors are returned as they come; format errors are *FormatError.
func Open(path string) (*File, error) {
	f, file, err := osfile.Open(path, NewFile)
	if err != nil {
		return nil, err
	}
	f.closer = file
	return f, nil
}

// NewFile reads the headers of an ELF, kdump-compressed or flattened vmcore:
// the ELF header, program headers and notes; or the disk_dump_header, the
// kdump_sub_header, the notes and VMCOREINFO, and checks that the page data
// is all there. Page bitmaps are read by Ranges.
// Every error is a *FormatError.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, &FormatError{Off: 0, What: fmt.Sprintf("negative size %d", size)}
	}
	f := &File{r: r, size: size, lr: r, lsize: size, lsizeKnown: true}
	var head [SIZE_SIG_MDF + 8]byte
	n, _ := r.ReadAt(head[:], 0)
	var err error
	switch {
	case n >= SIG_LEN && string(head[:SIG_LEN]) == KDUMP_SIGNATURE:
		f.variant = VariantCompressed
		err = f.parseKdump()
	case isFlat(head[:n]):
		f.variant = VariantFlattened
		err = f.parseFlat()
	case elfx.IsELF(head[:n]):
		f.variant = VariantELF
		err = f.parseELF()
	default:
		err = &FormatError{Off: 0, What: "no KDUMP, makedumpfile or ELF signature", Err: ErrUnrecognized}
	}
	if err != nil {
		return nil, err
	}
	f.vmcoreinfo = sync.OnceValues(f.parseVMCOREINFO)
	f.ranges = sync.OnceValues(f.computeRanges)
	f.phys = sync.OnceValues(f.buildPhys)
	f.info = f.buildInfo()
	if f.variant == VariantCompressed {
		f.kdumpCheckTruncation()
	}
	return f, nil
}

// parseFlat indexes the first flattened records and reads the inner dump
// through them.
func (f *File) parseFlat() error {
	// isFlat checked the signature and type; the version follows them.
	var vb [8]byte
	if _, err := f.r.ReadAt(vb[:], SIZE_SIG_MDF+8); err == nil {
		if v := int64(binary.BigEndian.Uint64(vb[:])); v != VERSION_FLAT_HEADER {
			f.addDiag(model.Note, SIZE_SIG_MDF+8, fmt.Sprintf("flattened header version %d (this reader knows %d)", v, VERSION_FLAT_HEADER))
		}
	}
	if f.size < MAX_SIZE_MDF_HEADER {
		return &FormatError{Off: f.size, What: fmt.Sprintf("flattened header needs %d bytes, file has %d", MAX_SIZE_MDF_HEADER, f.size), Err: io.ErrUnexpectedEOF}
	}
	f.probe = scanFlat(f.r, f.size, maxProbeRecords)
	for _, d := range f.probe.diags {
		f.addDiag(d.Severity, d.Off, d.Msg)
	}
	f.fullFlat = sync.OnceValue(func() *flatIndex {
		if f.probe.complete {
			return f.probe
		}
		return scanFlat(f.r, f.size, 0)
	})
	f.lr, f.lsize, f.lsizeKnown = f.probe, f.probe.end, f.probe.complete
	var in [SIG_LEN]byte
	if n, _ := f.probe.ReadAt(in[:], 0); n < len(in) {
		return &FormatError{Off: MAX_SIZE_MDF_HEADER, What: fmt.Sprintf("no flattened record among the first %d supplies the start of the dump", maxProbeRecords), Err: io.ErrUnexpectedEOF}
	}
	switch {
	case string(in[:]) == KDUMP_SIGNATURE:
		f.inner = VariantCompressed
		return f.parseKdump()
	case elfx.IsELF(in[:]):
		f.inner = VariantELF
		return f.parseELF()
	}
	return &FormatError{Off: 0, What: "flattened dump holds neither a KDUMP header nor an ELF file", Err: ErrUnrecognized}
}

// readAt reads n bytes at offset off of the dump as its headers address it.
// Allocation is bounded by the file size: a flattened file holds at least as
// many bytes as the image it rearranges into.
func (f *File) readAt(off, n int64, what string) ([]byte, error) {
	if off < 0 || n < 0 || n > f.size || (f.lsizeKnown && (off > f.lsize || n > f.lsize-off)) {
		size := f.size
		if f.lsizeKnown {
			size = f.lsize
		}
		return nil, &FormatError{Off: off, What: fmt.Sprintf("%s (%d bytes at %#x) lies outside the file (size %d)", what, n, off, size), Err: io.ErrUnexpectedEOF}
	}
	buf := make([]byte, n)
	m, err := f.lr.ReadAt(buf, off)
	if m < len(buf) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, &FormatError{Off: off + int64(m), What: "reading " + what, Err: err}
	}
	return buf, nil
}

// addDiag records a diagnostic once.
func (f *File) addDiag(sev model.Severity, off int64, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := model.Diagnostic{Severity: sev, Off: off, Msg: msg}
	if slices.Contains(f.diags, d) {
		return
	}
	f.diags = append(f.diags, d)
}

// addErr records err as a diagnostic, taking the offset from a *FormatError
// or *elfx.Error.
func (f *File) addErr(sev model.Severity, err error) {
	var fe *FormatError
	var ee *elfx.Error
	off := int64(-1)
	switch {
	case errors.As(err, &fe):
		off = fe.Off
	case errors.As(err, &ee):
		off = ee.Off
	}
	f.addDiag(sev, off, err.Error())
}

// VMCOREINFO returns the dump's VMCOREINFO entries (see ParseVMCOREINFO),
// parsed once. It returns ErrNoVMCOREINFO when the dump has none and a
// *FormatError when the headers point at text that cannot be read.
func (f *File) VMCOREINFO() (map[string]string, error) {
	m, err := f.vmcoreinfo()
	if err != nil {
		return nil, err
	}
	return maps.Clone(m), nil
}

func (f *File) parseVMCOREINFO() (map[string]string, error) {
	if f.vmcoreinfoErr != nil {
		return nil, f.vmcoreinfoErr
	}
	if f.vmcoreinfoRaw == nil {
		return nil, ErrNoVMCOREINFO
	}
	return ParseVMCOREINFO(f.vmcoreinfoRaw), nil
}

// Info returns the header summary.
func (f *File) Info() model.Info {
	i := f.info
	i.Details = slices.Clone(i.Details)
	if i.Crash != nil {
		c := *i.Crash
		i.Crash = &c
	}
	return i
}

// Diagnostics returns the recoverable problems found so far: by NewFile, and
// by Ranges once it has run.
func (f *File) Diagnostics() []model.Diagnostic {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.diags)
}

// Ranges lists the memory the dump holds, as physical ranges: the PT_LOAD
// segments of an ELF vmcore (FileOff = p_offset; -1 inside a flattened file),
// or the runs of dumpable pages in the kdump-compressed bitmap (FileOff = -1:
// the pages are stored compressed, one page_desc each). Computed once.
func (f *File) Ranges() ([]model.Range, error) {
	rs, err := f.ranges()
	return slices.Clone(rs), err
}

func (f *File) computeRanges() ([]model.Range, error) {
	lr, lsize := f.lr, f.lsize
	if f.variant == VariantFlattened {
		// Bitmaps and segment data lie beyond the records NewFile probed.
		full := f.fullFlat()
		if full != f.probe {
			for _, d := range full.diags {
				f.addDiag(d.Severity, d.Off, d.Msg)
			}
		}
		lr, lsize = full, full.end
	}
	if f.elf != nil {
		return f.elfRanges(lsize), nil
	}
	return f.kdumpRanges(lr, lsize)
}

// Close closes the file if Open opened it.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// buildInfo assembles the summary from what NewFile read.
func (f *File) buildInfo() model.Info {
	info := model.Info{
		Format:  model.LinuxVMCore,
		Variant: f.variant,
		OS:      model.OS{Family: model.Linux},
		Threads: -1,
		Modules: -1,
	}
	vi, _ := f.vmcoreinfo()
	if f.kd != nil {
		f.checkPhysBase(vi)
		f.kd.fillInfo(f, &info, vi)
	} else {
		f.elf.fillInfo(&info)
	}
	if info.OS.Release == "" {
		info.OS.Release = vi["OSRELEASE"]
	}
	info.OS.Version = kernelVersion(info.OS.Release)
	if t, ok := crashTime(vi); ok {
		if info.Time.IsZero() {
			info.Time = t
		}
		// CRASHTIME is appended by crash_save_vmcoreinfo, which only
		// __crash_kexec calls: the kernel panicked (or died of an oops
		// that kexec_should_crash turned into a crash) and the capture
		// kernel took the dump. The panic string is in the kernel log.
		info.Crash = &model.Crash{Kind: model.Panic}
	}
	if f.variant == VariantFlattened {
		inner := "kdump-compressed"
		if f.inner == VariantELF {
			inner = "ELF"
		}
		info.Details = append([]model.Detail{{Key: "Flattened content", Value: inner}}, info.Details...)
	}
	for _, k := range vmcoreinfoDetailKeys {
		if v, ok := vi[k]; ok {
			info.Details = append(info.Details, model.Detail{Key: k, Value: v})
		}
	}
	return info
}

var versionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*`)

// kernelVersion returns the numeric head of a kernel release
// ("6.1.0-26-amd64" → "6.1.0").
func kernelVersion(release string) string {
	return versionRE.FindString(release)
}

// safeInt64 converts an unsigned file offset, saturating.
func safeInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}
