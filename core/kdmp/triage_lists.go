package kdmp

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/model"
)

// TriageDriver is one DUMP_DRIVER_ENTRY64/32 of the loaded-driver list,
// with its name resolved from the string pool.
type TriageDriver struct {
	Name          string // the DUMP_STRING, e.g. `\SystemRoot\system32\ntoskrnl.exe`
	Base          uint64 // LdrEntry.DllBase
	EntryPoint    uint64
	Size          uint32 // LdrEntry.SizeOfImage
	CheckSum      uint32
	TimeDateStamp uint32 // the PE header's, as symbol servers index images
	Flags         uint32
	NameOffset    uint32 // DriverNameOffset: file offset of the DUMP_STRING
	Off           int64  // file offset of the entry
}

// TriageUnloadedDriver is one DUMP_UNLOADED_DRIVERS64/32 entry: a driver
// the system unloaded before the crash, newest first. Name is what the
// kernel kept of it, at most 12 characters.
type TriageUnloadedDriver struct {
	Name       string
	Start, End uint64 // the image's range while it was loaded
	Off        int64  // file offset of the entry
}

// TriageDataBlock is one TRIAGE_DATA_BLOCK: Size bytes of kernel virtual
// memory at Address, stored at file offset Offset.
type TriageDataBlock struct {
	Address uint64
	Offset  uint32
	Size    uint32
}

// diagAgg reports a kind of damage found in many entries once, with the
// first occurrence and a count, so that a hostile list of a million bad
// entries yields one diagnostic, not a million.
type diagAgg struct {
	f     *File
	sev   model.Severity
	n     int
	off   int64
	first string
}

func (a *diagAgg) add(off int64, format string, args ...any) {
	if a.n == 0 {
		a.off, a.first = off, fmt.Sprintf(format, args...)
	}
	a.n++
}

func (a *diagAgg) flush() {
	switch {
	case a.n == 1:
		a.f.addRangeDiag(a.sev, a.off, "%s", a.first)
	case a.n > 1:
		a.f.addRangeDiag(a.sev, a.off, "%s (and %d more like it)", a.first, a.n-1)
	}
}

// TriageDrivers returns the loaded-driver list (DUMP_DRIVER_ENTRY64/32 ×
// DriverCount at DriverListOffset), in the order the dump stores it, with
// names from the string pool. Entries past the end of the file are
// dropped (checkTriage reported the count); names that are missing, run
// past the string pool or the file, or are not in the pool become
// diagnostics and keep whatever could be read. Computed once.
func (f *File) TriageDrivers() ([]TriageDriver, error) {
	if !f.isTriage() {
		return nil, f.errNotTriage("driver list")
	}
	return f.triViews().drivers()
}

func (f *File) buildTriageDrivers() ([]TriageDriver, error) {
	t := f.hdr.triage
	if !present(t.DriverListOffset) || !present(t.DriverCount) || int64(t.DriverListOffset) >= f.size {
		return nil, nil
	}
	esize := f.driverEntrySize()
	n := min(int64(t.DriverCount), (f.size-int64(t.DriverListOffset))/esize)
	raw, err := f.triRead(int64(t.DriverListOffset), uint64(n*esize), "driver list")
	if err != nil {
		return nil, err
	}
	pool := &stringPool{f: f}
	if present(t.StringPoolOffset) && present(t.StringPoolSize) {
		pool.off = int64(t.StringPoolOffset)
		if pool.b, err = f.triRead(pool.off, uint64(t.StringPoolSize), "string pool"); err != nil {
			return nil, err
		}
	}
	bad := &diagAgg{f: f, sev: model.Warning}
	out := make([]TriageDriver, 0, n)
	le := binary.LittleEndian
	for i := range n {
		e := raw[i*esize : (i+1)*esize]
		d := TriageDriver{NameOffset: le.Uint32(e), Off: int64(t.DriverListOffset) + i*esize}
		if f.hdr.is64 {
			d.Base, d.EntryPoint = le.Uint64(e[drv64DllBase:]), le.Uint64(e[drv64EntryPoint:])
			d.Size, d.Flags = le.Uint32(e[drv64SizeOfImage:]), le.Uint32(e[drv64Flags:])
			d.CheckSum, d.TimeDateStamp = le.Uint32(e[drv64CheckSum:]), le.Uint32(e[drv64TimeDateStamp:])
		} else {
			d.Base, d.EntryPoint = uint64(le.Uint32(e[drv32DllBase:])), uint64(le.Uint32(e[drv32EntryPoint:]))
			d.Size, d.Flags = le.Uint32(e[drv32SizeOfImage:]), le.Uint32(e[drv32Flags:])
			d.CheckSum, d.TimeDateStamp = le.Uint32(e[drv32CheckSum:]), le.Uint32(e[drv32TimeDateStamp:])
		}
		name, problem := pool.get(d.NameOffset)
		if problem != "" {
			bad.add(d.Off, "driver %d (base %#x): %s", i, d.Base, problem)
		}
		d.Name = name
		out = append(out, d)
	}
	if err := pool.err; err != nil {
		return nil, err
	}
	bad.flush()
	return out, nil
}

// stringPool resolves DUMP_STRINGs: {ULONG Length; WCHAR Buffer[Length];
// WCHAR NUL}, Length in UTF-16 units (see triage_format.go).
type stringPool struct {
	f   *File
	off int64  // file offset of b
	b   []byte // the pool as stored (clipped to the file); nil without one
	err error  // first I/O error
}

// get returns the string at file offset off and a description of what is
// wrong with it ("" when nothing is).
func (p *stringPool) get(off uint32) (string, string) {
	if !present(off) {
		return "", "no name (DriverNameOffset is 0)"
	}
	o := int64(off)
	if p.b != nil && o >= p.off && o < p.off+int64(len(p.b)) {
		b := p.b[o-p.off:]
		if len(b) < 4 {
			return "", fmt.Sprintf("DUMP_STRING at %#x runs past the end of the string pool", o)
		}
		n := uint64(binary.LittleEndian.Uint32(b))
		s := b[4:]
		problem := ""
		switch {
		case n > maxDumpString:
			problem = fmt.Sprintf("DUMP_STRING at %#x claims %d characters", o, n)
			n = min(n, uint64(len(s)/2))
		case n*2 > uint64(len(s)):
			problem = fmt.Sprintf("DUMP_STRING at %#x (%d characters) runs past the end of the string pool at %#x", o, n, p.off+int64(len(p.b)))
			n = uint64(len(s) / 2)
		}
		return bin.UTF16(s[:n*2], binary.LittleEndian), problem
	}
	// Outside the pool: read it from the file, bounded by the file.
	if o+4 > p.f.size {
		return "", fmt.Sprintf("DriverNameOffset %#x is past the end of the file", o)
	}
	var lb [4]byte
	if err := readFull(p.f.r, lb[:], o, "DUMP_STRING"); err != nil {
		p.err = firstErr(p.err, err)
		return "", ""
	}
	n := uint64(binary.LittleEndian.Uint32(lb[:]))
	problem := fmt.Sprintf("DUMP_STRING at %#x lies outside the string pool", o)
	if n > maxDumpString {
		problem = fmt.Sprintf("DUMP_STRING at %#x claims %d characters", o, n)
	}
	s, err := p.f.triRead(o+4, min(n, maxDumpString)*2, "DUMP_STRING")
	if err != nil {
		p.err = firstErr(p.err, err)
		return "", ""
	}
	if uint64(len(s)) < min(n, maxDumpString)*2 {
		problem = fmt.Sprintf("DUMP_STRING at %#x (%d characters) runs past the end of the file", o, n)
	}
	return bin.UTF16(s[:len(s)&^1], binary.LittleEndian), problem
}

// firstErr keeps the first error.
func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// TriageUnloadedDrivers returns the unloaded drivers the dump records
// (newest first, as MmUnloadedDrivers is copied), or nil when it has no
// such section. A count beyond MI_UNLOADED_DRIVERS (50) or beyond the
// section, a name longer than the 24 bytes kept for it and an inverted
// range become diagnostics. Computed once.
func (f *File) TriageUnloadedDrivers() ([]TriageUnloadedDriver, error) {
	if !f.isTriage() {
		return nil, f.errNotTriage("unloaded driver list")
	}
	return f.triViews().unloaded()
}

func (f *File) buildTriageUnloaded() ([]TriageUnloadedDriver, error) {
	t := f.hdr.triage
	if !present(t.UnloadedDriversOffset) || int64(t.UnloadedDriversOffset) >= f.size {
		return nil, nil
	}
	off := int64(t.UnloadedDriversOffset)
	cnt, esize, nameAt, startAt := int64(4), int64(unl32Size), unl32Name, unl32Start
	if f.hdr.is64 {
		cnt, esize, nameAt, startAt = 8, unl64Size, unl64Name, unl64Start
	}
	hdr, err := f.triRead(off, uint64(cnt), "unloaded driver count")
	if err != nil {
		return nil, err
	}
	if int64(len(hdr)) < cnt {
		return nil, nil // the file ends inside the count; checkTriage reported the truncation
	}
	var count uint64
	if cnt == 8 {
		count = binary.LittleEndian.Uint64(hdr)
	} else {
		count = uint64(binary.LittleEndian.Uint32(hdr))
	}
	if count == 0 || count == DUMP_SIGNATURE64 || count == uint64(DUMP_SIGNATURE32) {
		return nil, nil
	}
	fit := uint64(max(0, (f.sectionEnd(t.UnloadedDriversOffset)-off-cnt)/esize))
	n := min(count, miUnloadedDrivers, fit)
	if count > n {
		f.addRangeDiag(model.Warning, off, "the unloaded driver list claims %d entries; MI_UNLOADED_DRIVERS is %d and %d fit in the section: reading %d",
			count, miUnloadedDrivers, fit, n)
	}
	raw, err := f.triRead(off+cnt, n*uint64(esize), "unloaded drivers")
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	long := &diagAgg{f: f, sev: model.Warning}
	inverted := &diagAgg{f: f, sev: model.Warning}
	out := make([]TriageUnloadedDriver, 0, n)
	for i := range int64(n) {
		e := raw[i*esize : (i+1)*esize]
		u := TriageUnloadedDriver{Off: off + cnt + i*esize}
		nb := int(le.Uint16(e)) // UNICODE_STRING.Length, bytes
		if nb > unloadedNameBytes {
			long.add(u.Off, "unloaded driver %d: name length %d exceeds the %d bytes the dump keeps", i, nb, unloadedNameBytes)
			nb = unloadedNameBytes
		}
		u.Name = bin.UTF16(e[nameAt:nameAt+nb&^1], le)
		if f.hdr.is64 {
			u.Start, u.End = le.Uint64(e[startAt:]), le.Uint64(e[startAt+8:])
		} else {
			u.Start, u.End = uint64(le.Uint32(e[startAt:])), uint64(le.Uint32(e[startAt+4:]))
		}
		if u.End < u.Start {
			inverted.add(u.Off, "unloaded driver %d (%s): EndAddress %#x precedes StartAddress %#x", i, u.Name, u.End, u.Start)
		}
		out = append(out, u)
	}
	long.flush()
	inverted.flush()
	return out, nil
}

// TriageDataBlocks returns the TRIAGE_DATA_BLOCK descriptors as stored
// (addresses truncated to 32 bits in 32-bit dumps, whose writers
// sign-extend them). Memory maps the parts of them that lie in the file.
// Computed once.
func (f *File) TriageDataBlocks() ([]TriageDataBlock, error) {
	if !f.isTriage() {
		return nil, f.errNotTriage("data blocks")
	}
	return f.triViews().blocks()
}

func (f *File) buildTriageBlocks() ([]TriageDataBlock, error) {
	t := f.hdr.triage
	if !present(t.DataBlocksOffset) || !present(t.DataBlocksCount) || int64(t.DataBlocksOffset) >= f.size {
		return nil, nil
	}
	n := min(int64(t.DataBlocksCount), (f.size-int64(t.DataBlocksOffset))/triageDataBlockSize)
	raw, err := f.triRead(int64(t.DataBlocksOffset), uint64(n*triageDataBlockSize), "TRIAGE_DATA_BLOCK array")
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	out := make([]TriageDataBlock, n)
	for i := range out {
		e := raw[i*triageDataBlockSize:]
		out[i] = TriageDataBlock{Address: le.Uint64(e), Offset: le.Uint32(e[8:]), Size: le.Uint32(e[12:])}
		if !f.hdr.is64 {
			out[i].Address &= 0xFFFFFFFF
		}
	}
	return out, nil
}

// TriageBrokenDriver names the driver BrokenDriverOffset designates, or ""
// when the field is 0, as every writer seen leaves it. The field is
// documented only as "offset into the driver of the driver that crashed";
// it is read as the file offset of a DUMP_DRIVER_ENTRY in the driver list
// or, failing that, of a DUMP_STRING, and anything else is a diagnostic.
func (f *File) TriageBrokenDriver() (string, error) {
	if !f.isTriage() {
		return "", f.errNotTriage("broken driver")
	}
	return f.triViews().broken()
}

func (f *File) buildTriageBrokenDriver() (string, error) {
	t := f.hdr.triage
	if !present(t.BrokenDriverOffset) {
		return "", nil
	}
	off := int64(t.BrokenDriverOffset)
	drivers, err := f.TriageDrivers()
	if err != nil {
		return "", err
	}
	for _, d := range drivers {
		if d.Off == off {
			return d.Name, nil
		}
	}
	if present(t.StringPoolOffset) && off >= int64(t.StringPoolOffset) && off < int64(t.StringPoolOffset)+int64(t.StringPoolSize) {
		pool := &stringPool{f: f}
		name, problem := pool.get(t.BrokenDriverOffset)
		if pool.err != nil {
			return "", pool.err
		}
		if problem != "" {
			f.addRangeDiag(model.Warning, t.fieldOff(t64BrokenDriverOffset), "TRIAGE_DUMP.BrokenDriverOffset: %s", problem)
		}
		return name, nil
	}
	f.addRangeDiag(model.Warning, t.fieldOff(t64BrokenDriverOffset), "TRIAGE_DUMP.BrokenDriverOffset %#x points at neither a driver entry nor a string of the pool", off)
	return "", nil
}

// triageStamp converts a PE TimeDateStamp; 0 means none.
func triageStamp(t uint32) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(int64(t), 0).UTC()
}

// buildTriageModules lists the loaded drivers, then the unloaded ones
// (Unloaded set), in the model's terms. CodeID is the symbol-server key
// TimeDateStamp%08X SizeOfImage%x; unloaded drivers have no time stamp
// and their size is End-Start.
func (f *File) buildTriageModules() ([]model.Module, error) {
	drivers, err := f.TriageDrivers()
	if err != nil {
		return nil, err
	}
	unloaded, err := f.TriageUnloadedDrivers()
	if err != nil {
		return nil, err
	}
	if len(drivers) == 0 && len(unloaded) == 0 {
		return nil, fmt.Errorf("kdmp: the triage dump lists no drivers: %w", model.ErrNotRecorded)
	}
	out := make([]model.Module, 0, len(drivers)+len(unloaded))
	for _, d := range drivers {
		out = append(out, model.Module{
			Base: d.Base, Size: uint64(d.Size), Path: d.Name, Time: triageStamp(d.TimeDateStamp), Checksum: d.CheckSum,
			CodeID: fmt.Sprintf("%08X%x", d.TimeDateStamp, d.Size),
		})
	}
	for _, u := range unloaded {
		m := model.Module{Base: u.Start, Path: u.Name, Unloaded: true}
		if u.End > u.Start {
			m.Size = u.End - u.Start
		}
		out = append(out, m)
	}
	return out, nil
}
