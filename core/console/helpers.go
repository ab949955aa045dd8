package console

import (
	"errors"
	"fmt"
	"strings"

	"github.com/crashbench/crashbench/core/disasm"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
)

// PointerSize returns 4 for 32-bit architectures and 8 otherwise.
func PointerSize(a model.Arch) int {
	switch a {
	case model.X86, model.ARM, model.PPC, model.MIPS, model.RISCV32, model.SPARC, model.M68K, model.S390, model.HPPA:
		return 4
	}
	return 8
}

// FormatAddr prints an address in WinDbg form for the pointer size:
// "00007ff6`00001000" or "00401000".
func FormatAddr(v uint64, ptrSize int) string { return disasm.FormatAddr(v, ptrSize) }

func ptrOf(env Env) int { return PointerSize(env.Target().Info().Arch) }

func addr(env Env, v uint64) string { return FormatAddr(v, ptrOf(env)) }

func threads(env Env) ([]model.Thread, error) {
	tl, ok := env.Target().(model.ThreadLister)
	if !ok {
		return nil, &NotSupportedError{What: "this dump has no thread list"}
	}
	ths, err := tl.Threads()
	if err != nil {
		return nil, &NotSupportedError{What: "the thread list cannot be read", Err: err}
	}
	return ths, nil
}

func modules(env Env) ([]model.Module, error) {
	if mp, ok := env.(ModuleProvider); ok {
		if ms := mp.Modules(); len(ms) > 0 {
			return ms, nil
		}
	}
	ml, ok := env.Target().(model.ModuleLister)
	if !ok {
		return nil, &NotSupportedError{What: "this dump has no module list"}
	}
	ms, err := ml.Modules()
	if err != nil {
		return nil, &NotSupportedError{What: "the module list cannot be read", Err: err}
	}
	return ms, nil
}

// ModuleProvider is an optional Env capability: the modules commands list,
// when the environment knows more than the dump (core/session adds the
// executables named with --image that the dump does not list).
type ModuleProvider interface {
	Modules() []model.Module
}

// MemoryProvider is an optional Env capability: the address space commands
// read, when the environment knows more than the dump (core/session adds
// the module images found on disk underneath the dump's own memory).
type MemoryProvider interface {
	Memory() (mem.Space, error)
}

func memory(env Env) (mem.Space, error) {
	if mp, ok := env.(MemoryProvider); ok {
		if m, err := mp.Memory(); err == nil && m != nil {
			return m, nil
		}
	}
	mr, ok := env.Target().(model.MemoryReader)
	if !ok {
		return nil, &NotSupportedError{What: "this dump has no memory list"}
	}
	m, err := mr.Memory()
	if err != nil {
		return nil, &NotSupportedError{What: "this dump's memory cannot be read", Err: err}
	}
	return m, nil
}

// current returns the scope's thread.
func current(env Env) (model.Thread, int, error) {
	ths, err := threads(env)
	if err != nil {
		return model.Thread{}, -1, err
	}
	i := env.Scope().Thread
	if i < 0 || i >= len(ths) {
		return model.Thread{}, -1, &NotSupportedError{What: "no current thread (the dump lists no threads)"}
	}
	return ths[i], i, nil
}

// context returns the register context of the scope: the exception context
// after .ecxr, else the current thread's.
func context_(env Env) (model.Context, error) {
	if c, ok := selectedFrame(env); ok {
		return c, nil
	}
	return baseContext(env)
}

// baseContext is the register state stacks are walked from: a .cxr
// record, the exception context after .ecxr, or the thread's registers.
func baseContext(env Env) (model.Context, error) {
	if c := env.Scope().Cxr; c != nil {
		return c, nil
	}
	if env.Scope().Exception {
		ec, ok := env.Target().(model.ExceptionContext)
		if !ok {
			return nil, &NotSupportedError{What: "this dump has no exception context record"}
		}
		c, err := ec.ExceptionContext()
		if err != nil || c == nil {
			return nil, &NotSupportedError{What: "the exception context cannot be read", Err: err}
		}
		return c, nil
	}
	th, i, err := current(env)
	if err != nil {
		return nil, err
	}
	if th.Context == nil {
		return nil, &NotSupportedError{What: fmt.Sprintf("thread %d (id %x) has no register context in this dump", i, th.ID)}
	}
	return th.Context, nil
}

func selectThreads(env Env, ths []model.Thread, sel ThreadSel) ([]int, error) {
	switch sel.Kind {
	case NoThreads, CurrentThread:
		i := env.Scope().Thread
		if i < 0 || i >= len(ths) {
			return nil, &NotSupportedError{What: "no current thread"}
		}
		return []int{i}, nil
	case EventThread:
		c := env.Target().Info().Crash
		if c == nil || c.ThreadID == nil {
			return nil, &NotSupportedError{What: "this dump does not say which thread caused the event"}
		}
		for i, th := range ths {
			if th.ID == *c.ThreadID {
				return []int{i}, nil
			}
		}
		return nil, fmt.Errorf("event thread id %x is not in the thread list", *c.ThreadID)
	case AllThreads:
		idx := make([]int, len(ths))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	case ThreadIndex:
		if sel.Index < 0 || sel.Index >= len(ths) {
			return nil, fmt.Errorf("Illegal thread number %d: the dump has %d threads (0-%d)", sel.Index, len(ths), len(ths)-1)
		}
		return []int{sel.Index}, nil
	case ThreadByID:
		id, err := Eval(sel.Expr, NewEvalEnv(env))
		if err != nil {
			return nil, err
		}
		for i, th := range ths {
			if th.ID == id {
				return []int{i}, nil
			}
		}
		return nil, fmt.Errorf("no thread with id %x", id)
	}
	return nil, fmt.Errorf("bad thread selector")
}

func pid(env Env) uint64 {
	if p := env.Target().Info().Process; p != nil {
		return p.PID
	}
	return 0
}

// threadLine is one line of the ~ listing.
func threadLine(env Env, ths []model.Thread, i int) string {
	th := ths[i]
	mark := " "
	if i == env.Scope().Thread {
		mark = "."
	} else if c := env.Target().Info().Crash; c != nil && c.ThreadID != nil && *c.ThreadID == th.ID {
		mark = "#"
	}
	s := fmt.Sprintf("%s%3d  Id: %x.%x Suspend: %d Teb: %s", mark, i, pid(env), th.ID, th.Suspend, addr(env, th.TEB))
	if th.Name != "" {
		s += fmt.Sprintf(" %q", th.Name)
	}
	return s
}

// ModuleName returns the name WinDbg gives a module in "module!symbol":
// the file name without its extension ("ntdll" for ntdll.dll, "libc" for
// libc.so.6), with remaining dots turned into underscores.
func ModuleName(path string) string {
	m := model.Module{Path: path}
	n := m.Name()
	// Lower-cased byte by byte, so that an index into low is one into n:
	// strings.ToLower changes the length of invalid UTF-8 and of some
	// letters, which a damaged dump's module path may hold.
	b := []byte(n)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	low := string(b)
	switch low {
	case "ntoskrnl.exe", "ntkrnlmp.exe", "ntkrnlpa.exe", "ntkrpamp.exe":
		return "nt" // WinDbg's name for the kernel, whichever image it is
	}
	if i := strings.Index(low, ".so"); i > 0 && (i+3 == len(low) || low[i+3] == '.') {
		n = n[:i]
	} else if i := strings.LastIndexByte(n, '.'); i > 0 {
		n = n[:i]
	}
	return strings.ReplaceAll(n, ".", "_")
}

// symbolize names an address: "app!main+0x10" with symbols, "app+0x1010"
// inside a module without them, "" otherwise.
func symbolize(env Env, a uint64) string {
	if r := env.Symbols(); r != nil {
		if s, ok := r.Lookup(a); ok {
			return symText(s, a)
		}
	}
	if ms, err := modules(env); err == nil {
		for _, m := range ms {
			if m.Contains(a) && !m.Unloaded {
				return offText(ModuleName(m.Path), a-m.Base)
			}
		}
	}
	return ""
}

func symText(s symbols.Symbol, a uint64) string {
	name := s.Name
	if s.Module != "" {
		name = ModuleName(s.Module) + "!" + name
	}
	return offText(name, a-s.Addr)
}

func offText(name string, off uint64) string {
	if off == 0 {
		return name
	}
	return fmt.Sprintf("%s+%#x", name, off)
}

// symname adapts symbolize to disasm's callback.
func symname(env Env) func(uint64) (string, uint64) {
	return func(a uint64) (string, uint64) {
		if r := env.Symbols(); r != nil {
			if s, ok := r.Lookup(a); ok {
				name := s.Name
				if s.Module != "" {
					name = ModuleName(s.Module) + "!" + name
				}
				return name, s.Addr
			}
		}
		return "", 0
	}
}

// NewEvalEnv returns the EvalEnv of an Env: registers of the scope's
// context, symbols through the resolver, modules by name, and the dump's
// memory. Pseudo-registers: $ip, $csp, $ra (unsupported), $tid, $tpid,
// $teb, $ptrsize.
func NewEvalEnv(env Env) EvalEnv { return evalEnv{env} }

type evalEnv struct{ env Env }

func (e evalEnv) PointerSize() int { return ptrOf(e.env) }

func (e evalEnv) Register(name string) (uint64, bool) {
	switch name {
	case "$ptrsize":
		return uint64(ptrOf(e.env)), true
	case "$tpid":
		return pid(e.env), true
	case "$tid", "$teb":
		th, _, err := current(e.env)
		if err != nil {
			return 0, false
		}
		if name == "$tid" {
			return th.ID, true
		}
		return th.TEB, true
	}
	c, err := context_(e.env)
	if err != nil {
		return 0, false
	}
	switch name {
	case "$ip":
		return c.PC(), true
	case "$csp":
		return c.SP(), true
	}
	return c.Reg(name)
}

func (e evalEnv) ReadMemory(p []byte, a uint64) (int, error) {
	m, err := memory(e.env)
	if err != nil {
		return 0, err
	}
	return m.ReadMemory(p, a)
}

func (e evalEnv) Symbol(name string) (uint64, error) {
	mod, sym, hasBang := strings.Cut(name, "!")
	ms, _ := modules(e.env)
	findMod := func(n string) (model.Module, bool) {
		for _, m := range ms {
			if strings.EqualFold(ModuleName(m.Path), n) || strings.EqualFold(m.Name(), n) {
				return m, true
			}
		}
		return model.Module{}, false
	}
	r := e.env.Symbols()
	if !hasBang {
		if r != nil {
			if ss, err := r.Find("*!" + name); err == nil && len(ss) > 0 {
				return ss[0].Addr, nil
			}
		}
		if m, ok := findMod(name); ok {
			return m.Base, nil
		}
		return 0, errors.New("not a number, register, symbol or module")
	}
	m, ok := findMod(mod)
	if !ok && ms != nil {
		return 0, fmt.Errorf("no module named %s", mod)
	}
	if sym == "" {
		if ok {
			return m.Base, nil
		}
		return 0, fmt.Errorf("no module named %s", mod)
	}
	if r == nil {
		return 0, &NotSupportedError{What: "no symbols loaded"}
	}
	ss, err := r.Find(name)
	if err != nil {
		return 0, err
	}
	if len(ss) == 0 {
		if ok {
			return 0, fmt.Errorf("no symbol %s in %s (or no symbols for %s)", sym, m.Name(), m.Name())
		}
		return 0, fmt.Errorf("no symbol %s", name)
	}
	return ss[0].Addr, nil
}

// readSparse reads n bytes at a, marking which ones the dump holds.
func readSparse(r mem.Reader, a uint64, n int) ([]byte, []bool) {
	buf := make([]byte, n)
	ok := make([]bool, n)
	readRest(r, a, buf, ok, 0)
	return buf, ok
}

// readRest fills buf (the memory at a) from offset off on, as readSparse
// does, marking in ok which bytes were read; the first off bytes are
// already read.
func readRest(r mem.Reader, a uint64, buf []byte, ok []bool, off int) {
	n := len(buf)
	for k := range off {
		ok[k] = true
	}
	for k := off; k < n; k++ {
		ok[k] = false
	}
	for off < n {
		got, _ := r.ReadMemory(buf[off:], a+uint64(off))
		got = min(max(got, 0), n-off)
		for k := off; k < off+got; k++ {
			ok[k] = true
		}
		off += got
		if off < n {
			off++ // skip the unreadable byte
		}
	}
}
