package elfcore

import (
	"encoding/binary"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/model"
)

// The notes a thread has besides NT_PRSTATUS (floating-point, vector and
// architecture registers) become extra registers of its Context, after
// the general ones, under gdb's names and in gdb's "info all-registers"
// order:
//
//   - x86-64 and i386 (fpregs_x86.go): st0..st7 (10 bytes, Wide),
//     fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop, xmm0..15
//     (xmm0..7 on i386; Wide), mxcsr, ymm0..15 (Wide) with AVX, k0..k7,
//     zmm0..31, xmm16..31 and ymm16..31 with AVX-512, pkru — from
//     NT_X86_XSTATE when it has an XSAVE header, else NT_FPREGSET
//     (x86-64) / NT_PRXFPREG (i386) FXSAVE images, else i386's FSAVE
//     NT_PRFPREG;
//   - arm64 (fpregs_arm64.go): v0..v31 (Wide), with SVE z0..z31, p0..p15,
//     ffr (Wide) and vg, then fpsr, fpcr, pauth_dmask, pauth_cmask, tpidr
//     and tpidr2.
//
// A short or malformed note yields a diagnostic and the registers that
// fit; nothing is invented for the rest.

// notesAfter returns the notes between the NT_PRSTATUS at index i of
// f.Notes and the next one: that thread's other notes (and, for the first
// thread, the process notes the kernel writes in between).
func (f *File) notesAfter(i int) []elfx.Note {
	j := i + 1
	for j < len(f.Notes) && f.Notes[j].Type != NT_PRSTATUS {
		j++
	}
	return f.Notes[i+1 : j]
}

// addExtraRegs appends the registers of a thread's other notes to c.
func (f *File) addExtraRegs(c *Context, notes []elfx.Note) {
	if c == nil {
		return
	}
	switch c.arch {
	case model.AMD64, model.X86:
		f.x86Regs(c, notes)
	case model.ARM64:
		f.arm64Regs(c, notes)
	}
}

// coreOwned reports whether n is owned by "CORE" (FreeBSD: "FreeBSD"),
// as NT_FPREGSET is.
func coreOwned(n elfx.Note) bool { return n.Name == "CORE" || n.Name == "FreeBSD" }

// linuxOwned reports whether n is owned by "LINUX" (FreeBSD writes its
// NT_X86_XSTATE and NT_ARM_TLS under "FreeBSD").
func linuxOwned(n elfx.Note) bool { return n.Name == "LINUX" || n.Name == "FreeBSD" }

// diagOnce records a diagnostic unless an identical one exists: Threads
// decodes the notes again on every call.
func (f *File) diagOnce(sev model.Severity, off int64, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.diags {
		if d.Off == off && d.Msg == msg {
			return
		}
	}
	f.diags = append(f.diags, model.Diagnostic{Severity: sev, Off: off, Msg: msg})
}

// wideReg returns a register wider than 64 bits; b is copied and must be
// little-endian, as model.Reg.Wide is.
func wideReg(name string, b []byte) model.Reg {
	return model.Reg{Name: name, Size: len(b), Wide: append([]byte(nil), b...)}
}

// intReg returns a register of size bytes.
func intReg(name string, v uint64, size int) model.Reg {
	return model.Reg{Name: name, Value: v, Size: size}
}

// lsb reads the x86 notes and model.Reg.Wide, which are little-endian;
// arm64 notes are read in the core's byte order.
var lsb = binary.LittleEndian
