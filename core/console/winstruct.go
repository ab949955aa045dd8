package console

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// Field offsets of the documented, stable parts of the Windows TEB, PEB and
// RTL_USER_PROCESS_PARAMETERS (winternl.h; NT_TIB is public), for 32- and
// 64-bit processes. Only what !teb and !peb print is listed: full layouts
// come from PDB types (issue 6).
type winLayout struct {
	tebStackBase, tebStackLimit, tebClientID, tebPEB, tebLastError uint64
	pebBeingDebugged, pebImageBase, pebLdr, pebParams              uint64
	paramsImagePath, paramsCommandLine                             uint64
}

var winLayouts = map[int]winLayout{
	8: {tebStackBase: 0x8, tebStackLimit: 0x10, tebClientID: 0x40, tebPEB: 0x60, tebLastError: 0x68,
		pebBeingDebugged: 0x2, pebImageBase: 0x10, pebLdr: 0x18, pebParams: 0x20,
		paramsImagePath: 0x60, paramsCommandLine: 0x70},
	4: {tebStackBase: 0x4, tebStackLimit: 0x8, tebClientID: 0x20, tebPEB: 0x30, tebLastError: 0x34,
		pebBeingDebugged: 0x2, pebImageBase: 0x8, pebLdr: 0xc, pebParams: 0x10,
		paramsImagePath: 0x38, paramsCommandLine: 0x40},
}

// winReader reads pointer-sized fields and UNICODE_STRINGs from a dump.
type winReader struct {
	m   mem.Reader
	ptr int
}

func (r winReader) ptrAt(a uint64) (uint64, error) {
	return mem.ReadUint(r.m, a, r.ptr, binary.LittleEndian)
}

func (r winReader) u32At(a uint64) (uint64, error) {
	return mem.ReadUint(r.m, a, 4, binary.LittleEndian)
}

// unicodeString reads a UNICODE_STRING: Length, MaximumLength (u16 each),
// padding to pointer alignment, then the Buffer pointer.
func (r winReader) unicodeString(a uint64) (string, error) {
	n, err := mem.ReadUint(r.m, a, 2, binary.LittleEndian)
	if err != nil {
		return "", err
	}
	buf, err := r.ptrAt(a + uint64(r.ptr))
	if err != nil {
		return "", err
	}
	b := make([]byte, min(n, 0x10000))
	if err := mem.ReadFull(r.m, b, buf); err != nil {
		return "", err
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// winContext returns what !teb and !peb need, or says plainly why not.
func winContext(env Env) (winReader, winLayout, model.Thread, error) {
	if env.Target().Info().OS.Family != model.Windows {
		return winReader{}, winLayout{}, model.Thread{}, &NotSupportedError{What: "the TEB and PEB exist only in Windows processes"}
	}
	m, err := memory(env)
	if err != nil {
		return winReader{}, winLayout{}, model.Thread{}, err
	}
	th, _, err := current(env)
	if err != nil {
		return winReader{}, winLayout{}, model.Thread{}, err
	}
	if th.TEB == 0 {
		return winReader{}, winLayout{}, model.Thread{}, &NotSupportedError{What: "the dump records no TEB address for this thread"}
	}
	ptr := ptrOf(env)
	return winReader{m: m, ptr: ptr}, winLayouts[ptr], th, nil
}

func runTEB(_ context.Context, env Env, _ *Invocation, out Output) error {
	r, l, th, err := winContext(env)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "TEB at %s\n", addr(env, th.TEB))
	base, err := r.ptrAt(th.TEB + l.tebStackBase)
	if err != nil {
		return &NotSupportedError{What: fmt.Sprintf("the TEB at %s is not in the dump", addr(env, th.TEB)), Err: err}
	}
	line := func(name string, v uint64, err error) {
		if err != nil {
			fmt.Fprintf(&b, "    %-22s ????????\n", name+":")
			return
		}
		fmt.Fprintf(&b, "    %-22s %s\n", name+":", addr(env, v))
	}
	line("StackBase", base, nil)
	limit, err := r.ptrAt(th.TEB + l.tebStackLimit)
	line("StackLimit", limit, err)
	pid, perr := r.ptrAt(th.TEB + l.tebClientID)
	tid, terr := r.ptrAt(th.TEB + l.tebClientID + uint64(r.ptr))
	if perr == nil && terr == nil {
		fmt.Fprintf(&b, "    %-22s %x . %x\n", "ClientId:", pid, tid)
	}
	peb, err := r.ptrAt(th.TEB + l.tebPEB)
	line("PEB Address", peb, err)
	if le, err := r.u32At(th.TEB + l.tebLastError); err == nil {
		fmt.Fprintf(&b, "    %-22s %d\n", "LastErrorValue:", le)
	}
	out.Text(b.String())
	return nil
}

func runPEB(_ context.Context, env Env, _ *Invocation, out Output) error {
	r, l, th, err := winContext(env)
	if err != nil {
		return err
	}
	peb, err := r.ptrAt(th.TEB + l.tebPEB)
	if err != nil {
		return &NotSupportedError{What: fmt.Sprintf("the TEB at %s is not in the dump, so the PEB cannot be found", addr(env, th.TEB)), Err: err}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "PEB at %s\n", addr(env, peb))
	dbg, err := mem.ReadUint(r.m, peb+l.pebBeingDebugged, 1, binary.LittleEndian)
	if err != nil {
		return &NotSupportedError{What: fmt.Sprintf("the PEB at %s is not in the dump", addr(env, peb)), Err: err}
	}
	fmt.Fprintf(&b, "    %-22s %s\n", "BeingDebugged:", map[bool]string{true: "Yes", false: "No"}[dbg != 0])
	for _, f := range []struct {
		name string
		off  uint64
	}{{"ImageBaseAddress", l.pebImageBase}, {"Ldr", l.pebLdr}, {"ProcessParameters", l.pebParams}} {
		if v, err := r.ptrAt(peb + f.off); err == nil {
			fmt.Fprintf(&b, "    %-22s %s\n", f.name+":", addr(env, v))
		}
	}
	if params, err := r.ptrAt(peb + l.pebParams); err == nil && params != 0 {
		for _, f := range []struct {
			name string
			off  uint64
		}{{"ImageFile", l.paramsImagePath}, {"CommandLine", l.paramsCommandLine}} {
			if s, err := r.unicodeString(params + f.off); err == nil {
				fmt.Fprintf(&b, "    %-22s '%s'\n", f.name+":", s)
			} else {
				fmt.Fprintf(&b, "    %-22s (not in the dump)\n", f.name+":")
			}
		}
	}
	out.Text(b.String())
	return nil
}
