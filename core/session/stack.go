package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/breakpad"
	"github.com/crashbench/crashbench/core/symbols/debuginfod"
	"github.com/crashbench/crashbench/core/symbols/elfsym"
	"github.com/crashbench/crashbench/core/symbols/image"
	"github.com/crashbench/crashbench/core/symbols/pdb"
	"github.com/crashbench/crashbench/core/symbols/pe"
	"github.com/crashbench/crashbench/core/symbols/symsrv"
	"github.com/crashbench/crashbench/core/unwind"
)

// engine holds what the session derives from the target and the symbol
// path on first use: modules, memory, symbols. It is built once per
// symbol path: .sympath and .reload replace it (Session.resetEngine).
type engine struct {
	modules    []model.Module
	memory     mem.Space // the dump's memory with matching module images underneath
	closers    []io.Closer
	imageFiles []string // image files mapped into memory
	symbols    *symbols.Set
	images     *image.Finder // module image files on the symbol path or beside the dump
	elfImages  *elfsym.Finder
	peUnwind   *unwind.PEUnwind
	cfi        *unwind.DWARFUnwind // .eh_frame/.debug_frame of ELF images
	symNotes   []string            // symbol path entries that could not be used, and why
}

// SymbolPathDirs returns the folders a WinDbg-style symbol path names
// that exist, in path order: plain folders and the local stores of
// srv*/symsrv*/cache* entries (symsrv.ParsePath), and notes on entries
// that cannot be used: plain folders that do not exist and entries
// ParsePath rejects. A server's cache that does not exist yet is no
// fault: the first download creates it.
func SymbolPathDirs(path string) (dirs, notes []string) {
	locals, servers, err := symsrv.ParsePath(path)
	for _, e := range joined(err) {
		notes = append(notes, e.Error())
	}
	caches := map[string]bool{}
	for _, srv := range servers {
		caches[srv.Cache] = true
	}
	for _, d := range locals {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			dirs = append(dirs, d)
		} else if !caches[d] && !isStoreEntry(path, d) {
			notes = append(notes, fmt.Sprintf("symbol path entry %q is not a folder", d))
		}
	}
	return dirs, notes
}

// isStoreEntry reports whether dir appears in path only inside a
// srv*/symsrv*/cache* entry (a store, created on first use).
func isStoreEntry(path, dir string) bool {
	for _, e := range strings.Split(path, ";") {
		if strings.TrimSpace(e) == dir {
			return false
		}
	}
	return true
}

// joined splits an errors.Join result into its errors.
func joined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// dwarfCacheDir is where compressed DWARF sections are kept inflated
// ($XDG_CACHE_HOME/crashbench/dwarf), "" when disabled or unknown.
func (s *Session) dwarfCacheDir() string {
	if s.opts.NoDWARFCache {
		return ""
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "crashbench", "dwarf")
}

// splitImagePath splits an image path ("a.out;/srv/bin") into the files
// and the folders it names; entries that do not exist are dropped.
func splitImagePath(path string) (files, dirs []string) {
	for _, e := range strings.Split(path, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		switch st, err := os.Stat(e); {
		case err != nil:
		case st.IsDir():
			dirs = append(dirs, e)
		default:
			files = append(files, e)
		}
	}
	return files, dirs
}

// engine returns the session's engine, building it on first use.
func (s *Session) engine() *engine {
	s.engMu.Lock()
	defer s.engMu.Unlock()
	if s.eng == nil {
		s.eng = s.newEngine()
	}
	return s.eng
}

// resetEngine drops the engine, so the next question builds one from the
// current symbol path with every module's symbols deferred again. The
// old engine's mapped images stay open until Close: a caller may still
// hold memory or tables from it.
func (s *Session) resetEngine() {
	s.engMu.Lock()
	defer s.engMu.Unlock()
	if s.eng != nil {
		s.retired = append(s.retired, s.eng.closers...)
		s.eng = nil
	}
}

func (s *Session) newEngine() *engine {
	e := &engine{}
	{
		t := s.d.Target
		if ml, ok := t.(model.ModuleLister); ok {
			if mods, err := ml.Modules(); err == nil {
				e.modules = mods
			}
		}
		if mr, ok := t.(model.MemoryReader); ok {
			if m, err := mr.Memory(); err == nil {
				e.memory = m
			}
		}
		// A Linux kernel dump's modules, memory and vmlinux symbols come
		// from the kernel in it: its kernel virtual address space, its
		// module list and its kallsyms.
		var kernel *linux.Kernel
		if k, err := s.linuxKernel(); err == nil {
			kernel = k
			e.modules = linuxModules(k)
			e.memory = k.Virtual()
		} else if km, ok := t.(interface{ KernelMemory() (mem.Space, error) }); ok {
			// FreeBSD minidumps: the direct map and the kernel map.
			if m, err := km.KernelMemory(); err == nil {
				e.memory = m
			}
		}
		sympath := s.SymbolPath()
		dirs, notes := SymbolPathDirs(sympath)
		e.symNotes = notes
		// Symbols kept next to the dump (a symbols/ folder in Breakpad's
		// layout, as crash-report tooling ships them) are found without
		// a symbol path.
		here := filepath.Dir(s.d.Path)
		var providers []symbols.Provider
		providers = append(providers, breakpad.NewDir(append(slices.Clone(dirs), filepath.Join(here, "symbols"), here)...))
		// Module images (the .exe and .dll files) are looked for on the
		// symbol path and beside the dump, as WinDbg's exe path does:
		// their DWARF or COFF symbols name frames, and their x64 unwind
		// tables walk stacks without Breakpad CFI.
		// Images named with ImagePath come first; Linux modules are also
		// looked for by their own path (under the sysroot) and their
		// debug files in /usr/lib/debug, as gdb does.
		imageFiles, imageDirs := splitImagePath(s.opts.ImagePath)
		e.modules = append(e.modules, namedExecutables(imageFiles, e.modules)...)
		e.images = &image.Finder{Dirs: append(append(imageDirs, dirs...), here)}
		elfImages := &elfsym.Finder{Dirs: e.images.Dirs, Files: imageFiles, Sysroot: s.opts.Sysroot}
		// debuginfod (DEBUGINFOD_URLS) is asked only when a frame needs a
		// module's symbols or unwind tables, never for every module while
		// the session opens.
		onDemand := *elfImages
		if client := debuginfod.NewClient(); len(client.URLs) > 0 {
			if s.opts.Offline {
				client.URLs = nil // what earlier runs downloaded is still read from the cache
			}
			onDemand.Fetch = client.Fetch
		}
		e.elfImages = &onDemand
		if m, closers, used := withImages(e.memory, e.modules, e.images, elfImages); len(closers) > 0 {
			// (Symbol servers are not asked here, for every module as
			// the session opens: only below, when a frame needs one.)
			if sp, ok := m.(mem.Space); ok {
				e.memory, e.closers, e.imageFiles = sp, closers, used
			}
		}
		// srv*CACHE*URL entries: images and PDBs are downloaded into the
		// cache (itself a local store) when unwinding or naming needs them.
		pdbs := pdbProvider{local: pdb.NewProvider(pdb.Finder{Roots: e.images.Dirs}), images: e.images}
		var clients symsrv.Clients
		if _, servers, _ := symsrv.ParsePath(sympath); len(servers) > 0 {
			if s.opts.Offline {
				// Offline: the caches are read, the servers not asked.
				for i := range servers {
					servers[i].URLs = nil
				}
			}
			clients = symsrv.NewClients(servers)
			onDemand := *e.images
			onDemand.Fetch = clients.Fetch
			e.images = &onDemand
			pdbs.images, pdbs.fetch = e.images, onDemand.Fetch
		}
		// A PDB names more than the image's own DWARF/COFF symbols or its
		// exports: it comes first among the PE sources.
		providers = append(providers, pdbs)
		if clients != nil {
			// Breakpad .sym files on the servers (Mozilla's and
			// symbolicator's layout, name.pdb/ID/name.sym), asked after
			// the PDB: a Microsoft server has none.
			providers = append(providers, &breakpad.Dir{Fetch: clients.FetchFile})
		}
		providers = append(providers, image.NewProvider(e.images),
			&elfsym.Provider{Finder: e.elfImages, CacheDir: s.dwarfCacheDir()}, memELFProvider{e})
		// Unwinding may fetch images too: under the context of the
		// command running, so that cancelling it stops the download.
		findImage := func(m model.Module) (string, bool) { return e.images.FindContext(s.loadContext(), m) }
		e.peUnwind = unwind.NewPEUnwind(e.modules, unwind.OpenFiles(findImage))
		e.cfi = unwind.NewDWARFUnwind(e.modules, unwind.OpenFirst(unwind.OpenFiles(e.elfImages.Find), e.openMemELF))
		if e.memory != nil {
			providers = append(providers, pe.NewProvider(e.memory))
		}
		if kernel != nil {
			providers = append(providers, kallsymsProvider{kernel})
		}
		var loaded []model.Module
		for _, m := range e.modules {
			if !m.Unloaded {
				loaded = append(loaded, m)
			}
		}
		e.symbols = symbols.NewResolver(loaded, providers...)
		e.symbols.SetContext(s.loadContext())
	}
	return e
}

// Modules returns the target's modules (loaded and unloaded), or nil.
func (s *Session) Modules() []model.Module { return s.engine().modules }

// Memory returns the target's default address space, or nil when the dump
// holds no memory.
func (s *Session) Memory() mem.Space { return s.engine().memory }

// Symbols returns the symbol resolver over the target's loaded modules.
func (s *Session) Symbols() *symbols.Set { return s.engine().symbols }

// SymbolNotes says which symbol-path entries could not be used.
func (s *Session) SymbolNotes() []string { return s.engine().symNotes }

// Threads returns the target's threads.
func (s *Session) Threads() ([]model.Thread, error) {
	tl, ok := s.d.Target.(model.ThreadLister)
	if !ok {
		return nil, ErrNoThreads
	}
	return tl.Threads()
}

// ErrNoThreads says the dump kind records no threads (yet).
var ErrNoThreads = errors.New("this dump has no thread list")

// ErrNoMemory says the dump holds no memory to walk a stack in.
var ErrNoMemory = errors.New("this dump holds no memory")

// Stack walks a thread's stack from ctx (its own context, or the
// exception context for the crashing thread).
func (s *Session) Stack(ctx context.Context, regs model.Context) ([]unwind.Frame, error) {
	e := s.engine()
	if regs == nil {
		return nil, errors.New("no register context for this thread")
	}
	var m mem.Reader = e.memory
	if m == nil {
		m = emptyMemory{}
	}
	rules := unwind.Chain{unwind.BreakpadRules{Set: e.symbols, Arch: regs.Arch()}}
	switch regs.Arch() {
	case model.AMD64, model.ARM64:
		rules = append(rules, e.peUnwind, e.cfi)
	case model.X86, model.ARM, model.PPC64, model.PPC64LE, model.PPC, model.S390X, model.MIPS, model.MIPS64, model.RISCV64:
		rules = append(rules, e.cfi)
	}
	return unwind.Walk(ctx, m, regs, e.modules, unwind.Options{Rules: rules, IsCode: e.isCode, IsOutermost: e.isOutermost})
}

// emptyMemory answers every read with "not in dump", so a dump without
// memory still yields its context frame.
type emptyMemory struct{}

func (emptyMemory) ReadMemory(p []byte, addr uint64) (int, error) {
	return 0, &mem.FaultError{Space: "memory", Addr: addr, Kind: mem.NotInDump}
}

// isCode judges a scanned stack word as Breakpad does: it must lie in a
// loaded module, and when that module has symbols, inside a named function
// (a word pointing at an ELF header or into data is no return address).
func (e *engine) isCode(pc uint64) bool {
	mod, table, ok := e.symbols.TableAt(pc)
	if !ok {
		return false
	}
	if table == nil {
		// Without symbols, any address in the module, except a PE
		// image's headers: the smallest header area (DOS and NT headers,
		// one section entry) is a 0x200-byte file-alignment unit, and
		// its base address, a common value on stacks (ImageBase fields,
		// HMODULEs), would otherwise scan as a frame "nt+0x0".
		return !(isPEName(mod.Name()) && pc-mod.Base < peMinHeaders)
	}
	sym, ok := table.LookupRVA(pc - mod.Base)
	return ok && sym.Name != "" && !sym.Data
}

// threadEntries are the routines a thread's stack starts in.
var threadEntries = map[string]bool{
	"_start": true, "__start": true, "start_thread": true, "thread_start": true, "_thread_start": true,
	"clone": true, "__clone": true, "__clone3": true, "__clone_internal": true,
	"RtlUserThreadStart": true, "_RtlUserThreadStart": true,
}

func (e *engine) isOutermost(pc uint64) bool {
	sym, ok := e.symbols.Lookup(pc)
	return ok && threadEntries[sym.Name]
}

// peMinHeaders is the smallest size of a PE image's headers: the
// FileAlignment minimum (PE format, "Optional Header Windows-Specific
// Fields"), which SizeOfHeaders is rounded up to.
const peMinHeaders = 0x200

// isPEName says whether a module's file name is a Windows image's.
func isPEName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".exe", ".dll", ".sys", ".drv", ".ocx", ".cpl", ".efi", ".scr", ".mui":
		return true
	}
	return false
}
