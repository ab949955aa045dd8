package session

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// maxAbortMessage bounds the message read from a dump: glibc allocates the
// buffer with mmap, so it is at least a page, but the text is one line.
const maxAbortMessage = 4096

// abortMessage returns the text glibc left for the debugger when a process
// aborted through assert() or a malloc check ("free(): double free
// detected in tcache 2"): __assert_fail and __libc_message store it in
// `struct abort_msg_s { unsigned int size; char msg[]; } *__abort_msg`
// before calling abort(), exactly so that a core shows why (gdb: `p
// __abort_msg->msg`). The symbol is in libc's .dynsym (GLIBC_PRIVATE), so
// it needs libc's own file, found by build id like every image. It
// returns "" when the dump has no glibc, the file is missing, or the
// pointer is null (a plain abort()).
// It is read once per session: every analysis asks for it.
func (s *Session) abortMessage() string {
	s.abort.Do(func() { s.abortMsg = s.readAbortMessage() })
	return s.abortMsg
}

func (s *Session) readAbortMessage() string {
	e := s.engine()
	if e.memory == nil || e.elfImages == nil {
		return ""
	}
	for _, m := range e.modules {
		if m.Unloaded || !isGlibc(m.Name()) {
			continue
		}
		path, ok := e.elfImages.Find(m)
		if !ok {
			return ""
		}
		addr, ptrSize, order, ok := dynamicSymbol(path, "__abort_msg", m.Base)
		if !ok {
			return ""
		}
		ptr, err := mem.ReadUint(e.memory, addr, ptrSize, order)
		if err != nil || ptr == 0 {
			return ""
		}
		size, err := mem.ReadUint(e.memory, ptr, 4, order)
		if err != nil || size <= 4 {
			return ""
		}
		buf := make([]byte, min(size-4, maxAbortMessage))
		n, _ := e.memory.ReadMemory(buf, ptr+4)
		text, _, _ := bytes.Cut(buf[:n], []byte{0})
		return strings.TrimSpace(string(text))
	}
	return ""
}

// isGlibc matches glibc's file names: libc.so.6, and libc-2.31.so before
// glibc 2.34 merged the versioned name away.
func isGlibc(name string) bool {
	return name == "libc.so.6" || strings.HasPrefix(name, "libc-2.") && strings.HasSuffix(name, ".so")
}

// dynamicSymbol returns the run-time address of an exported symbol of the
// ELF file at path loaded at base (the mapping of its first segment; see
// elfsym's package doc for the link-base rule), with the file's pointer
// size and byte order.
func dynamicSymbol(path, name string, base uint64) (addr uint64, ptrSize int, order binary.ByteOrder, ok bool) {
	mf, err := mem.OpenFile(path)
	if err != nil {
		return 0, 0, nil, false
	}
	defer mf.Close()
	f, err := elf.NewFile(mf)
	if err != nil {
		return 0, 0, nil, false
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return 0, 0, nil, false
	}
	link := ^uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			link = min(link, p.Vaddr&^0xfff)
		}
	}
	ptrSize = 8
	if f.Class == elf.ELFCLASS32 {
		ptrSize = 4
	}
	for _, sym := range syms {
		if sym.Name == name && sym.Value >= link && elf.ST_TYPE(sym.Info) == elf.STT_OBJECT {
			return base + sym.Value - link, ptrSize, f.ByteOrder, true
		}
	}
	return 0, 0, nil, false
}

// crashMessage fills in the crash's message where the dump holds one and
// the format did not: glibc's abort message for signals.
func (s *Session) crashMessage(c *model.Crash) string {
	if c == nil || c.Message != "" || c.Kind != model.Signal {
		return ""
	}
	return s.abortMessage()
}
