package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Kind names a container format. The values are the usual file extensions,
// which makes them readable in logs and stable in the cache metadata; they
// say nothing about the file's name, which is never consulted.
type Kind string

// The container kinds Detect recognises.
const (
	Gzip  Kind = "gz"  // gzip (RFC 1952), one or more members
	XZ    Kind = "xz"  // xz (LZMA2), one or more streams
	Zstd  Kind = "zst" // Zstandard, one or more frames, optionally skippable frames
	Bzip2 Kind = "bz2" // bzip2, one or more streams
	Zip   Kind = "zip" // ZIP archive; one member is unpacked
	Cab   Kind = "cab" // Microsoft Cabinet; one member is unpacked
)

// archive reports whether k holds several named members (and so needs
// random access and a choice of member) rather than one stream.
func (k Kind) archive() bool { return k == Zip || k == Cab }

// MaxDepth is how many containers may be nested inside each other. Real
// dumps are wrapped at most twice (a .zip of a .gz); the limit stops
// archive quines and deliberately deep nesting from looping.
const MaxDepth = 4

// Defaults used for zero fields of Options.
const (
	DefaultMaxBytes  int64 = 64 << 30  // 64 GiB: larger than any real dump, small enough to stop a bomb
	DefaultMinFree   int64 = 1 << 30   // 1 GiB left for the rest of the system
	DefaultMaxWindow int64 = 512 << 20 // 512 MiB: zstd --long=29, every xz preset (≤ 64 MiB)
	// DefaultMaxRatio: a real dump, even a sparse one, does not come out
	// 20,000 times the size of its archive (64 GiB from 3.3 MB); a bomb of
	// zeros in bzip2, xz or zstd does.
	DefaultMaxRatio int64 = 20_000
)

// ratioFloor is the output below which MaxRatio is not applied: small
// files of zeros compress well without being bombs.
var ratioFloor int64 = 1 << 30 // a variable for the tests

// Options configures Unpack. The zero value is ready to use.
type Options struct {
	// CacheDir receives the unpacked files. Default:
	// os.UserCacheDir()/crashbench/unpacked. It is created with mode 0700 and
	// tightened to 0700 if it exists with wider permissions, because
	// unpacked dumps hold process memory (keys, passwords) of their owner.
	CacheDir string

	// MaxBytes is the size budget of one unpacked file (and of any archive
	// spooled on the way to it). Exceeding it is an error wrapping
	// ErrBudget. It also bounds how much of a CAB folder is decoded,
	// since reaching a member means decoding the folder up to it.
	// Default DefaultMaxBytes.
	MaxBytes int64

	// MinFree is the free space that must remain on the cache filesystem
	// after the expected output has been written; Unpack refuses (ErrNoSpace)
	// when it would not. The expected size is known for zip and cab members;
	// for stream formats it is not, so the free space is re-checked every
	// 64 MiB written instead. Checked on Linux, macOS, FreeBSD and
	// DragonFly (syscall.Statfs); elsewhere only a full disk is reported.
	// Default DefaultMinFree; negative disables the check.
	MinFree int64

	// MaxWindow caps the history a compressed stream may ask the decoder
	// to allocate: the zstd window and the xz (LZMA2) dictionary. Both
	// decoders allocate it up front from a header field, so without a cap a
	// 30-byte hostile file could demand gigabytes. Streams asking for more
	// fail with ErrBudget. Default DefaultMaxWindow.
	MaxWindow int64

	// MaxRatio bounds the unpacked size as a multiple of the size of the
	// file given to Unpack, once past 1 GiB, so that a few kilobytes
	// cannot make the decoder run for minutes; exceeding it is an error
	// wrapping ErrBudget. Default DefaultMaxRatio.
	MaxRatio int64

	// Pick chooses the member of a zip or cab archive that is the dump.
	// It is called for the members in archive order with the member's name
	// and its first bytes (up to 4 KiB; nil when they cannot be read: an
	// LZX folder, an encrypted or damaged member, or a zip member after
	// the first 1024, which bounds the work a hostile archive of many
	// tiny members can cause) and the first member it accepts is
	// unpacked; ErrNoMember if it accepts none. Directories are not
	// offered.
	//
	// Default: the first member whose first bytes look like a dump (MDMP,
	// PAGEDU64, PAGEDUMP, KDUMP, DISKDUMP, an ELF or Mach-O core,
	// makedumpfile, LiME "EMiL", "minidump FreeBSD"); else the largest member that
	// is itself a container (a zip of "vmcore.gz" and "vmlinux" must pick
	// the compressed vmcore although the kernel image is larger); else the
	// largest member.
	Pick func(name string, head []byte) bool

	// Progress, if set, is called as the final output is written (about
	// every MiB and once at the end) with the bytes produced so far and the
	// expected total, or -1 when the total is unknown (stream formats do not
	// record it reliably). A cache hit reports (size, size) once.
	Progress func(done, total int64)
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() (Options, error) {
	if o.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("container: no cache directory: %w", err)
		}
		o.CacheDir = filepath.Join(base, "crashbench", "unpacked")
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MinFree == 0 {
		o.MinFree = DefaultMinFree
	}
	if o.MinFree < 0 {
		o.MinFree = 0
	}
	if o.MaxWindow <= 0 {
		o.MaxWindow = DefaultMaxWindow
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = DefaultMaxRatio
	}
	return o, nil
}

// Unpacked describes the result of Unpack.
type Unpacked struct {
	// Path is the unpacked file in the cache. When the input is no
	// container, Path is the input itself (absolute) and must not be
	// deleted by the caller as if it were a cache file.
	Path string
	// Kind is the outermost container kind, "" when the input is none.
	Kind Kind
	// Member names the unpacked member of a zip or cab, "" for streams.
	// When archives are nested, the names of every level are joined with
	// "!" (outer!inner), as in jar: URLs, because "/" occurs inside names.
	Member string
	// Size is the size of the file at Path.
	Size int64
	// Nested lists every container kind peeled off, outer to inner; a
	// .zip holding a .gz gives [zip gz]. It always starts with Kind, so
	// len(Nested) is the nesting depth (0 for a plain file).
	Nested []Kind
	// Truncated, when not empty, says why the output stops early: the
	// compressed data ended or broke off (a half-copied or damaged
	// archive), and Path holds what was decoded before that, which is
	// the beginning of the dump. Budget, space, cancellation and I/O
	// errors still fail Unpack.
	Truncated string
}

// Sentinel errors, matched with errors.Is against errors returned by Unpack.
var (
	// ErrBudget: the output would exceed Options.MaxBytes, or a stream
	// asks for more decoder history than Options.MaxWindow.
	ErrBudget = errors.New("over budget")
	// ErrNoSpace: the cache filesystem would have less than
	// Options.MinFree left, or is full.
	ErrNoSpace = errors.New("not enough free space in the cache")
	// ErrNoMember: an archive holds no member that Options.Pick accepts
	// (or no file at all).
	ErrNoMember = errors.New("no suitable member in archive")
	// ErrUnsupported: valid but unsupported input, such as an LZX or
	// Quantum CAB folder, a zip compression method without a decoder, an
	// encrypted member, a multi-volume cabinet or nesting deeper than
	// MaxDepth.
	ErrUnsupported = errors.New("unsupported")
	// ErrCorrupt: the data is damaged or truncated. The decoder's own
	// error is wrapped too, so errors.Is works for both (for example
	// ErrCorrupt and gzip.ErrChecksum). Added beside the four sentinels
	// asked for so that callers can tell a bad file from a bad environment.
	ErrCorrupt = errors.New("corrupt or truncated data")
)

// Error is the error type returned by Unpack for anything that goes wrong
// with a particular container: it says which layer failed, where and why.
type Error struct {
	Kind Kind   // the container layer that failed, "" before one is known
	Path string // the file passed to Unpack
	// Off is the offset in the failing layer's input where the problem
	// was found, or -1 when unknown. For stream decoders it is the input
	// consumed so far, an approximation since decoders read ahead; for a
	// zip member, where its data starts.
	Off  int64
	What string // what was being done, in words
	Err  error  // the cause: a sentinel above, a decoder error, ctx.Err(), ...
}

// Error formats as "container: gz /dumps/core.gz at offset 1234: what: cause".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("container:")
	if e.Kind != "" {
		b.WriteString(" " + string(e.Kind))
	}
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	if e.Off >= 0 {
		fmt.Fprintf(&b, " at offset %d", e.Off)
	}
	if e.What != "" {
		b.WriteString(": " + e.What)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, ErrBudget) and
// errors.Is(err, context.Canceled) work.
func (e *Error) Unwrap() error { return e.Err }

// errorf builds an *Error; Path is filled in by Unpack on the way out.
func errorf(k Kind, off int64, cause error, format string, args ...any) *Error {
	return &Error{Kind: k, Off: off, What: fmt.Sprintf(format, args...), Err: cause}
}

// corrupt wraps a decoder error so that it matches both ErrCorrupt and the
// original error.
func corrupt(err error) error {
	if err == nil || errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}
