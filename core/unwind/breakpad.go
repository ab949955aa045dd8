package unwind

import (
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/breakpad"
)

// BreakpadRules unwinds with the STACK CFI (amd64, arm64, arm) and STACK
// WIN (x86) records of the Breakpad symbol files a symbols.Set has loaded,
// as Breakpad's and rust-minidump's stack walkers do.
type BreakpadRules struct {
	Set  *symbols.Set
	Arch model.Arch
}

// calleeSaved are the registers a callee preserves: when the rules do not
// say where they went, the caller's value is the callee's.
var calleeSaved = map[model.Arch][]string{
	model.AMD64: {"rbx", "rbp", "r12", "r13", "r14", "r15"},
	model.X86:   {"ebx", "ebp", "esi", "edi"},
	model.ARM64: {"x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "fp"},
	model.ARM:   {"r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"},
}

// Caller implements Rules.
func (b BreakpadRules) Caller(pc uint64, callee Registers, read func(uint64, int) (uint64, error)) (Registers, bool, error) {
	if b.Set == nil {
		return nil, false, nil
	}
	mod, table, ok := b.Set.TableAt(pc)
	if !ok {
		return nil, false, nil
	}
	rva := pc - mod.Base
	spec := specs[b.Arch]
	ev := &breakpad.Evaluator{Width: spec.ptr, Vars: map[string]uint64{},
		Deref: func(a uint64) (uint64, error) { return read(a, spec.ptr) }}
	// x86 frames unwind by STACK WIN records: a Breakpad file's, or the
	// FrameData of a PDB (any table that offers them).
	if ws, ok := table.(winFrames); ok && b.Arch == model.X86 {
		if w, ok := ws.WinFrame(rva); ok {
			caller, err := winFrame(w, callee, ev)
			if err != nil {
				return nil, false, err
			}
			b.keepCalleeSaved(caller, callee)
			return caller, true, nil
		}
	}
	file, ok := table.(*breakpad.File)
	if !ok {
		return nil, false, nil
	}
	return b.cfi(file, rva, callee, ev)
}

// winFrames is a symbol table with STACK WIN records.
type winFrames interface {
	WinFrame(rva uint64) (*breakpad.WinFrameInfo, bool)
}

// cfi applies STACK CFI rules: Breakpad names x86 and amd64 registers with
// a $ prefix ("$rsp") and ARM registers without ("sp", "x29").
func (b BreakpadRules) cfi(file *breakpad.File, rva uint64, callee Registers, ev *breakpad.Evaluator) (Registers, bool, error) {
	rules, ok := file.CFIRules(rva)
	if !ok {
		return nil, false, nil
	}
	prefix := ""
	if b.Arch == model.AMD64 || b.Arch == model.X86 {
		prefix = "$"
	}
	for name, v := range callee {
		ev.Vars[prefix+cfiName(b.Arch, name)] = v
	}
	out, err := rules.Recover(ev)
	if err != nil {
		return nil, false, err
	}
	spec := specs[b.Arch]
	caller := Registers{spec.pc: out[".ra"], spec.sp: out[".cfa"]}
	for name, v := range out {
		if name == ".ra" || name == ".cfa" {
			continue
		}
		caller[regName(b.Arch, name[len(prefix):])] = v
	}
	b.keepCalleeSaved(caller, callee)
	return caller, true, nil
}

// cfiName and regName translate between the walker's register names and
// Breakpad's: arm64 CFI says x29/x30 where the walker says fp/lr.
func cfiName(a model.Arch, name string) string {
	if a == model.ARM64 {
		switch name {
		case "fp":
			return "x29"
		case "lr":
			return "x30"
		}
	}
	return name
}

func regName(a model.Arch, name string) string {
	if a == model.ARM64 {
		switch name {
		case "x29":
			return "fp"
		case "x30":
			return "lr"
		}
	}
	return name
}

func (b BreakpadRules) keepCalleeSaved(caller, callee Registers) {
	for _, r := range calleeSaved[b.Arch] {
		if _, ok := caller[r]; !ok {
			if v, ok := callee[r]; ok {
				caller[r] = v
			}
		}
	}
}

// winFrame runs a STACK WIN record's program (or, for FPO data without
// one, the program Breakpad's x86 walker synthesises) over the callee's
// registers.
func winFrame(w *breakpad.WinFrameInfo, callee Registers, ev *breakpad.Evaluator) (Registers, error) {
	// $eip is left out: the program must compute the caller's, and a
	// stale callee value would pass for one.
	for _, r := range []string{"ebp", "esp", "ebx", "esi", "edi"} {
		if v, ok := callee[r]; ok {
			ev.Vars["$"+r] = v
		}
	}
	// The return address is searched for above the callee's locals and
	// saved registers. The callee's own parameter size is not tracked, so
	// .cbCalleeParams is 0.
	raSearch := callee["esp"] + uint64(w.LocalSize) + uint64(w.SavedRegSize)
	ev.Vars[".cbCalleeParams"] = 0
	ev.Vars[".cbSavedRegs"] = uint64(w.SavedRegSize)
	ev.Vars[".cbLocals"] = uint64(w.LocalSize)
	ev.Vars[".cbParams"] = uint64(w.ParamSize)
	ev.Vars[".raSearchStart"] = raSearch
	ev.Vars[".raSearch"] = raSearch
	program := w.ProgramString
	if !w.HasProgramString {
		if w.AllocatesBasePointer {
			program = "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + ="
		} else {
			program = "$eip .raSearchStart ^ = $esp .raSearchStart 4 + ="
		}
	}
	if err := ev.Run(program); err != nil {
		return nil, err
	}
	caller := Registers{}
	for _, r := range []string{"eip", "esp", "ebp", "ebx", "esi", "edi"} {
		if v, ok := ev.Vars["$"+r]; ok {
			caller[r] = v
		}
	}
	return caller, nil
}
