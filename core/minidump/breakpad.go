package minidump

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/model"
)

// BreakpadInfo is MDRawBreakpadInfo: which thread wrote the dump and which
// asked for it (the Has* flags mirror the validity bits).
type BreakpadInfo struct {
	Validity              uint32
	DumpThreadID          uint32
	RequestingThreadID    uint32
	HasDumpThreadID       bool
	HasRequestingThreadID bool
}

// BreakpadInfo decodes Breakpad's BreakpadInfoStream.
func (f *File) BreakpadInfo() (*BreakpadInfo, error) {
	b, off, err := f.streamData(BreakpadInfoStream)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, off, f.order)
	bi := &BreakpadInfo{Validity: c.U32(), DumpThreadID: c.U32(), RequestingThreadID: c.U32()}
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "BreakpadInfoStream too short", Err: c.Err()}
	}
	bi.HasDumpThreadID, bi.HasRequestingThreadID = bi.Validity&1 != 0, bi.Validity&2 != 0
	return bi, nil
}

// Assertion is MDRawAssertionInfo: an invalid-parameter or pure-virtual
// call report from the CRT.
type Assertion struct {
	Expression string
	Function   string
	File       string
	Line       uint32
	Type       uint32 // 1 invalid parameter, 2 pure virtual call
}

// Assertion decodes Breakpad's AssertionInfoStream.
func (f *File) Assertion() (*Assertion, error) {
	b, off, err := f.streamData(AssertionInfoStream)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, off, f.order)
	a := &Assertion{Expression: bin.UTF16(c.Bytes(256), f.order), Function: bin.UTF16(c.Bytes(256), f.order),
		File: bin.UTF16(c.Bytes(256), f.order), Line: c.U32(), Type: c.U32()}
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "AssertionInfoStream too short", Err: c.Err()}
	}
	return a, nil
}

func (f *File) text(t StreamType) (string, error) {
	b, _, err := f.streamData(t)
	if err != nil {
		return "", err
	}
	return trimNUL(b), nil
}

// LinuxCPUInfo returns Breakpad's copy of /proc/cpuinfo.
func (f *File) LinuxCPUInfo() (string, error) { return f.text(LinuxCPUInfoStream) }

// LinuxProcStatus returns Breakpad's copy of /proc/PID/status.
func (f *File) LinuxProcStatus() (string, error) { return f.text(LinuxProcStatusStream) }

// LinuxLSBRelease returns Breakpad's copy of /etc/lsb-release.
func (f *File) LinuxLSBRelease() (string, error) { return f.text(LinuxLSBReleaseStream) }

// LinuxEnviron returns Breakpad's copy of /proc/PID/environ, split at NULs.
func (f *File) LinuxEnviron() ([]string, error) {
	b, _, err := f.streamData(LinuxEnvironStream)
	if err != nil {
		return nil, err
	}
	var out []string
	for s := range strings.SplitSeq(trimNUL(b), "\x00") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// LinuxMap is one line of /proc/PID/maps.
type LinuxMap struct {
	Start, End uint64
	Perms      string
	Offset     uint64
	Dev        string
	Inode      uint64
	Path       string
}

// LinuxMaps parses Breakpad's copy of /proc/PID/maps. A malformed line or a
// range that ends before it starts rejects the stream.
func (f *File) LinuxMaps() ([]LinuxMap, error) {
	b, off, err := f.streamData(LinuxMapsStream)
	if err != nil {
		return nil, err
	}
	var out []LinuxMap
	pos := off
	for line := range strings.SplitSeq(trimNUL(b), "\n") {
		lineOff := pos
		pos += int64(len(line)) + 1
		if strings.TrimSpace(line) == "" {
			continue
		}
		fs := strings.Fields(line)
		bad := func(why string) error {
			return &FormatError{Off: lineOff, What: fmt.Sprintf("LinuxMapsStream: %s in %q", why, line)}
		}
		if len(fs) < 5 {
			return nil, bad("too few fields")
		}
		lo, hi, ok := strings.Cut(fs[0], "-")
		if !ok {
			return nil, bad("no address range")
		}
		var m LinuxMap
		var e1, e2, e3, e4 error
		m.Start, e1 = strconv.ParseUint(lo, 16, 64)
		m.End, e2 = strconv.ParseUint(hi, 16, 64)
		m.Offset, e3 = strconv.ParseUint(fs[2], 16, 64)
		m.Inode, e4 = strconv.ParseUint(fs[4], 10, 64)
		if e1 != nil || e2 != nil || e3 != nil || e4 != nil {
			return nil, bad("bad number")
		}
		if m.End < m.Start {
			return nil, bad("range ends before it starts")
		}
		m.Perms, m.Dev = fs[1], fs[3]
		if len(fs) > 5 {
			// The path is the rest of the line; it may contain spaces.
			i := strings.Index(line, fs[5])
			m.Path = strings.TrimRight(line[i:], " ")
		}
		out = append(out, m)
	}
	return out, nil
}

// AuxvEntry is one (type, value) pair of the ELF auxiliary vector.
type AuxvEntry struct{ Type, Value uint64 }

// wordSize returns the dumped machine's pointer size from SystemInfo
// (8 when unknown).
func (f *File) wordSize() int {
	si, err := f.SystemInfo()
	if err != nil {
		return 8
	}
	switch archName(si.ProcessorArchitecture) {
	case model.X86, model.ARM, model.PPC, model.MIPS, model.SPARC, model.RISCV32:
		return 4
	}
	return 8
}

// LinuxAuxv decodes Breakpad's copy of /proc/PID/auxv in the machine's word
// size.
func (f *File) LinuxAuxv() ([]AuxvEntry, error) {
	b, off, err := f.streamData(LinuxAuxvStream)
	if err != nil {
		return nil, err
	}
	w := f.wordSize()
	c := bin.New(b, off, f.order)
	out := make([]AuxvEntry, 0, len(b)/(2*w))
	for c.Len() >= 2*w {
		out = append(out, AuxvEntry{c.Word(w), c.Word(w)})
	}
	return out, nil
}

// LinkMap is MDRawLinkMap: one entry of the dynamic linker's r_debug list.
type LinkMap struct {
	Addr uint64
	Name string
	Ld   uint64
}

// DSODebug is MDRawDebug with its link map.
type DSODebug struct {
	Version  uint32
	Map      uint32
	DSOCount uint32
	Brk      uint64
	LdBase   uint64
	Dynamic  uint64
	LinkMaps []LinkMap
}

// LinuxDSODebug decodes Breakpad's LinuxDsoDebugStream. The records follow
// the C layout of MDRawDebug32/64 and MDRawLinkMap32/64 (64-bit fields
// 8-aligned).
func (f *File) LinuxDSODebug() (*DSODebug, error) {
	b, off, err := f.streamData(LinuxDSODebugStream)
	if err != nil {
		return nil, err
	}
	w := f.wordSize()
	c := bin.New(b, off, f.order)
	d := &DSODebug{Version: c.U32(), Map: c.U32(), DSOCount: c.U32()}
	if w == 8 {
		c.U32()
	}
	d.Brk, d.LdBase, d.Dynamic = c.Word(w), c.Word(w), c.Word(w)
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "LinuxDsoDebugStream too short", Err: c.Err()}
	}
	esize := int64(3 * w)
	if d.DSOCount == 0 {
		return d, nil
	}
	if int64(d.DSOCount)*esize > f.size {
		return nil, &FormatError{Off: off + 8, What: fmt.Sprintf("LinuxDsoDebugStream claims %d link maps", d.DSOCount)}
	}
	lb, err := f.read(int64(d.Map), int64(d.DSOCount)*esize)
	if err != nil {
		return nil, err
	}
	lc := bin.New(lb, int64(d.Map), f.order)
	for range d.DSOCount {
		lm := LinkMap{Addr: lc.Word(w)}
		rva := lc.U32()
		if w == 8 {
			lc.U32()
		}
		lm.Ld = lc.Word(w)
		if rva != 0 {
			name, err := f.readString(rva)
			f.note(err)
			lm.Name = name
		}
		d.LinkMaps = append(d.LinkMaps, lm)
	}
	return d, nil
}

// CommentA returns the CommentStreamA text.
func (f *File) CommentA() (string, error) { return f.text(CommentStreamA) }

// CommentW returns the CommentStreamW text.
func (f *File) CommentW() (string, error) {
	b, _, err := f.streamData(CommentStreamW)
	if err != nil {
		return "", err
	}
	return bin.UTF16(b, f.order), nil
}

// Handle is MINIDUMP_HANDLE_DESCRIPTOR(_2) with its names resolved.
type Handle struct {
	Handle        uint64
	TypeNameRva   uint32
	ObjectNameRva uint32
	Attributes    uint32
	GrantedAccess uint32
	HandleCount   uint32
	PointerCount  uint32
	ObjectInfoRva uint32 // _2 only
	TypeName      string
	ObjectName    string
}

// HandleData decodes the HandleDataStream.
func (f *File) HandleData() ([]Handle, error) {
	b, off, err := f.streamData(HandleDataStream)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, off, f.order)
	hsize, esize, n := int(c.U32()), int(c.U32()), int64(c.U32())
	if c.Err() != nil || hsize < 12 || hsize > len(b) || esize < 32 {
		return nil, &FormatError{Off: off, What: fmt.Sprintf("HandleDataStream header (size %d, descriptor %d) invalid", hsize, esize), Err: io.ErrUnexpectedEOF}
	}
	if avail := int64((len(b) - hsize) / esize); n > avail {
		f.diag(model.Warning, off, fmt.Sprintf("HandleDataStream claims %d handles but holds %d", n, avail))
		n = avail
	}
	out := make([]Handle, n)
	c.Seek(hsize)
	for i := range out {
		start := c.Pos()
		h := &out[i]
		h.Handle, h.TypeNameRva, h.ObjectNameRva = c.U64(), c.U32(), c.U32()
		h.Attributes, h.GrantedAccess, h.HandleCount, h.PointerCount = c.U32(), c.U32(), c.U32(), c.U32()
		if esize >= 40 {
			h.ObjectInfoRva = c.U32()
		}
		c.Seek(start + esize)
		if h.TypeNameRva != 0 {
			s, err := f.readString(h.TypeNameRva)
			f.note(err)
			h.TypeName = s
		}
		if h.ObjectNameRva != 0 {
			s, err := f.readString(h.ObjectNameRva)
			f.note(err)
			h.ObjectName = s
		}
	}
	return out, c.Err()
}
