package kdmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

var _ model.ProcessLister = (*File)(nil)

// Bounds on the list walks: far above real systems (a few hundred drivers,
// a few thousand processes), low enough that a corrupt list cannot run
// away. Thread lists share one budget across all processes.
const (
	maxModules      = 1 << 14
	maxProcesses    = 1 << 16
	maxThreadsTotal = 1 << 20
	maxUnicodeBytes = 0x1000 // longest UNICODE_STRING read (2048 UTF-16 units)
	maxEprocess     = 0x2000 // largest EPROCESS scanned when SizeEProcess is unknown or absurd
)

// Kernel object types in DISPATCHER_HEADER.Type (KOBJECTS, ntosp.h /
// ReactOS ketypes.h): the first byte of every KPROCESS and KTHREAD.
const (
	processObject = 3
	threadObject  = 6
)

// kptrSize is the kernel's pointer size.
func (f *File) kptrSize() uint64 {
	if f.hdr.is64 {
		return 8
	}
	return 4
}

func (f *File) readPtr(ks *VirtualSpace, addr uint64) (uint64, error) {
	return mem.ReadUint(ks, addr, int(f.kptrSize()), binary.LittleEndian)
}

// kernelPointer reports whether a is a plausible kernel pointer to a list
// entry: pointer-aligned, canonical and in the system half (from
// 0x80000000 on 32-bit Windows, bit 63 set on 64-bit).
func (f *File) kernelPointer(ks *VirtualSpace, a uint64) bool {
	if a%f.kptrSize() != 0 || !ks.pf.canonical(a) {
		return false
	}
	if ks.pf.vaBits == 32 {
		return a >= 0x80000000
	}
	return a>>63 != 0
}

// walkList follows the Flinks of the LIST_ENTRY at head and returns the
// entries after it. It stops at the head, after max entries, at a link that
// is not a kernel pointer, at an entry seen before (a cycle) or at one that
// cannot be read; problem then says why, and the entries so far are kept.
// A Blink that does not point back is reported but followed through.
func (f *File) walkList(ks *VirtualSpace, head uint64, max int) (entries []uint64, problem string) {
	ptr := f.kptrSize()
	seen := map[uint64]bool{head: true}
	prev := head
	cur, err := f.readPtr(ks, head)
	if err != nil {
		return nil, fmt.Sprintf("the list head at %#x cannot be read: %v", head, err)
	}
	var blinkBad uint64
	for {
		switch {
		case cur == head:
			if blinkBad != 0 {
				problem = fmt.Sprintf("the Blink of entry %#x does not point back at %#x", blinkBad, prev)
			}
			return entries, problem
		case len(entries) >= max:
			return entries, fmt.Sprintf("stopped after %d entries", max)
		case !f.kernelPointer(ks, cur):
			return entries, fmt.Sprintf("the Flink at %#x is %#x, not a kernel address", prev, cur)
		case seen[cur]:
			return entries, fmt.Sprintf("the Flink at %#x points back to entry %#x: the list has a cycle", prev, cur)
		}
		seen[cur] = true
		next, err := f.readPtr(ks, cur)
		if err != nil {
			return entries, fmt.Sprintf("entry %#x cannot be read: %v", cur, err)
		}
		if back, err := f.readPtr(ks, cur+ptr); err == nil && back != prev && blinkBad == 0 {
			blinkBad = cur
		}
		entries = append(entries, cur)
		prev, cur = cur, next
	}
}

// walkHead walks the list whose head the header records (hdr) or, when the
// header lacks it or its list cannot be walked at all, the one
// KDDEBUGGER_DATA64 records. Problems become diagnostics prefixed by what.
func (f *File) walkHead(ks *VirtualSpace, hdr uint64, fromKDBG func(*KDDebuggerData) uint64, max int, what string) ([]uint64, error) {
	var heads []uint64
	if !f.unset(hdr) {
		heads = append(heads, hdr)
	}
	if len(heads) == 0 || !f.listWalkable(ks, hdr) {
		if k, err := f.KDDebuggerData(); err == nil && fromKDBG(k) != 0 && fromKDBG(k) != hdr {
			heads = append(heads, fromKDBG(k))
		}
	}
	if len(heads) == 0 {
		return nil, fmt.Errorf("kdmp: %s is not recorded: %w", what, model.ErrNotRecorded)
	}
	var problem string
	for _, head := range heads {
		var entries []uint64
		entries, problem = f.walkList(ks, head, max)
		if problem != "" {
			f.viewDiag(model.Warning, "%s at %#x: %s", what, head, problem)
		}
		if len(entries) > 0 {
			return entries, nil
		}
	}
	if problem == "" {
		problem = "the list is empty"
	}
	return nil, fmt.Errorf("kdmp: %s at %#x: %s: %w", what, heads[len(heads)-1], problem, model.ErrNotRecorded)
}

// listWalkable reports whether the list head at head and its first entry
// can be read.
func (f *File) listWalkable(ks *VirtualSpace, head uint64) bool {
	first, err := f.readPtr(ks, head)
	if err != nil || !f.kernelPointer(ks, first) {
		return false
	}
	_, err = f.readPtr(ks, first)
	return err == nil
}

// ldrLayout locates the fields of the entries of PsLoadedModuleList.
// Windows 10+ links KLDR_DATA_TABLE_ENTRY, older kernels
// LDR_DATA_TABLE_ENTRY; both share the first fields (InLoadOrderLinks,
// DllBase 0x30/0x18, EntryPoint 0x38/0x1c, SizeOfImage 0x40/0x20,
// FullDllName 0x48/0x24, BaseDllName 0x58/0x2c on 64/32-bit), and differ in
// TimeDateStamp: KLDR 0x9c/0x58, LDR 0x80/0x44 (Vergilius; ReactOS
// ldrtypes.h). The PE header, when resident, is preferred for the stamp.
type ldrLayout struct {
	dllBase, entryPoint, sizeOfImage, fullName, baseName, timeStamp, size int
	ustrBuffer                                                            int // UNICODE_STRING.Buffer offset
}

func (f *File) ldrLayout() ldrLayout {
	kldr := f.hdr.minor >= 10240
	if f.hdr.is64 {
		l := ldrLayout{0x30, 0x38, 0x40, 0x48, 0x58, 0x80, 0xa0, 8}
		if kldr {
			l.timeStamp = 0x9c
		}
		return l
	}
	l := ldrLayout{0x18, 0x1c, 0x20, 0x24, 0x2c, 0x44, 0x5c, 4}
	if kldr {
		l.timeStamp = 0x58
	}
	return l
}

// LoadedModules walks PsLoadedModuleList (from the header, or
// KDDEBUGGER_DATA64 when the header lacks it) and returns the kernel and
// its drivers in load order: base, size, full path (FullDllName, else
// BaseDllName), time stamp, checksum and CodeID from the resident PE header
// (else the entry's TimeDateStamp). Damaged entries and links become
// diagnostics; the modules read before them are kept. Computed once.
func (f *File) LoadedModules() ([]model.Module, error) { return f.views().modules() }

func (f *File) buildModules() ([]model.Module, error) {
	ks, err := f.KernelSpace()
	if err != nil {
		return nil, err
	}
	entries, err := f.walkHead(ks, f.hdr.psLoaded, func(k *KDDebuggerData) uint64 { return k.PsLoadedModuleList }, maxModules, "PsLoadedModuleList")
	if err != nil {
		return nil, err
	}
	lay := f.ldrLayout()
	buf := make([]byte, lay.size)
	le := binary.LittleEndian
	ptr := func(off int) uint64 {
		if f.hdr.is64 {
			return le.Uint64(buf[off:])
		}
		return uint64(le.Uint32(buf[off:]))
	}
	mods := make([]model.Module, 0, len(entries))
	for _, e := range entries {
		if err := mem.ReadFull(ks, buf, e); err != nil {
			f.viewDiag(model.Warning, "PsLoadedModuleList: entry %#x cannot be read: %v", e, err)
			continue
		}
		m := model.Module{Base: ptr(lay.dllBase), Size: uint64(le.Uint32(buf[lay.sizeOfImage:]))}
		m.Path = f.unicodeString(ks, buf[lay.fullName:], lay.ustrBuffer)
		if m.Path == "" {
			m.Path = f.unicodeString(ks, buf[lay.baseName:], lay.ustrBuffer)
		}
		if m.Base == 0 && m.Path == "" {
			f.viewDiag(model.Warning, "PsLoadedModuleList: entry %#x has neither a base nor a name", e)
			continue
		}
		ts, sum, ok := f.peStamp(ks, m.Base)
		if !ok {
			ts = le.Uint32(buf[lay.timeStamp:])
		}
		m.Checksum = sum
		if ts != 0 {
			m.Time = time.Unix(int64(ts), 0).UTC()
			m.CodeID = fmt.Sprintf("%08X%x", ts, m.Size)
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// unicodeString reads the UNICODE_STRING {USHORT Length, MaximumLength;
// PWSTR Buffer} at b. An implausible one (odd or huge length, a buffer
// outside the kernel) reads as "".
func (f *File) unicodeString(ks *VirtualSpace, b []byte, bufOff int) string {
	le := binary.LittleEndian
	n := int(le.Uint16(b))
	var p uint64
	if f.hdr.is64 {
		p = le.Uint64(b[bufOff:])
	} else {
		p = uint64(le.Uint32(b[bufOff:]))
	}
	if n == 0 || n%2 != 0 || n > maxUnicodeBytes || !ks.pf.canonical(p) {
		return ""
	}
	raw := make([]byte, n)
	if err := mem.ReadFull(ks, raw, p); err != nil {
		return ""
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = le.Uint16(raw[2*i:])
	}
	return strings.ToValidUTF8(string(utf16.Decode(u)), "\uFFFD")
}

// peStamp reads IMAGE_FILE_HEADER.TimeDateStamp and
// IMAGE_OPTIONAL_HEADER.CheckSum from the PE header at base, when resident.
func (f *File) peStamp(ks *VirtualSpace, base uint64) (stamp, checksum uint32, ok bool) {
	var dos [0x40]byte
	if base == 0 || mem.ReadFull(ks, dos[:], base) != nil || string(dos[:2]) != "MZ" {
		return 0, 0, false
	}
	lfanew := uint64(binary.LittleEndian.Uint32(dos[0x3c:]))
	if lfanew > 0x1000 {
		return 0, 0, false
	}
	// "PE\0\0", IMAGE_FILE_HEADER (20 bytes, TimeDateStamp at +4), then the
	// optional header, whose CheckSum is at +64 in PE32 and PE32+ alike.
	var nt [24 + 68]byte
	if mem.ReadFull(ks, nt[:], base+lfanew) != nil || string(nt[:4]) != "PE\x00\x00" {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint32(nt[8:]), binary.LittleEndian.Uint32(nt[24+64:]), true
}

// eprocLayout locates the EPROCESS fields Processes reads.
type eprocLayout struct {
	apl     uint64 // ActiveProcessLinks
	pidOff  int64  // UniqueProcessId; -1: the pointer before ActiveProcessLinks
	dtb     uint64 // Pcb.DirectoryTableBase
	name    int64  // ImageFileName (UCHAR[15]); -1 unknown
	ppid    int64  // InheritedFromUniqueProcessId; -1 unknown
	threads int64  // Pcb.ThreadListHead; -1 unknown
	size    uint64
	ptr     int // the kernel's pointer size
}

// pid returns UniqueProcessId's offset: as symbols say, else the pointer
// before ActiveProcessLinks (where every release has kept it).
func (l eprocLayout) pid() uint64 {
	if l.pidOff >= 0 {
		return uint64(l.pidOff)
	}
	return l.apl - uint64(l.ptr)
}

// Defaults when KDDEBUGGER_DATA64 is missing: KPROCESS.DirectoryTableBase
// and ThreadListHead have kept these offsets from Windows 7 to 11 (x64
// 0x28/0x30, x86 0x18/0x2c, per Vergilius).
func (f *File) defaultKprocess() (dtb, threads uint64) {
	if f.hdr.is64 {
		return 0x28, 0x30
	}
	return 0x18, 0x2c
}

// Processes walks PsActiveProcessHead and returns each EPROCESS: PID,
// parent PID, ImageFileName, DirectoryTableBase (flag bits masked), address
// and thread count. Handle counts need the HANDLE_TABLE layout, which only
// symbols give, so Handles is -1; Threads is -1 when the thread list could
// not be validated.
//
// KDDEBUGGER_DATA64 gives the DirectoryTableBase, parent-PID and KTHREAD
// offsets; UniqueProcessId, ActiveProcessLinks and ImageFileName are not in
// it, so they are found as MemProcFS does, on the System process that heads
// the list: ActiveProcessLinks is the offset at which the first entry minus
// it is a KPROCESS (DISPATCHER_HEADER.Type 3) whose DirectoryTableBase is a
// page table in the dump (preferably the header's), UniqueProcessId (4) is
// the pointer before it, and ImageFileName is where "System" follows it.
// Damaged entries become diagnostics. Computed once.
func (f *File) Processes() ([]model.KernelProcess, error) {
	if f.isTriage() {
		return f.triageProcesses()
	}
	return f.views().procs()
}

// triageProcesses is the one process a triage dump records: the crashing
// thread's, from its EPROCESS copy (address and image name; its id needs
// symbols for nt). A triage dump holds no process list.
func (f *File) triageProcesses() ([]model.KernelProcess, error) {
	o, err := f.TriageProcess()
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fmt.Errorf("kdmp: the triage dump records no process: %w", model.ErrNotRecorded)
	}
	return []model.KernelProcess{{Name: f.TriageProcessName(), Address: o.Address, Threads: -1, Handles: -1}}, nil
}

func (f *File) buildProcesses() ([]model.KernelProcess, error) { return f.walkProcesses(nil) }

// walkProcesses walks PsActiveProcessHead with the given layout, or with
// the one eprocessLayout finds when sym is nil.
func (f *File) walkProcesses(sym *eprocLayout) ([]model.KernelProcess, error) {
	ks, err := f.KernelSpace()
	if err != nil {
		return nil, err
	}
	k, kerr := f.KDDebuggerData()
	if kerr != nil {
		k = nil
	}
	entries, err := f.walkHead(ks, f.hdr.psActive, func(k *KDDebuggerData) uint64 { return k.PsActiveProcessHead }, maxProcesses, "PsActiveProcessHead")
	if err != nil {
		return nil, err
	}
	var lay eprocLayout
	if sym != nil {
		lay = *sym
		if err := f.checkSystem(ks, entries[0], lay); err != nil {
			return nil, err
		}
	} else if lay, err = f.eprocessLayout(ks, entries[0], k); err != nil {
		f.viewDiag(model.Warning, "EPROCESS layout: %v", err)
		return nil, err
	}
	threadBudget := maxThreadsTotal
	procs := make([]model.KernelProcess, 0, len(entries))
	for _, e := range entries {
		base := e - lay.apl
		var typ [1]byte
		if err := mem.ReadFull(ks, typ[:], base); err != nil {
			f.viewDiag(model.Warning, "process list entry %#x: EPROCESS at %#x cannot be read: %v", e, base, err)
			continue
		}
		if typ[0] != processObject {
			f.viewDiag(model.Warning, "process list entry %#x: EPROCESS at %#x has object type %d, not %d (process)", e, base, typ[0], processObject)
			continue
		}
		p := model.KernelProcess{Address: base, Threads: -1, Handles: -1}
		var err error
		if p.PID, err = f.readPtr(ks, base+lay.pid()); err != nil {
			f.viewDiag(model.Warning, "EPROCESS %#x: UniqueProcessId cannot be read: %v", base, err)
		}
		if dtb, err := f.readPtr(ks, base+lay.dtb); err == nil {
			p.DirBase = dtb & ks.pf.root
		}
		if lay.ppid >= 0 {
			p.ParentPID, _ = f.readPtr(ks, base+uint64(lay.ppid))
		}
		if lay.name >= 0 {
			var name [15]byte
			if mem.ReadFull(ks, name[:], base+uint64(lay.name)) == nil {
				p.Name = eprocName(name[:])
			}
		}
		if lay.threads >= 0 && threadBudget > 0 {
			th, problem := f.walkList(ks, base+uint64(lay.threads), threadBudget)
			threadBudget -= len(th)
			if problem != "" {
				f.viewDiag(model.Warning, "EPROCESS %#x (PID %d): thread list: %s", base, p.PID, problem)
			} else {
				p.Threads = len(th)
			}
		}
		procs = append(procs, p)
	}
	if threadBudget <= 0 {
		f.viewDiag(model.Warning, "thread lists: stopped counting after %d entries", maxThreadsTotal)
	}
	return procs, nil
}

// eprocName returns the NUL-terminated ASCII name of a 15-byte
// ImageFileName.
func eprocName(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// errNoSystem is returned when the process list does not start with a
// recognisable System process.
var errNoSystem = errors.New("the first process is not a recognisable System process")

// eprocessLayout finds the EPROCESS offsets from System, the first entry
// of the active process list; first is its ActiveProcessLinks.
func (f *File) eprocessLayout(ks *VirtualSpace, first uint64, k *KDDebuggerData) (eprocLayout, error) {
	ptr := f.kptrSize()
	dtbOff, thOff := f.defaultKprocess()
	lay := eprocLayout{dtb: dtbOff, pidOff: -1, name: -1, ppid: -1, threads: -1, size: maxEprocess, ptr: int(ptr)}
	if k != nil {
		if k.OffsetEprocessDirectoryTableBase != 0 {
			lay.dtb = uint64(k.OffsetEprocessDirectoryTableBase)
		}
		if s := uint64(k.SizeEProcess); s >= 0x100 && s <= maxEprocess {
			lay.size = s
		}
	}
	// System's UniqueProcessId (4) immediately precedes its
	// ActiveProcessLinks in every release (Vergilius EPROCESS).
	if pid, err := f.readPtr(ks, first-ptr); err != nil || pid != 4 {
		return lay, fmt.Errorf("%w: the pointer before its ActiveProcessLinks (%#x) is %#x, not PID 4 (%v)", errNoSystem, first, pid, err)
	}
	// Read System's possible EPROCESS extent, page by page: pages that
	// cannot be read stay zero and fail the checks below.
	lo := first - lay.size
	win := make([]byte, 2*lay.size)
	for off := uint64(0); off < uint64(len(win)); {
		n := min(PageSize-(lo+off)%PageSize, uint64(len(win))-off)
		_ = mem.ReadFull(ks, win[off:off+n], lo+off)
		off += n
	}
	at := func(addr uint64) []byte { return win[addr-lo:] } // addr in [lo, lo+len(win))
	le := binary.LittleEndian
	word := func(b []byte) uint64 {
		if ptr == 8 {
			return le.Uint64(b)
		}
		return uint64(le.Uint32(b))
	}
	kernelDTB := f.hdr.dtb & ks.pf.root
	phys := ks.phys
	found := false
	// Two passes: first demand the header's DirectoryTableBase (System's
	// own), then accept any page-aligned table the dump holds, since some
	// writers record the current process's CR3 instead.
	for pass := 0; pass < 2 && !found; pass++ {
		for apl := lay.dtb + ptr; apl+2*ptr <= lay.size; apl += ptr {
			base := first - apl
			if at(base)[0] != processObject {
				continue
			}
			dtb := word(at(base+lay.dtb)) & ks.pf.root
			if dtb == 0 {
				continue
			}
			if pass == 0 && dtb != kernelDTB {
				continue
			}
			var probe [8]byte
			if pass == 1 && mem.ReadFull(phys, probe[:], dtb) != nil {
				continue
			}
			lay.apl, found = apl, true
			break
		}
	}
	if !found {
		return lay, fmt.Errorf("%w: no offset below %#x puts a KPROCESS (type %d, DirectoryTableBase at +%#x) before its ActiveProcessLinks", errNoSystem, lay.size, processObject, lay.dtb)
	}
	base := first - lay.apl
	sys := win[base-lo : base-lo+lay.size]
	if i := bytes.Index(sys[lay.apl+2*ptr:], []byte("System\x00")); i >= 0 {
		lay.name = int64(lay.apl + 2*ptr + uint64(i))
	} else {
		f.viewDiag(model.Warning, "EPROCESS: ImageFileName \"System\" not found in System's EPROCESS at %#x; process names are unknown", base)
	}
	if k != nil && k.OffsetEprocessParentCID != 0 && uint64(k.OffsetEprocessParentCID)+ptr <= lay.size {
		// System has no parent.
		if word(sys[k.OffsetEprocessParentCID:]) == 0 {
			lay.ppid = int64(k.OffsetEprocessParentCID)
		} else {
			f.viewDiag(model.Warning, "EPROCESS: System's parent PID at KDDEBUGGER_DATA64.OffsetEprocessParentCID %#x is not 0; parent PIDs are unknown", k.OffsetEprocessParentCID)
		}
	} else {
		f.viewDiag(model.Note, "EPROCESS: parent PIDs are unknown without KDDEBUGGER_DATA64.OffsetEprocessParentCID")
	}
	if f.threadListValid(ks, base, base+thOff, k) {
		lay.threads = int64(thOff)
	} else {
		f.viewDiag(model.Note, "EPROCESS: KPROCESS.ThreadListHead could not be validated; thread counts are unknown")
	}
	return lay, nil
}

// threadListValid checks that the list at head links KTHREADs of the
// process at proc: for some KTHREAD.ThreadListEntry offset, the first entry
// minus it is a KTHREAD (type 6) whose ApcState.Process
// (KDDEBUGGER_DATA64.OffsetKThreadApcProcess) points back at proc.
func (f *File) threadListValid(ks *VirtualSpace, proc, head uint64, k *KDDebuggerData) bool {
	if k == nil || k.OffsetKThreadApcProcess == 0 {
		return false
	}
	t, err := f.readPtr(ks, head)
	if err != nil || t == head || !f.kernelPointer(ks, t) {
		return false
	}
	limit := uint64(0x1000)
	if s := uint64(k.SizeEThread); s >= 0x100 && s < limit {
		limit = s
	}
	ptr := f.kptrSize()
	for off := ptr; off < limit; off += ptr {
		thread := t - off
		if p, err := f.readPtr(ks, thread+uint64(k.OffsetKThreadApcProcess)); err != nil || p != proc {
			continue
		}
		var typ [1]byte
		if mem.ReadFull(ks, typ[:], thread) == nil && typ[0] == threadObject {
			return true
		}
	}
	return false
}
