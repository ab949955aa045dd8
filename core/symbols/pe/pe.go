package pe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
)

// On-image layout offsets. See https://learn.microsoft.com/windows/win32/debug/pe-format
const (
	dosMagic        = 0x5a4d // "MZ", IMAGE_DOS_HEADER.e_magic
	offLfanew       = 0x3c   // IMAGE_DOS_HEADER.e_lfanew
	peSignature     = 0x00004550
	sizeFileHeader  = 20 // IMAGE_FILE_HEADER
	magicPE32       = 0x10b
	magicPE32Plus   = 0x20b
	offDirsPE32     = 96  // DataDirectory in IMAGE_OPTIONAL_HEADER32
	offDirsPE32Plus = 112 // DataDirectory in IMAGE_OPTIONAL_HEADER64
	sizeExportDir   = 40  // IMAGE_EXPORT_DIRECTORY
	maxLfanew       = 1 << 16
)

// MaxExports caps the number of functions and names read from one export
// directory (the largest real DLLs export a few thousand).
const MaxExports = 1 << 16

// maxName bounds an export name's length.
const maxName = 512

// Export is one exported function.
type Export struct {
	Name    string // "CreateFileW", or "Ordinal<n>" when exported by ordinal only
	Ordinal uint32 // biased ordinal (IMAGE_EXPORT_DIRECTORY.Base + index)
	RVA     uint64
}

// Table is a module's exports sorted by RVA. It implements symbols.Table.
type Table struct {
	DLLName string // IMAGE_EXPORT_DIRECTORY.Name, "" when unreadable
	Exports []Export
}

var _ symbols.Table = (*Table)(nil)

// Source names the table's origin for symbol-status displays.
func (t *Table) Source() string { return "pe exports" }

// LookupRVA returns the export at or nearest before rva (Size 0: exports
// have no extent).
func (t *Table) LookupRVA(rva uint64) (symbols.Symbol, bool) {
	i := sort.Search(len(t.Exports), func(i int) bool { return t.Exports[i].RVA > rva }) - 1
	if i < 0 {
		return symbols.Symbol{}, false
	}
	for i > 0 && t.Exports[i-1].RVA == t.Exports[i].RVA {
		i--
	}
	return symbols.Symbol{Name: t.Exports[i].Name, Addr: t.Exports[i].RVA}, true
}

// Symbols yields every export in ascending RVA order.
func (t *Table) Symbols(yield func(symbols.Symbol) bool) {
	for _, e := range t.Exports {
		if !yield(symbols.Symbol{Name: e.Name, Addr: e.RVA}) {
			return
		}
	}
}

// Provider reads export tables from memory. It implements
// symbols.Provider.
type Provider struct {
	Mem mem.Reader
}

// NewProvider returns a provider reading images from r, the target's
// virtual memory.
func NewProvider(r mem.Reader) *Provider { return &Provider{Mem: r} }

// String names the provider.
func (p *Provider) String() string { return "pe exports" }

// Load reads m's export table from memory at m.Base.
func (p *Provider) Load(ctx context.Context, m model.Module) (symbols.Table, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := ReadExports(p.Mem, m.Base, m.Size)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ReadExports reads the export table of the image mapped at base, size
// bytes long (0 for unknown, which trusts the header's SizeOfImage bound
// of 2 GiB). Missing header pages, a non-PE image and an image without
// exports wrap symbols.ErrNoSymbols; an export directory whose arrays are
// not in the dump too.
func ReadExports(r mem.Reader, base, size uint64) (*Table, error) {
	if size == 0 || size > 1<<31 {
		size = 1 << 31
	}
	rd := reader{r: r, base: base, size: size}
	noSyms := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("pe exports at %#x: %s: %w: %w", base, what, symbols.ErrNoSymbols, err)
		}
		return fmt.Errorf("pe exports at %#x: %s: %w", base, what, symbols.ErrNoSymbols)
	}
	magic, err := rd.u16(0)
	if err != nil {
		return nil, noSyms("DOS header not in dump", err)
	}
	if magic != dosMagic {
		return nil, noSyms("no MZ signature", nil)
	}
	lfanew, err := rd.u32(offLfanew)
	if err != nil {
		return nil, noSyms("DOS header not in dump", err)
	}
	if lfanew > maxLfanew {
		return nil, noSyms("e_lfanew out of range", nil)
	}
	nt := uint64(lfanew)
	sig, err := rd.u32(nt)
	if err != nil {
		return nil, noSyms("PE header not in dump", err)
	}
	if sig != peSignature {
		return nil, noSyms("no PE signature", nil)
	}
	opt := nt + 4 + sizeFileHeader
	optMagic, err := rd.u16(opt)
	if err != nil {
		return nil, noSyms("optional header not in dump", err)
	}
	var dirs uint64
	switch optMagic {
	case magicPE32:
		dirs = opt + offDirsPE32
	case magicPE32Plus:
		dirs = opt + offDirsPE32Plus
	default:
		return nil, noSyms("unknown optional header magic", nil)
	}
	// NumberOfRvaAndSizes immediately precedes DataDirectory.
	nDirs, err := rd.u32(dirs - 4)
	if err != nil {
		return nil, noSyms("optional header not in dump", err)
	}
	if nDirs < 1 {
		return nil, noSyms("no export data directory", nil)
	}
	expRVA, err := rd.u32(dirs)
	if err != nil {
		return nil, noSyms("data directory not in dump", err)
	}
	expSize, err := rd.u32(dirs + 4)
	if err != nil {
		return nil, noSyms("data directory not in dump", err)
	}
	if expRVA == 0 || uint64(expRVA)+sizeExportDir > size {
		return nil, noSyms("no export directory", nil)
	}
	var dir [sizeExportDir]byte
	if err := rd.read(dir[:], uint64(expRVA)); err != nil {
		return nil, noSyms("export directory not in dump", err)
	}
	le := binary.LittleEndian
	nameRVA := le.Uint32(dir[12:])
	ordBase := le.Uint32(dir[16:])
	nFuncs := min(le.Uint32(dir[20:]), MaxExports)
	nNames := min(le.Uint32(dir[24:]), MaxExports)
	funcsRVA, namesRVA, ordsRVA := le.Uint32(dir[28:]), le.Uint32(dir[32:]), le.Uint32(dir[36:])

	t := &Table{}
	if nameRVA != 0 {
		t.DLLName = rd.cstring(uint64(nameRVA))
	}
	funcs := make([]byte, 4*int(nFuncs))
	if err := rd.read(funcs, uint64(funcsRVA)); err != nil {
		return nil, noSyms("export address table not in dump", err)
	}
	named := make([]string, nFuncs)
	if nNames > 0 {
		names := make([]byte, 4*int(nNames))
		ords := make([]byte, 2*int(nNames))
		errN := rd.read(names, uint64(namesRVA))
		errO := rd.read(ords, uint64(ordsRVA))
		if errN == nil && errO == nil {
			for i := range int(nNames) {
				idx := le.Uint16(ords[2*i:])
				if uint32(idx) >= nFuncs || named[idx] != "" {
					continue
				}
				named[idx] = rd.cstring(uint64(le.Uint32(names[4*i:])))
			}
		}
	}
	for i := range int(nFuncs) {
		rva := uint64(le.Uint32(funcs[4*i:]))
		if rva == 0 || rva >= size {
			continue
		}
		if rva >= uint64(expRVA) && rva < uint64(expRVA)+uint64(expSize) {
			continue // forwarder: "OTHERDLL.Name" string, not code
		}
		ord := ordBase + uint32(i)
		name := named[i]
		if name == "" {
			name = fmt.Sprintf("Ordinal%d", ord)
		}
		t.Exports = append(t.Exports, Export{Name: name, Ordinal: ord, RVA: rva})
	}
	slices.SortStableFunc(t.Exports, func(a, b Export) int {
		switch {
		case a.RVA < b.RVA:
			return -1
		case a.RVA > b.RVA:
			return 1
		}
		return 0
	})
	if len(t.Exports) == 0 {
		return nil, noSyms("export table is empty", nil)
	}
	return t, nil
}

// reader reads at RVAs of one image, refusing reads past its end.
type reader struct {
	r          mem.Reader
	base, size uint64
}

var errOutside = errors.New("read outside the image")

func (rd reader) read(p []byte, rva uint64) error {
	if rva > rd.size || uint64(len(p)) > rd.size-rva {
		return errOutside
	}
	return mem.ReadFull(rd.r, p, rd.base+rva)
}

func (rd reader) u16(rva uint64) (uint16, error) {
	var b [2]byte
	if err := rd.read(b[:], rva); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(b[:]), nil
}

func (rd reader) u32(rva uint64) (uint32, error) {
	var b [4]byte
	if err := rd.read(b[:], rva); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// cstring reads a NUL-terminated name of at most maxName bytes; it returns
// what it could read before a fault, or "" when nothing.
func (rd reader) cstring(rva uint64) string {
	if rva >= rd.size {
		return ""
	}
	buf := make([]byte, min(uint64(maxName), rd.size-rva))
	n, _ := rd.r.ReadMemory(buf, rd.base+rva)
	buf = buf[:n]
	if i := slices.Index(buf, 0); i >= 0 {
		return string(buf[:i])
	}
	return "" // unterminated within the bound or cut by a fault: not trusted
}
