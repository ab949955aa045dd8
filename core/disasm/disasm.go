package disasm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/crashbench/crashbench/core/model"
	"golang.org/x/arch/arm64/arm64asm"
	"golang.org/x/arch/x86/x86asm"
)

// Syntax selects the assembler dialect Text prints.
type Syntax uint8

const (
	// Intel is WinDbg's dialect and the default: "mov qword ptr [rsp+8],rbx".
	Intel Syntax = iota
	// GNU is the AT&T dialect of objdump and gdb: "mov %rbx,0x8(%rsp)".
	GNU
)

// Kind classifies an instruction for control-flow views (uf, stack scans).
type Kind uint8

const (
	// Other is any instruction that does not transfer control.
	Other Kind = iota
	// Call is a direct or indirect call (call, bl, blr).
	Call
	// Ret returns from a function.
	Ret
	// Jmp is an unconditional jump or branch.
	Jmp
	// CondJmp is a conditional jump or branch, including loops and cbz/tbz.
	CondJmp
	// Int3 is a breakpoint trap (int3, brk).
	Int3
)

// String returns the kind in lower case, e.g. "call".
func (k Kind) String() string {
	switch k {
	case Other:
		return "other"
	case Call:
		return "call"
	case Ret:
		return "ret"
	case Jmp:
		return "jmp"
	case CondJmp:
		return "condjmp"
	case Int3:
		return "int3"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Inst is one decoded instruction.
type Inst struct {
	Addr     uint64
	Len      int
	Bytes    []byte // the instruction's bytes, a copy
	Kind     Kind
	Target   uint64 // direct branch or call target; 0 for indirect or non-branches
	Mnemonic string // lowercase, without prefixes: "mov", "bl"

	x86  *x86asm.Inst
	arm  *arm64asm.Inst
	mode int // 16/32/64 for x86
}

// Bad reports whether i stands for bytes that did not decode. Range yields
// such a one-byte placeholder (shown as "???", as WinDbg does) so that a
// listing continues past data mixed into code.
func (i Inst) Bad() bool { return i.x86 == nil && i.arm == nil }

// Decoder decodes one instruction from code, which is located at addr.
// It returns an error when code does not start with a valid instruction or
// holds too few bytes for it.
type Decoder interface {
	Decode(code []byte, addr uint64) (Inst, error)
}

// ErrUnsupportedArch is returned by For for architectures without a decoder.
var ErrUnsupportedArch = errors.New("disasm: no disassembler for this architecture")

// DecodeError reports bytes that do not form an instruction.
type DecodeError struct {
	Arch model.Arch
	Addr uint64
	Err  error // the decoder's own error (x86asm.ErrTruncated, arm64asm's)
}

// Error formats the error as "disasm: amd64 at 0x1000: truncated instruction".
func (e *DecodeError) Error() string {
	return fmt.Sprintf("disasm: %s at %#x: %v", e.Arch, e.Addr, e.Err)
}

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// For returns the decoder for an architecture: amd64, x86 or arm64. Any
// other architecture yields an error wrapping ErrUnsupportedArch that names
// it.
func For(a model.Arch) (Decoder, error) {
	switch a {
	case model.AMD64:
		return x86Decoder{arch: a, mode: 64}, nil
	case model.X86:
		return x86Decoder{arch: a, mode: 32}, nil
	case model.ARM64:
		return arm64Decoder{}, nil
	}
	name := string(a)
	if name == "" {
		name = "unknown"
	}
	return nil, fmt.Errorf("%w: %s (supported: amd64, x86, arm64)", ErrUnsupportedArch, name)
}

// maxLen is the longest instruction a decoder can produce; Range and
// Backward size their reads with it.
func maxLen(d Decoder) int {
	if m, ok := d.(interface{ maxLen() int }); ok {
		return m.maxLen()
	}
	return 16
}

type x86Decoder struct {
	arch model.Arch
	mode int
}

func (x86Decoder) maxLen() int { return 15 }

func (d x86Decoder) Decode(code []byte, addr uint64) (Inst, error) {
	in, err := x86asm.Decode(code, d.mode)
	if err != nil {
		return Inst{}, &DecodeError{Arch: d.arch, Addr: addr, Err: err}
	}
	if in.Op == 0 || in.Len <= 0 || in.Len > len(code) {
		// x86asm reports a lone prefix (the bytes were cut short, or are
		// not code) as a pseudo-instruction without an opcode.
		if len(code) < 15 {
			return Inst{}, &DecodeError{Arch: d.arch, Addr: addr, Err: x86asm.ErrTruncated}
		}
		return Inst{}, &DecodeError{Arch: d.arch, Addr: addr, Err: x86asm.ErrUnrecognized}
	}
	i := Inst{Addr: addr, Len: in.Len, Bytes: append([]byte(nil), code[:in.Len]...), x86: &in, mode: d.mode}
	i.Mnemonic = strings.ToLower(in.Op.String())
	switch in.Op {
	case x86asm.CALL, x86asm.LCALL, x86asm.SYSCALL:
		i.Kind = Call
		if in.Op == x86asm.SYSCALL {
			i.Kind = Other
		}
	case x86asm.RET, x86asm.LRET, x86asm.IRET, x86asm.IRETD, x86asm.IRETQ:
		i.Kind = Ret
	case x86asm.JMP, x86asm.LJMP:
		i.Kind = Jmp
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JCXZ, x86asm.JE, x86asm.JECXZ,
		x86asm.JG, x86asm.JGE, x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP,
		x86asm.JNS, x86asm.JO, x86asm.JP, x86asm.JRCXZ, x86asm.JS,
		x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		i.Kind = CondJmp
	case x86asm.INT:
		if imm, ok := in.Args[0].(x86asm.Imm); ok && imm == 3 {
			i.Kind = Int3
		}
	}
	if code[0] == 0xcc {
		i.Kind, i.Mnemonic = Int3, "int3"
	}
	if i.Kind == Call || i.Kind == Jmp || i.Kind == CondJmp {
		if rel, ok := in.Args[0].(x86asm.Rel); ok {
			i.Target = addr + uint64(in.Len) + uint64(int64(rel))
			if d.mode == 32 {
				i.Target = uint64(uint32(i.Target))
			}
		}
	}
	return i, nil
}

type arm64Decoder struct{}

func (arm64Decoder) maxLen() int { return 4 }

func (arm64Decoder) Decode(code []byte, addr uint64) (Inst, error) {
	if len(code) < 4 {
		return Inst{}, &DecodeError{Arch: model.ARM64, Addr: addr, Err: errors.New("truncated instruction")}
	}
	in, err := arm64asm.Decode(code[:4])
	if err != nil {
		return Inst{}, &DecodeError{Arch: model.ARM64, Addr: addr, Err: err}
	}
	i := Inst{Addr: addr, Len: 4, Bytes: append([]byte(nil), code[:4]...), arm: &in}
	i.Mnemonic = strings.ToLower(in.Op.String())
	switch in.Op {
	case arm64asm.BL, arm64asm.BLR:
		i.Kind = Call
	case arm64asm.RET:
		i.Kind = Ret
	case arm64asm.BR:
		i.Kind = Jmp
	case arm64asm.B:
		i.Kind = Jmp
		if _, ok := in.Args[0].(arm64asm.Cond); ok {
			i.Kind = CondJmp
		}
	case arm64asm.CBZ, arm64asm.CBNZ, arm64asm.TBZ, arm64asm.TBNZ:
		i.Kind = CondJmp
	case arm64asm.BRK:
		i.Kind = Int3
	}
	if i.Kind == Call || i.Kind == Jmp || i.Kind == CondJmp {
		for _, a := range in.Args {
			if rel, ok := a.(arm64asm.PCRel); ok {
				i.Target = addr + uint64(int64(rel))
			}
		}
	}
	return i, nil
}
