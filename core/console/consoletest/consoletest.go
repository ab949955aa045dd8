// Package consoletest fakes a console.Env from in-memory data and runs
// console transcripts: files under testdata/script whose first line is
// "# scenario: NAME", where "> " starts a command and the lines up to the
// next "> " are its expected output. Run the tests with -update to rewrite
// the expected blocks (the flag belongs to core/testutil/golden).
package consoletest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/ctype"
	"github.com/crashbench/crashbench/core/testutil/golden"
)

// Context is a fake register context.
type Context struct {
	ArchV          model.Arch
	RegList        []model.Reg
	PCName, SPName string // register names of the PC and SP ("rip", "rsp")
	FPName         string
}

// Arch returns ArchV.
func (c *Context) Arch() model.Arch { return c.ArchV }

// PC returns the register named PCName.
func (c *Context) PC() uint64 { v, _ := c.Reg(c.PCName); return v }

// SP returns the register named SPName.
func (c *Context) SP() uint64 { v, _ := c.Reg(c.SPName); return v }

// FP returns the register named FPName, or 0.
func (c *Context) FP() uint64 { v, _ := c.Reg(c.FPName); return v }

// Regs returns RegList.
func (c *Context) Regs() []model.Reg { return c.RegList }

// Reg returns a register by name.
func (c *Context) Reg(name string) (uint64, bool) {
	for _, r := range c.RegList {
		if r.Name == name {
			return r.Value, true
		}
	}
	return 0, false
}

// AMD64 returns an amd64 context with the 17 general registers and eflags;
// values are taken from vals by name and are zero otherwise.
func AMD64(vals map[string]uint64) *Context {
	c := &Context{ArchV: model.AMD64, PCName: "rip", SPName: "rsp", FPName: "rbp"}
	for _, n := range []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rip", "rsp", "rbp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"} {
		c.RegList = append(c.RegList, model.Reg{Name: n, Value: vals[n], Size: 8})
	}
	c.RegList = append(c.RegList, model.Reg{Name: "efl", Value: vals["efl"], Size: 4})
	return c
}

// Target is a fake model.Target that offers every capability the console
// uses. Bare wraps one to offer none.
type Target struct {
	InfoV      model.Info
	ThreadList []model.Thread
	ModuleList []model.Module
	Mem        mem.Space     // nil: Memory fails
	Exception  model.Context // nil: ExceptionContext fails
	Diags      []model.Diagnostic
}

// Info returns InfoV.
func (t *Target) Info() model.Info { return t.InfoV }

// Diagnostics returns Diags.
func (t *Target) Diagnostics() []model.Diagnostic { return t.Diags }

// Close does nothing.
func (t *Target) Close() error { return nil }

// Threads returns ThreadList.
func (t *Target) Threads() ([]model.Thread, error) { return t.ThreadList, nil }

// Modules returns ModuleList.
func (t *Target) Modules() ([]model.Module, error) { return t.ModuleList, nil }

// ErrNoMemory is returned by Memory when Mem is nil.
var ErrNoMemory = errors.New("consoletest: no memory")

// Memory returns Mem.
func (t *Target) Memory() (mem.Space, error) {
	if t.Mem == nil {
		return nil, ErrNoMemory
	}
	return t.Mem, nil
}

// ExceptionContext returns Exception.
func (t *Target) ExceptionContext() (model.Context, error) {
	if t.Exception == nil {
		return nil, errors.New("consoletest: no exception context")
	}
	return t.Exception, nil
}

// Bare returns a target offering only model.Target's own methods: no
// threads, modules, memory or exception context.
func Bare(t model.Target) model.Target { return bare{t} }

type bare struct{ t model.Target }

func (b bare) Info() model.Info                { return b.t.Info() }
func (b bare) Diagnostics() []model.Diagnostic { return b.t.Diagnostics() }
func (b bare) Close() error                    { return b.t.Close() }

// Resolver is a fake symbols.Resolver over a fixed list of absolute
// symbols. Lookup finds the symbol containing an address (or the nearest
// preceding one of the same module when sizes are zero).
type Resolver struct {
	Syms    []symbols.Symbol
	Modules []model.Module // bounds for size-less symbols
	// TypeMaps are the modules' types by short module name ("app"); a
	// module listed here counts as loaded (console.TypeResolver).
	TypeMaps map[string]TypeMap
}

// TypeMap is a fake ctype.Source: types by name.
type TypeMap map[string]*ctype.Type

// Type implements ctype.Source.
func (m TypeMap) Type(name string) (*ctype.Type, bool) { t, ok := m[name]; return t, ok }

// TypeNames implements ctype.Source, in sorted order.
func (m TypeMap) TypeNames(yield func(string) bool) {
	for _, n := range slices.Sorted(maps.Keys(m)) {
		if !yield(n) {
			return
		}
	}
}

// Types implements console.TypeResolver.
func (r *Resolver) Types(module string) (ctype.Source, error) {
	if tm, ok := r.TypeMaps[console.ModuleName(module)]; ok {
		return tm, nil
	}
	for _, m := range r.Modules {
		if strings.EqualFold(m.Name(), module) || strings.EqualFold(console.ModuleName(m.Path), module) {
			return nil, fmt.Errorf("%s: %w", module, symbols.ErrNoTypes)
		}
	}
	return nil, fmt.Errorf("%q: %w", module, symbols.ErrUnknownModule)
}

// Loaded implements console.TypeResolver: the modules with types.
func (r *Resolver) Loaded(module string) bool {
	_, ok := r.TypeMaps[console.ModuleName(module)]
	return ok
}

// Lookup implements symbols.Resolver.
func (r *Resolver) Lookup(addr uint64) (symbols.Symbol, bool) {
	var best symbols.Symbol
	found := false
	for _, s := range r.Syms {
		if s.Addr > addr {
			continue
		}
		if s.Size > 0 && addr-s.Addr >= s.Size {
			continue
		}
		if s.Size == 0 && !r.sameModule(s, addr) {
			continue
		}
		if !found || s.Addr > best.Addr {
			best, found = s, true
		}
	}
	return best, found
}

// has reports whether the resolver has symbols or types for m.
func (r *Resolver) has(m model.Module) bool {
	if _, ok := r.TypeMaps[console.ModuleName(m.Path)]; ok {
		return true
	}
	for _, s := range r.Syms {
		if strings.EqualFold(s.Module, m.Name()) {
			return true
		}
	}
	return false
}

func (r *Resolver) sameModule(s symbols.Symbol, addr uint64) bool {
	for _, m := range r.Modules {
		if m.Contains(s.Addr) {
			return m.Contains(addr)
		}
	}
	return false
}

// Find implements symbols.Resolver with console.Match on "module!name",
// where module is the name without extension.
func (r *Resolver) Find(pattern string) ([]symbols.Symbol, error) {
	mp, np, ok := strings.Cut(pattern, "!")
	if !ok {
		mp, np = "*", pattern
	}
	var out []symbols.Symbol
	for _, s := range r.Syms {
		if console.Match(mp, console.ModuleName(s.Module)) && console.Match(np, s.Name) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Space is a fake address space whose regions say what a process core
// records (protections, mem.Absent ranges, labels); its bytes come from
// the embedded Map.
type Space struct {
	memtest.Map
	RegionList []mem.Region // in address order, non-overlapping
}

// Name returns "fakecore".
func (s Space) Name() string { return "fakecore" }

// Regions yields RegionList.
func (s Space) Regions() iter.Seq[mem.Region] { return slices.Values(s.RegionList) }

// Env is a fake console.Env.
type Env struct {
	T    model.Target
	Syms symbols.Resolver // nil for "no symbols"
	S    *console.Scope
	// Frames are the stacks k shows, by thread index; nil makes Stack
	// report that the environment cannot walk stacks.
	Frames map[int][]console.StackFrame
	// Images is the wider memory console.MemoryProvider offers (the dump's
	// with module images underneath, as core/session builds it); nil
	// leaves commands with the target's own memory.
	Images mem.Space
	// Walks are the page walks PageWalk answers, by virtual address; nil
	// makes it say the dump has no page tables.
	Walks map[uint64]PageWalkResult
	// Linux is the kernel view of a Linux kernel dump
	// (console.LinuxInspector); nil when the dump is not one.
	Linux *LinuxKernel
	// SymPath and NoisyOn are the fake symbol state .sympath and !sym
	// change (console.SymbolControl).
	SymPath string
	NoisyOn bool
}

// LinuxKernel is a fake Linux kernel: its log, tasks and sys lines.
type LinuxKernel struct {
	Log    []string
	Tasks  []console.LinuxTask
	Sys    [][2]string
	Stacks map[int64]*console.LinuxStack // by pid; -1 is the crashing task's
	Mods   []console.LinuxModule
	// PageSize, TotalPages and FreePages are kmem -i's counters.
	PageSize, TotalPages, FreePages uint64
}

// LinuxModules implements console.LinuxInspector.
func (e *Env) LinuxModules(context.Context) ([]console.LinuxModule, error) {
	if e.Linux == nil {
		return nil, errNotLinux
	}
	return e.Linux.Mods, nil
}

// LinuxMemory implements console.LinuxInspector.
func (e *Env) LinuxMemory(context.Context) (uint64, uint64, uint64, error) {
	if e.Linux == nil {
		return 0, 0, 0, errNotLinux
	}
	return e.Linux.PageSize, e.Linux.TotalPages, e.Linux.FreePages, nil
}

// errNotLinux is what the Linux methods say for other dumps.
var errNotLinux = errors.New("not a Linux kernel dump")

// KernelLog implements console.LinuxInspector.
func (e *Env) KernelLog(context.Context) ([]string, error) {
	if e.Linux == nil {
		return nil, errNotLinux
	}
	return e.Linux.Log, nil
}

// LinuxTasks implements console.LinuxInspector.
func (e *Env) LinuxTasks(context.Context) ([]console.LinuxTask, error) {
	if e.Linux == nil {
		return nil, errNotLinux
	}
	return e.Linux.Tasks, nil
}

// LinuxSys implements console.LinuxInspector.
func (e *Env) LinuxSys(context.Context) ([][2]string, error) {
	if e.Linux == nil {
		return nil, errNotLinux
	}
	return e.Linux.Sys, nil
}

// LinuxStack implements console.LinuxInspector.
func (e *Env) LinuxStack(_ context.Context, pid int64) (*console.LinuxStack, error) {
	if e.Linux == nil {
		return nil, errNotLinux
	}
	st, ok := e.Linux.Stacks[pid]
	if !ok {
		return nil, fmt.Errorf("no task with pid %d", pid)
	}
	return st, nil
}

// LinuxActiveStacks implements console.LinuxActiveLister: the stacks of
// pids 1 and 0 (CPU 0 and 1).
func (e *Env) LinuxActiveStacks(context.Context) ([]*console.LinuxStack, error) {
	if e.Linux == nil {
		return nil, errNotLinux
	}
	var out []*console.LinuxStack
	for _, pid := range []int64{1, 0} {
		if st, ok := e.Linux.Stacks[pid]; ok {
			out = append(out, st)
		}
	}
	return out, nil
}

// SymbolPath implements console.SymbolControl.
func (e *Env) SymbolPath() string { return e.SymPath }

// SetSymbolPath implements console.SymbolControl: entries under
// /no/such are reported as missing folders.
func (e *Env) SetSymbolPath(path string) []string {
	e.SymPath = path
	var notes []string
	for _, p := range strings.Split(path, ";") {
		if strings.HasPrefix(p, "/no/such") {
			notes = append(notes, fmt.Sprintf("symbol path entry %q is not a folder", p))
		}
	}
	return notes
}

// SymFixPath implements console.SymbolControl with a fixed default cache.
func (e *Env) SymFixPath(cache string) string {
	if cache == "" {
		cache = "/home/user/.cache/crashbench/symbols"
	}
	return "srv*" + cache + "*https://msdl.microsoft.com/download/symbols"
}

// Reload implements console.SymbolControl: with force it reports each
// module (or the named one) as having "fake symbols" when the resolver
// has types or symbols for it.
func (e *Env) Reload(_ context.Context, force bool, module string, each func(module, source string, err error)) error {
	if !force {
		return nil
	}
	var mods []model.Module
	if ml, ok := e.T.(model.ModuleLister); ok {
		mods, _ = ml.Modules()
	}
	found := false
	for _, m := range mods {
		if module != "" && !strings.EqualFold(m.Name(), module) && !strings.EqualFold(console.ModuleName(m.Path), module) {
			continue
		}
		found = true
		src := ""
		if r, ok := e.Syms.(*Resolver); ok && r.has(m) {
			src = "fake symbols"
		}
		each(m.Name(), src, nil)
	}
	if !found {
		return fmt.Errorf("symbols: %q: %w", module, symbols.ErrUnknownModule)
	}
	return nil
}

// SetNoisy implements console.SymbolControl.
func (e *Env) SetNoisy(on bool) { e.NoisyOn = on }

// Noisy implements console.SymbolControl.
func (e *Env) Noisy() bool { return e.NoisyOn }

// PageWalkResult is one canned page walk.
type PageWalkResult struct {
	PA, Size uint64
	Steps    []console.PageWalkStep
	Err      error
}

// PageWalk answers from Walks (console.PageWalker).
func (e *Env) PageWalk(va uint64) (uint64, []console.PageWalkStep, uint64, error) {
	if e.Walks == nil {
		return 0, nil, 0, errors.New("this dump has no page tables")
	}
	w, ok := e.Walks[va]
	if !ok {
		return 0, nil, 0, fmt.Errorf("%#x is not mapped", va)
	}
	return w.PA, w.Steps, w.Size, w.Err
}

// ErrNoImages is returned by Memory when Images is nil.
var ErrNoImages = errors.New("consoletest: no image memory")

// Memory returns Images (console.MemoryProvider).
func (e *Env) Memory() (mem.Space, error) {
	if e.Images == nil {
		return nil, ErrNoImages
	}
	return e.Images, nil
}

// Stack returns the canned frames of the scope's thread (console.Stacker);
// the register state it is given only has to exist.
func (e *Env) Stack(_ context.Context, _ model.Context) ([]console.StackFrame, error) {
	if e.Frames == nil {
		return nil, &console.NotSupportedError{What: "this fake dump has no stacks"}
	}
	return e.Frames[e.Scope().Thread], nil
}

// Target returns T.
func (e *Env) Target() model.Target { return e.T }

// Symbols returns Syms.
func (e *Env) Symbols() symbols.Resolver { return e.Syms }

// Scope returns S, creating it with console.NewScope on first use.
func (e *Env) Scope() *console.Scope {
	if e.S == nil {
		e.S = console.NewScope(e.T)
	}
	return e.S
}

// Run executes one line and returns what it printed; an error is printed
// as its message on a line of its own, as the CLI shows it.
func Run(e *console.Engine, env console.Env, line string) string {
	var b bytes.Buffer
	if err := e.Exec(context.Background(), env, line, console.NewTextOutput(&b)); err != nil {
		if b.Len() > 0 && !bytes.HasSuffix(b.Bytes(), []byte("\n")) {
			b.WriteByte('\n')
		}
		b.WriteString(err.Error() + "\n")
	}
	return b.String()
}

// Scenarios returns the named fake environments transcripts can use.
func Scenarios() map[string]func() *Env {
	return map[string]func() *Env{
		"amd64-av-read-null": AMD64AV,
		"bare":               func() *Env { return &Env{T: Bare(AMD64AV().T)} },
		"amd64-nosyms":       func() *Env { e := AMD64AV(); e.Syms = nil; return e },
		"arm64-segv":         ARM64Segv,
		"linux-core":         LinuxCore,
		"kernel-triage":      KernelTriage,
		"kernel-full":        KernelFull,
		"linux-vmcore":       LinuxVMCore,
	}
}

// RunScripts runs every testdata/script/*.txt transcript under dir with
// engine e, each as a subtest. With -update it rewrites the expected
// output in place.
func RunScripts(t *testing.T, e *console.Engine, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in %s (%v)", dir, err)
	}
	scen := Scenarios()
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name, cmds, err := ParseScript(string(data))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			mk, ok := scen[name]
			if !ok {
				t.Fatalf("%s: unknown scenario %q", f, name)
			}
			env := mk()
			var got strings.Builder
			fmt.Fprintf(&got, "# scenario: %s\n", name)
			for _, c := range cmds {
				out := Run(e, env, c.Line)
				got.WriteString("> " + c.Line + "\n" + out)
				if !golden.Updating() && out != c.Want {
					t.Errorf("%s: > %s\n%s", filepath.Base(f), c.Line, golden.Diff(c.Want, out))
				}
			}
			if golden.Updating() && got.String() != string(data) {
				if err := os.WriteFile(f, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// ScriptCommand is one command of a transcript with its expected output.
type ScriptCommand struct {
	Line string
	Want string
}

// ParseScript splits a transcript into its scenario name and commands.
func ParseScript(s string) (string, []ScriptCommand, error) {
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		return "", nil, errors.New("empty transcript")
	}
	name, ok := strings.CutPrefix(sc.Text(), "# scenario: ")
	if !ok {
		return "", nil, errors.New(`first line must be "# scenario: NAME"`)
	}
	var cmds []ScriptCommand
	for sc.Scan() {
		l := sc.Text()
		if line, ok := strings.CutPrefix(l, "> "); ok {
			cmds = append(cmds, ScriptCommand{Line: line})
			continue
		}
		if len(cmds) == 0 {
			if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
				continue
			}
			return "", nil, fmt.Errorf("output before the first command: %q", l)
		}
		cmds[len(cmds)-1].Want += l + "\n"
	}
	return strings.TrimSpace(name), slices.Clip(cmds), sc.Err()
}
