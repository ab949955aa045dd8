package minidump

import (
	"fmt"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

var _ model.ContextReader = (*File)(nil)

// ContextAt decodes a CONTEXT record stored in the process's memory at
// addr (an exception dispatcher's saved context, for .cxr). The record's
// size is the platform CONTEXT size of the dump's architecture.
func (f *File) ContextAt(addr uint64) (model.Context, error) {
	m, err := f.Memory()
	if err != nil {
		return nil, err
	}
	size := 0
	if si, err := f.SystemInfo(); err == nil {
		switch archName(si.ProcessorArchitecture) {
		case model.AMD64:
			size = contextAMD64Size
		case model.X86:
			size = contextX86Size
		case model.ARM64:
			size = contextARM64Size
		case model.ARM:
			size = contextARMWinSize
		}
	}
	if size == 0 {
		return nil, ErrUnsupportedContext
	}
	b := make([]byte, size)
	if err := mem.ReadFull(m, b, addr); err != nil {
		return nil, fmt.Errorf("context record at %#x: %w", addr, err)
	}
	return f.decodeContext(b, -1)
}
