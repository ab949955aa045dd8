package elfcore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/core/codes"
	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/internal/osfile"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// FormatError reports a structural problem at a file offset.
type FormatError struct {
	Off  int64
	What string
	Err  error
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("elfcore: offset %#x: %s", e.Off, e.What)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// File is an open process core.
type File struct {
	r      io.ReaderAt
	size   int64
	closer io.Closer

	Header *elfx.Header
	Progs  []elfx.Prog
	Notes  []elfx.Note

	mu       sync.Mutex
	diags    []model.Diagnostic
	coredump *Coredump // from a systemd-coredump file name, see SetCoredump
	info     func() model.Info
	memory   func() (mem.Space, error)
}

var (
	_ model.Target           = (*File)(nil)
	_ model.RangeLister      = (*File)(nil)
	_ model.ThreadLister     = (*File)(nil)
	_ model.ModuleLister     = (*File)(nil)
	_ model.MemoryReader     = (*File)(nil)
	_ model.ExceptionContext = (*File)(nil)
)

// Probe reports whether r is an ELF core file. Kernel vmcores pass too:
// core/dump asks package vmcore first.
func Probe(r io.ReaderAt, size int64) bool {
	var b [18]byte
	if _, err := r.ReadAt(b[:], 0); err != nil || !elfx.IsELF(b[:]) {
		return false
	}
	var typ uint16
	switch b[5] {
	case elfx.ELFDATA2LSB:
		typ = binary.LittleEndian.Uint16(b[16:])
	case elfx.ELFDATA2MSB:
		typ = binary.BigEndian.Uint16(b[16:])
	}
	return typ == elfx.ET_CORE
}

// Open opens the named file.
func Open(path string) (*File, error) {
	f, file, err := osfile.Open(path, NewFile)
	if err != nil {
		return nil, err
	}
	f.closer = file
	return f, nil
}

// NewFile reads the ELF header, program headers and notes.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	h, err := elfx.ReadHeader(r, size)
	if err != nil {
		return nil, wrap(err)
	}
	if h.Type != elfx.ET_CORE {
		return nil, &FormatError{Off: 16, What: fmt.Sprintf("e_type %d is not ET_CORE", h.Type)}
	}
	f := &File{r: r, size: size, Header: h}
	f.Progs, err = elfx.ReadProgs(r, size, h)
	if err != nil {
		return nil, wrap(err)
	}
	notes, errs := elfx.ReadNotes(r, size, h, f.Progs)
	f.Notes = notes
	for _, e := range errs {
		f.diag(model.Warning, errOff(e), e.Error())
	}
	for _, p := range f.Progs {
		if p.Type == elfx.PT_LOAD && p.Filesz > 0 && p.Off+p.Filesz > uint64(size) {
			f.diag(model.Warning, int64(min(p.Off, uint64(size))),
				fmt.Sprintf("PT_LOAD %#x (%d bytes at file offset %#x) runs past the end of the file: the core is truncated", p.Vaddr, p.Filesz, p.Off))
		}
	}
	// gdb's gcore and some kernels write section headers after the
	// segments: a file cut there has every segment whole, but is cut all
	// the same.
	if h.Shoff != 0 && h.Shnum > 0 {
		if end := h.Shoff + uint64(h.Shnum)*uint64(h.Shentsize); end > uint64(size) {
			f.diag(model.Warning, int64(min(h.Shoff, uint64(size))),
				fmt.Sprintf("the section header table (%d entries at %#x) runs past the end of the file: the core is truncated after its segments, which are whole", h.Shnum, h.Shoff))
		}
	}
	f.info = sync.OnceValue(f.buildInfo)
	f.memory = sync.OnceValues(f.buildMemory)
	return f, nil
}

func wrap(err error) error {
	var ee *elfx.Error
	if errors.As(err, &ee) {
		return &FormatError{Off: ee.Off, What: ee.What, Err: ee.Err}
	}
	return &FormatError{What: "reading ELF", Err: err}
}

func errOff(err error) int64 {
	var ee *elfx.Error
	if errors.As(err, &ee) {
		return ee.Off
	}
	return -1
}

// Close closes the file if Open opened it.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Diagnostics returns the recoverable problems found so far.
func (f *File) Diagnostics() []model.Diagnostic {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.Diagnostic(nil), f.diags...)
}

func (f *File) diag(sev model.Severity, off int64, msg string) {
	f.mu.Lock()
	f.diags = append(f.diags, model.Diagnostic{Severity: sev, Off: off, Msg: msg})
	f.mu.Unlock()
}

// Info returns the core's summary (memoised).
func (f *File) Info() model.Info { return f.info() }

// Ranges returns the PT_LOAD segments (virtual addresses) in program-header
// order, with the protections of p_flags and the label Memory's regions
// give the segment's first byte (the mapped file and offset from NT_FILE,
// or a thread's stack). FileOff is -1 for a segment whose bytes were not
// dumped (p_filesz 0: file-backed text the coredump filter skipped, or
// PROT_NONE guard pages). NT_FILE mappings without a PT_LOAD are not
// ranges of the core; Memory's regions list them as absent.
func (f *File) Ranges() ([]model.Range, error) {
	var out []model.Range
	l := f.labels()
	for _, p := range f.Progs {
		if p.Type != elfx.PT_LOAD {
			continue
		}
		r := model.Range{Start: p.Vaddr, Size: p.Memsz, FileOff: int64(p.Off), Prot: protString(p.Flags)}
		if p.Memsz > 0 {
			r.Label = l.at(p.Vaddr, segment{start: p.Vaddr, size: p.Memsz})
		}
		if p.Filesz == 0 {
			r.FileOff = -1
		}
		out = append(out, r)
	}
	return out, nil
}

// protString renders p_flags as readelf's Flg column does, in ls order:
// PF_R 4, PF_W 2, PF_X 1.
func protString(flags uint32) string {
	b := []byte("---")
	if flags&4 != 0 {
		b[0] = 'r'
	}
	if flags&2 != 0 {
		b[1] = 'w'
	}
	if flags&1 != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// isFreeBSD reports whether the core came from FreeBSD: its notes are
// named "FreeBSD" and its OSABI is usually ELFOSABI_FREEBSD.
func (f *File) isFreeBSD() bool {
	if f.Header.OSABI == elfx.ELFOSABI_FREEBSD {
		return true
	}
	for _, n := range f.Notes {
		if n.Name == "FreeBSD" {
			return true
		}
	}
	return false
}

func (f *File) buildInfo() model.Info {
	info := model.Info{Format: model.ELFCore, Variant: "process", Threads: 0, Modules: -1}
	info.Arch, info.ABI = elfx.Arch(f.Header)
	info.OS.Family = model.Linux
	numbering := codes.LinuxGeneric
	switch info.Arch {
	case model.MIPS, model.MIPS64:
		numbering = codes.LinuxMIPS
	case model.SPARC, model.SPARC64, model.Alpha:
		numbering = codes.BSD
	}
	freebsd := f.isFreeBSD()
	if freebsd {
		info.OS.Family = model.FreeBSD
		numbering = codes.BSD
	}

	ws := f.Header.WordSize()
	order := f.Header.Order
	var proc model.Process
	var sig, sigCode int
	var sigAddr *uint64
	var tid *uint64
	haveSig := false
	for _, n := range f.Notes {
		switch n.Type {
		case NT_PRSTATUS:
			info.Threads++
			if info.Threads > 1 {
				continue
			}
			s, pid, ok := prstatus(n.Desc, ws, order, f.Header.Machine, freebsd)
			if !ok {
				f.diag(model.Warning, n.Off, fmt.Sprintf("NT_PRSTATUS of %d bytes is too short", len(n.Desc)))
				continue
			}
			sig, haveSig = s, true
			t := pid
			tid = &t
		case NT_PRPSINFO:
			name, args, pid, ok := prpsinfo(n.Desc, ws, order, freebsd)
			if !ok {
				f.diag(model.Warning, n.Off, fmt.Sprintf("NT_PRPSINFO of %d bytes is too short", len(n.Desc)))
				continue
			}
			proc.Name, proc.CommandLine = name, args
			if pid != 0 {
				proc.PID = pid
			}
		case NT_SIGINFO:
			if freebsd {
				continue
			}
			signo, code, addr, ok := siginfo(n.Desc, ws, order, info.Arch)
			if ok && signo != 0 {
				sig, sigCode, haveSig = signo, code, true
				// Only kernel-generated faults (si_code > 0) carry an address;
				// a signal sent by a process carries its pid and uid there.
				if code > 0 && isFault(codes.Signal(signo, numbering)) {
					sigAddr = &addr
				}
			}
		case NT_FILE:
			if files, ok := parseNTFile(n.Desc, ws, order); ok {
				info.Modules = len(groupModules(files)) + f.vdsoCount()
			} else {
				f.diag(model.Warning, n.Off, "NT_FILE note is malformed")
			}
		}
	}
	if proc.PID == 0 && tid != nil {
		proc.PID = *tid // the first thread of a process core is the thread-group leader or the crashing thread
	}
	if proc != (model.Process{}) {
		info.Process = &proc
	}
	if haveSig {
		c := &model.Crash{Kind: model.Signal, Code: uint64(sig), Name: codes.Signal(sig, numbering), Address: sigAddr, ThreadID: tid}
		if sub := codes.SigCode(c.Name, int32(sigCode)); sub != "" && sigAddr != nil {
			c.Name += " / " + sub
		}
		// gcore and debuggers stop the process to dump it: no crash.
		if sig == 0 || strings.HasPrefix(c.Name, "SIGSTOP") {
			c.Kind = model.NoCrash
			c.Message = "the process was stopped to be dumped (gcore or a debugger), not crashed"
		}
		info.Crash = c
	}
	info.Details = append(info.Details,
		model.Detail{Key: "ELF", Value: fmt.Sprintf("class %d, data %d, machine %d, OSABI %d", f.Header.Class, f.Header.Data, f.Header.Machine, f.Header.OSABI)},
		model.Detail{Key: "Program headers", Value: fmt.Sprint(len(f.Progs))},
		model.Detail{Key: "Notes", Value: fmt.Sprint(len(f.Notes))})
	f.addCoredump(&info)
	return info
}

func isFault(sig string) bool {
	switch sig {
	case "SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGTRAP":
		return true
	}
	return false
}

// prstatus returns pr_cursig and pr_pid. In struct elf_prstatus the pid
// follows pr_info (3 ints), pr_cursig (short) and two unsigned longs of
// signal masks, aligned as the target aligns longs: 8 on 64-bit, 4 on
// 32-bit, and 2 on m68k. FreeBSD's prstatus starts with a version word and
// three size_t sizes, then pr_osreldate, pr_cursig and pr_pid.
func prstatus(d []byte, ws int, order binary.ByteOrder, machine uint16, freebsd bool) (sig int, pid uint64, ok bool) {
	if freebsd {
		off := 4 + 3*ws
		if ws == 8 {
			off = 8 + 3*8
		}
		if len(d) < off+12 {
			return 0, 0, false
		}
		return int(int32(order.Uint32(d[off+4:]))), uint64(order.Uint32(d[off+8:])), true
	}
	pidOff := 32
	switch {
	case machine == elfx.EM_68K:
		pidOff = 22
	case ws == 4:
		pidOff = 24
	}
	if len(d) < pidOff+4 {
		return 0, 0, false
	}
	return int(order.Uint16(d[12:])), uint64(order.Uint32(d[pidOff:])), true
}

// prpsinfo returns pr_fname, pr_psargs and pr_pid. Linux layouts differ in
// the width of uid fields between architectures, but every one ends with
// pr_fname[16] and pr_psargs[80], so read those from the end. The pid sits
// 24 bytes in on 64-bit and 12 on i386-style 32-bit layouts; take it only
// where the descriptor size identifies the layout.
func prpsinfo(d []byte, ws int, order binary.ByteOrder, freebsd bool) (name, args string, pid uint64, ok bool) {
	if freebsd {
		// int pr_version; size_t pr_psinfosz; char pr_fname[17]; char pr_psargs[81]; int pr_pid (version >= 2)
		off := 4 + ws
		if ws == 8 {
			off = 16
		}
		if len(d) < off+17+81 {
			return "", "", 0, false
		}
		name = cstr(d[off : off+17])
		args = cstr(d[off+17 : off+17+81])
		if p := (off + 17 + 81 + 3) &^ 3; len(d) >= p+4 { // pr_pid is int-aligned
			pid = uint64(order.Uint32(d[p:]))
		}
		return name, args, pid, true
	}
	if len(d) < 96 {
		return "", "", 0, false
	}
	name = cstr(d[len(d)-96 : len(d)-80])
	args = strings.TrimSpace(cstr(d[len(d)-80:]))
	switch {
	case ws == 8 && len(d) == 136:
		pid = uint64(order.Uint32(d[24:]))
	case ws == 4 && len(d) == 124: // 16-bit uids (i386, arm, s390, m68k, sh)
		pid = uint64(order.Uint32(d[12:]))
	case ws == 4 && len(d) == 128: // 32-bit uids (ppc, mips, sparc)
		pid = uint64(order.Uint32(d[16:]))
	}
	return name, args, pid, true
}

// siginfo returns si_signo, si_code and the fault address of a Linux
// siginfo_t. MIPS swaps si_code and si_errno; the union starts at the next
// pointer-aligned offset after the three ints.
func siginfo(d []byte, ws int, order binary.ByteOrder, arch model.Arch) (signo, code int, addr uint64, ok bool) {
	if len(d) < 12 {
		return 0, 0, 0, false
	}
	signo = int(int32(order.Uint32(d[0:])))
	codeOff := 8
	if arch == model.MIPS || arch == model.MIPS64 {
		codeOff = 4
	}
	code = int(int32(order.Uint32(d[codeOff:])))
	unionOff := 12
	if ws == 8 {
		unionOff = 16
	}
	if len(d) >= unionOff+ws {
		if ws == 8 {
			addr = order.Uint64(d[unionOff:])
		} else {
			addr = uint64(order.Uint32(d[unionOff:]))
		}
	}
	return signo, code, addr, true
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
