package kdmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// KDDEBUGGER_DATA64 (wdbgexts.h), the block the header's KdDebuggerDataBlock
// points at. Offsets checked against the Windows metadata's
// KDDEBUGGER_DATA64 and QEMU's contrib/elf2dmp/kdbg.h. 32-bit kernels use
// the same 64-bit layout with pointers sign-extended. The block grew with
// each release; DBGKD_DEBUG_DATA_HEADER64.Size says how much of it this
// kernel fills, so fields past Size are absent.
const (
	KDBGOwnerTag = "KDBG" // DBGKD_DEBUG_DATA_HEADER64.OwnerTag

	kd64HeaderSize = 0x18 // DBGKD_DEBUG_DATA_HEADER64: LIST_ENTRY64 List, ULONG OwnerTag, ULONG Size
	kd64OwnerTag   = 0x10
	kd64Size       = 0x14

	kd64KernBase            = 0x18
	kd64PsLoadedModuleList  = 0x48
	kd64PsActiveProcessHead = 0x50
	kd64PspCidTable         = 0x58
	kd64MmPfnDatabase       = 0xc0
	kd64MmSystemRangeStart  = 0x1d0
	kd64KiProcessorBlock    = 0x218
	// Server 2003 additions: USHORT offsets into kernel structures.
	kd64OffsetKThreadNextProcessor       = 0x298
	kd64OffsetKThreadTeb                 = 0x29a
	kd64OffsetKThreadKernelStack         = 0x29c
	kd64OffsetKThreadInitialStack        = 0x29e
	kd64OffsetKThreadApcProcess          = 0x2a0
	kd64OffsetKThreadState               = 0x2a2
	kd64SizeEProcess                     = 0x2a8
	kd64OffsetEprocessPeb                = 0x2aa
	kd64OffsetEprocessParentCID          = 0x2ac
	kd64OffsetEprocessDirectoryTableBase = 0x2ae
	kd64SizePrcb                         = 0x2b0
	kd64OffsetPrcbCurrentThread          = 0x2b4
	kd64OffsetPrcbProcStateContext       = 0x2bc
	kd64OffsetPrcbNumber                 = 0x2be
	kd64SizeEThread                      = 0x2c0
	kd64L1tfHighPhysicalBitIndex         = 0x2c2 // 19H1
	kd64L1tfSwizzleBitIndex              = 0x2c3
	kd64KeLoaderBlock                    = 0x2d8
	kd64OffsetPcrCurrentPrcb             = 0x2e4
	kd64OffsetPrcbProcStateSpecialReg    = 0x2f2 // KPRCB.ProcessorState.SpecialRegisters
	kd64OffsetPrcbContext                = 0x338 // Windows 7
	kd64OffsetKThreadStackLimit          = 0x340 // Windows 8 (ULONG)
	kd64OffsetKThreadStackBase           = 0x344
	kd64PteBase                          = 0x360 // Windows 10 RS1

	// kd64MinSize covers the fields the lists need (up to
	// PsActiveProcessHead); kd64MaxSize bounds what a corrupt Size can make
	// us read (real blocks are under 0x400 bytes).
	kd64MinSize = kd64PsActiveProcessHead + 8
	kd64MaxSize = 0x1000
)

// ErrKDBGEncoded is wrapped by KDDebuggerData's error when the block's
// OwnerTag is not "KDBG": Windows 8+ keeps it encoded (KdpDataBlockEncoded)
// until a crash dump or debugger decodes it, and decoding needs
// nt!KiWaitNever, nt!KiWaitAlways and the address of
// nt!KdpDataBlockEncoded, which only symbols locate. See DecodeKDBG.
var ErrKDBGEncoded = errors.New("KDDEBUGGER_DATA64 is encoded")

// KDDebuggerData is the part of KDDEBUGGER_DATA64 this package decodes.
// Fields past Size are zero. On 32-bit kernels the pointers are truncated to
// 32 bits (the block stores them sign-extended).
type KDDebuggerData struct {
	Address uint64 // virtual address of the block
	Size    uint32 // Header.Size: the bytes this kernel fills

	KernBase            uint64
	PsLoadedModuleList  uint64
	PsActiveProcessHead uint64
	PspCidTable         uint64
	MmPfnDatabase       uint64
	MmSystemRangeStart  uint64
	KiProcessorBlock    uint64
	KeLoaderBlock       uint64
	PteBase             uint64

	OffsetKThreadNextProcessor       uint16
	OffsetKThreadTeb                 uint16
	OffsetKThreadKernelStack         uint16
	OffsetKThreadInitialStack        uint16
	OffsetKThreadApcProcess          uint16
	OffsetKThreadState               uint16
	SizeEProcess                     uint16
	OffsetEprocessPeb                uint16
	OffsetEprocessParentCID          uint16
	OffsetEprocessDirectoryTableBase uint16
	SizePrcb                         uint16
	OffsetPrcbCurrentThread          uint16
	OffsetPrcbProcStateContext       uint16
	OffsetPrcbNumber                 uint16
	SizeEThread                      uint16
	L1tfHighPhysicalBitIndex         uint8
	L1tfSwizzleBitIndex              uint8
	OffsetPcrCurrentPrcb             uint16
	OffsetPrcbProcStateSpecialReg    uint16
	OffsetPrcbContext                uint16
	OffsetKThreadStackLimit          uint32
	OffsetKThreadStackBase           uint32
}

// Has reports whether the field at byte offset off of size n lies within
// Size, i.e. whether this kernel fills it.
func (k *KDDebuggerData) Has(off, n int) bool { return off >= 0 && n > 0 && off+n <= int(k.Size) }

// DecodeKDBG decodes, in place, a KDDEBUGGER_DATA64 block that Windows 8+
// keeps encoded (KdCopyDataBlock's inverse). Each 64-bit word w becomes
//
//	bswap(rol(w ^ KiWaitNever, KiWaitNever & 0xff) ^ KdpDataBlockEncoded) ^ KiWaitAlways
//
// where dataBlockEncoded is the address of nt!KdpDataBlockEncoded, as
// QEMU's contrib/elf2dmp (kdbg_decode, after Volatility) computes it; the
// rotation count is taken modulo 64. A trailing partial word is left alone.
func DecodeKDBG(block []byte, waitNever, waitAlways, dataBlockEncoded uint64) {
	for i := 0; i+8 <= len(block); i += 8 {
		w := binary.LittleEndian.Uint64(block[i:])
		w = bits.RotateLeft64(w^waitNever, int(waitNever&0xff))
		w = bits.ReverseBytes64(w^dataBlockEncoded) ^ waitAlways
		binary.LittleEndian.PutUint64(block[i:], w)
	}
}

// ParseKDDebuggerData decodes a plain (not encoded) block read at addr.
// block may be shorter than its Size; missing fields stay zero.
func ParseKDDebuggerData(block []byte, addr uint64, is64 bool) (*KDDebuggerData, error) {
	if len(block) < kd64HeaderSize {
		return nil, fmt.Errorf("kdmp: KDDEBUGGER_DATA64 at %#x: %d bytes, want at least %#x", addr, len(block), kd64HeaderSize)
	}
	if tag := string(block[kd64OwnerTag : kd64OwnerTag+4]); tag != KDBGOwnerTag {
		return nil, fmt.Errorf("kdmp: KDDEBUGGER_DATA64 at %#x: OwnerTag %q, not %q: %w", addr, tag, KDBGOwnerTag, ErrKDBGEncoded)
	}
	le := binary.LittleEndian
	k := &KDDebuggerData{Address: addr, Size: le.Uint32(block[kd64Size:])}
	if k.Size < kd64MinSize {
		return nil, fmt.Errorf("kdmp: KDDEBUGGER_DATA64 at %#x: Size %#x is too small to hold PsActiveProcessHead", addr, k.Size)
	}
	limit := min(int(min(k.Size, kd64MaxSize)), len(block))
	u64 := func(off int) uint64 {
		if off+8 > limit {
			return 0
		}
		v := le.Uint64(block[off:])
		if !is64 {
			v &= 0xffffffff
		}
		return v
	}
	u32 := func(off int) uint32 {
		if off+4 > limit {
			return 0
		}
		return le.Uint32(block[off:])
	}
	u16 := func(off int) uint16 {
		if off+2 > limit {
			return 0
		}
		return le.Uint16(block[off:])
	}
	u8 := func(off int) uint8 {
		if off+1 > limit {
			return 0
		}
		return block[off]
	}
	k.KernBase = u64(kd64KernBase)
	k.PsLoadedModuleList = u64(kd64PsLoadedModuleList)
	k.PsActiveProcessHead = u64(kd64PsActiveProcessHead)
	k.PspCidTable = u64(kd64PspCidTable)
	k.MmPfnDatabase = u64(kd64MmPfnDatabase)
	k.MmSystemRangeStart = u64(kd64MmSystemRangeStart)
	k.KiProcessorBlock = u64(kd64KiProcessorBlock)
	k.KeLoaderBlock = u64(kd64KeLoaderBlock)
	k.PteBase = u64(kd64PteBase)
	k.OffsetKThreadNextProcessor = u16(kd64OffsetKThreadNextProcessor)
	k.OffsetKThreadTeb = u16(kd64OffsetKThreadTeb)
	k.OffsetKThreadKernelStack = u16(kd64OffsetKThreadKernelStack)
	k.OffsetKThreadInitialStack = u16(kd64OffsetKThreadInitialStack)
	k.OffsetKThreadApcProcess = u16(kd64OffsetKThreadApcProcess)
	k.OffsetKThreadState = u16(kd64OffsetKThreadState)
	k.SizeEProcess = u16(kd64SizeEProcess)
	k.OffsetEprocessPeb = u16(kd64OffsetEprocessPeb)
	k.OffsetEprocessParentCID = u16(kd64OffsetEprocessParentCID)
	k.OffsetEprocessDirectoryTableBase = u16(kd64OffsetEprocessDirectoryTableBase)
	k.SizePrcb = u16(kd64SizePrcb)
	k.OffsetPrcbCurrentThread = u16(kd64OffsetPrcbCurrentThread)
	k.OffsetPrcbProcStateContext = u16(kd64OffsetPrcbProcStateContext)
	k.OffsetPrcbNumber = u16(kd64OffsetPrcbNumber)
	k.SizeEThread = u16(kd64SizeEThread)
	k.L1tfHighPhysicalBitIndex = u8(kd64L1tfHighPhysicalBitIndex)
	k.L1tfSwizzleBitIndex = u8(kd64L1tfSwizzleBitIndex)
	k.OffsetPcrCurrentPrcb = u16(kd64OffsetPcrCurrentPrcb)
	k.OffsetPrcbProcStateSpecialReg = u16(kd64OffsetPrcbProcStateSpecialReg)
	k.OffsetPrcbContext = u16(kd64OffsetPrcbContext)
	k.OffsetKThreadStackLimit = u32(kd64OffsetKThreadStackLimit)
	k.OffsetKThreadStackBase = u32(kd64OffsetKThreadStackBase)
	return k, nil
}

// KDDebuggerData reads KDDEBUGGER_DATA64 at the header's
// KdDebuggerDataBlock through the kernel space. An encoded block yields an
// error wrapping ErrKDBGEncoded (and a diagnostic); the module and process
// lists then fall back to the header's own list heads and to heuristics.
// Computed once.
func (f *File) KDDebuggerData() (*KDDebuggerData, error) { return f.views().kdbg() }

// DecodedKDDebuggerData reads the block at KdDebuggerDataBlock, decodes it
// with the keys (see DecodeKDBG) and parses it: for callers that found
// nt!KiWaitNever, nt!KiWaitAlways and nt!KdpDataBlockEncoded in symbols.
func (f *File) DecodedKDDebuggerData(waitNever, waitAlways, dataBlockEncoded uint64) (*KDDebuggerData, error) {
	block, addr, err := f.readKDBG(func(hdr []byte) { DecodeKDBG(hdr, waitNever, waitAlways, dataBlockEncoded) })
	if err != nil {
		return nil, err
	}
	return ParseKDDebuggerData(block, addr, f.hdr.is64)
}

// readKDBG reads the block's header, passes it through decode (which may
// be nil), and then reads and decodes as many bytes as its Size claims,
// bounded by kd64MaxSize and by what is readable.
func (f *File) readKDBG(decode func([]byte)) ([]byte, uint64, error) {
	addr := f.hdr.kdDebug
	if f.unset(addr) {
		return nil, addr, fmt.Errorf("kdmp: KdDebuggerDataBlock is not recorded: %w", model.ErrNotRecorded)
	}
	ks, err := f.KernelSpace()
	if err != nil {
		return nil, addr, err
	}
	var hdr [kd64HeaderSize]byte
	if err := mem.ReadFull(ks, hdr[:], addr); err != nil {
		return nil, addr, fmt.Errorf("kdmp: reading KDDEBUGGER_DATA64 at %#x: %w", addr, err)
	}
	if decode != nil {
		decode(hdr[:])
	}
	if string(hdr[kd64OwnerTag:kd64OwnerTag+4]) != KDBGOwnerTag {
		return hdr[:], addr, nil // ParseKDDebuggerData reports it
	}
	size := min(binary.LittleEndian.Uint32(hdr[kd64Size:]), kd64MaxSize)
	size = max(size, kd64HeaderSize) &^ 7
	block := make([]byte, size)
	n, _ := ks.ReadMemory(block, addr) // a short block still yields its first fields
	block = block[:n&^7]
	if decode != nil {
		decode(block)
	}
	return block, addr, nil
}

func (f *File) buildKDBG() (*KDDebuggerData, error) {
	block, addr, err := f.readKDBG(nil)
	if err != nil {
		if !errors.Is(err, model.ErrNotRecorded) {
			f.viewDiag(model.Warning, "KDDEBUGGER_DATA64: %v", err)
		}
		return nil, err
	}
	k, err := ParseKDDebuggerData(block, addr, f.hdr.is64)
	if errors.Is(err, ErrKDBGEncoded) {
		f.viewDiag(model.Warning, "KDDEBUGGER_DATA64 at %#x is encoded (OwnerTag %q): decoding needs nt!KiWaitNever, nt!KiWaitAlways and nt!KdpDataBlockEncoded from symbols; using the header's list heads and heuristics instead",
			addr, block[kd64OwnerTag:kd64OwnerTag+4])
		return nil, err
	}
	if err != nil {
		f.viewDiag(model.Warning, "%v", err)
		return nil, err
	}
	if uint64(len(block)) < uint64(min(k.Size, kd64MaxSize))&^7 {
		f.viewDiag(model.Warning, "KDDEBUGGER_DATA64 at %#x: only %#x of its %#x bytes are readable", addr, len(block), k.Size)
	}
	if k.Size > kd64MaxSize {
		f.viewDiag(model.Warning, "KDDEBUGGER_DATA64 at %#x: Size %#x is implausible; read %#x bytes", addr, k.Size, kd64MaxSize)
	}
	h := &f.hdr
	for _, c := range []struct {
		name      string
		hdr, kdbg uint64
	}{
		{"PsLoadedModuleList", h.psLoaded, k.PsLoadedModuleList},
		{"PsActiveProcessHead", h.psActive, k.PsActiveProcessHead},
	} {
		if !f.unset(c.hdr) && c.kdbg != 0 && c.hdr != c.kdbg {
			f.viewDiag(model.Warning, "the header's %s is %#x but KDDEBUGGER_DATA64 says %#x", c.name, c.hdr, c.kdbg)
		}
	}
	return k, nil
}
