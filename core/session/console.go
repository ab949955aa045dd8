package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
)

// consoleEnv is what console commands see of a session: the dump, its
// symbols, the current scope, and the stack walking and analysis only the
// session can do (console.Stacker, console.Analyzer).
type consoleEnv struct {
	s *Session
}

func (e consoleEnv) Target() model.Target      { return e.s.d.Target }
func (e consoleEnv) Symbols() symbols.Resolver { return e.s.Symbols() }

// Modules gives commands the session's modules: the dump's and the
// executables named with --image that it lacks (console.ModuleProvider).
func (e consoleEnv) Modules() []model.Module { return e.s.Modules() }
func (e consoleEnv) Scope() *console.Scope   { return e.s.scope() }

// Memory gives commands the dump's memory with matching module images
// underneath (console.MemoryProvider).
func (e consoleEnv) Memory() (mem.Space, error) {
	if m := e.s.Memory(); m != nil {
		return m, nil
	}
	return nil, ErrNoMemory
}

// Stack walks from a register state for k and .frame.
func (e consoleEnv) Stack(ctx context.Context, regs model.Context) ([]console.StackFrame, error) {
	frames, err := e.s.Stack(ctx, regs)
	out := make([]console.StackFrame, 0, len(frames))
	for _, f := range frames {
		a := e.s.name(f)
		sf := console.StackFrame{Index: f.Index, SP: f.SP, PC: f.PC, FP: f.FP, Regs: f.Regs,
			Name: a.String(), Function: a.Function, File: a.File, Line: a.Line, Trust: f.Trust.String(), Signal: f.Signal}
		for i, in := range a.Inlined {
			sf.Inlined = append(sf.Inlined, console.InlineFrame{Name: a.InlineName(i), Function: in.Function, File: in.File, Line: in.Line})
		}
		out = append(out, sf)
	}
	return out, err
}

// WriteAnalysis is !analyze.
func (e consoleEnv) WriteAnalysis(ctx context.Context, w io.Writer, verbose bool) error {
	a, err := e.s.Analyze(ctx)
	if err != nil {
		return err
	}
	WriteAnalysisText(w, a, e.s.SymbolNotes())
	return nil
}

var (
	_ console.Env            = consoleEnv{}
	_ console.Stacker        = consoleEnv{}
	_ console.Analyzer       = consoleEnv{}
	_ console.ModuleProvider = consoleEnv{}
	_ console.PageWalker     = consoleEnv{}

	_ console.KernelInspector     = consoleEnv{}
	_ console.SecondaryDataReader = consoleEnv{}
	_ console.TrapReader          = (*kdmp.File)(nil)

	_ console.MemoryProvider = consoleEnv{}
	_ console.SymbolControl  = consoleEnv{}

	_ console.KernelProcessLister = consoleEnv{}
)

// KernelProcesses lists the kernel's processes with nt's symbols when
// there are some (console.KernelProcessLister: !process).
func (e consoleEnv) KernelProcesses(ctx context.Context) ([]model.KernelProcess, string, error) {
	return e.s.KernelProcesses(ctx)
}

// The symbol path and loading (console.SymbolControl: .sympath, .symfix,
// .reload, !sym).
func (e consoleEnv) SymbolPath() string                 { return e.s.SymbolPath() }
func (e consoleEnv) SetSymbolPath(path string) []string { return e.s.SetSymbolPath(path) }
func (e consoleEnv) SymFixPath(cache string) string     { return SymFixPath(cache) }
func (e consoleEnv) SetNoisy(on bool)                   { e.s.SetNoisy(on) }
func (e consoleEnv) Noisy() bool                        { return e.s.Noisy() }

func (e consoleEnv) Reload(ctx context.Context, force bool, module string, each func(module, source string, err error)) error {
	return e.s.Reload(ctx, force, module, func(r ReloadResult) { each(r.Module.Name(), r.Source, r.Err) })
}

// consoleState is the session's console: one engine and one scope.
type consoleState struct {
	once   sync.Once
	engine *console.Engine
	scope  *console.Scope
	mu     sync.Mutex // Exec runs one command line at a time: commands change the scope
}

func (s *Session) scope() *console.Scope {
	s.initConsole()
	return s.con.scope
}

func (s *Session) initConsole() {
	s.con.once.Do(func() {
		s.con.engine = console.New(console.Builtins()...)
		s.con.scope = console.NewScope(s.d.Target)
	})
}

// Exec runs one console command line (commands separated by ;) and
// writes its output to out.
func (s *Session) Exec(ctx context.Context, line string, out console.Output) error {
	limit := s.opts.commandTimeout()
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	err := s.exec(ctx, line, out)
	if limit > 0 && errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &TimeoutError{Command: strings.TrimSpace(line), Limit: limit}
	}
	return err
}

func (s *Session) exec(ctx context.Context, line string, out console.Output) error {
	s.initConsole()
	s.con.mu.Lock()
	defer s.con.mu.Unlock()
	// Symbols this command line needs load under its context: cancelling
	// it stops them, and with !sym noisy their trace goes to out.
	var mu sync.Mutex // providers may trace from several goroutines
	ctx = withTraceWriter(ctx, func(l string) {
		mu.Lock()
		defer mu.Unlock()
		out.Text(l + "\n")
	})
	defer s.useLoadContext(ctx)()
	return s.con.engine.Exec(ctx, consoleEnv{s}, line, out)
}

// Prompt is the console prompt for the current scope, as WinDbg shows it:
// "0:000>" for process dumps (process 0, thread index), "kd>" for kernel
// dumps.
func (s *Session) Prompt() string {
	switch s.d.Target.Info().Format {
	case model.WindowsKernel, model.LinuxVMCore, model.FreeBSDVMCore, model.LiME:
		return "kd>"
	}
	t := s.scope().Thread
	if t < 0 {
		t = 0
	}
	return fmt.Sprintf("0:%03d>", t)
}

// PageWalk translates a kernel address through a Windows kernel dump's
// page tables (console.PageWalker: !pte, !vtop).
func (e consoleEnv) PageWalk(va uint64) (uint64, []console.PageWalkStep, uint64, error) {
	f, ok := e.s.d.Target.(*kdmp.File)
	if !ok {
		return 0, nil, 0, fmt.Errorf("a %s has no page tables", e.s.d.Target.Info().Format)
	}
	pa, w, err := f.Translate(va)
	var steps []console.PageWalkStep
	for _, s := range w.Steps {
		steps = append(steps, console.PageWalkStep{Level: s.Level, Addr: s.Addr, Entry: s.Entry})
	}
	return pa, steps, w.PageSize, err
}

// kernelDump returns the Windows kernel dump behind the session, for the
// console.KernelInspector adapters below (!thread, !irql, !vm).
func (e consoleEnv) kernelDump() (*kdmp.File, error) {
	if f, ok := e.s.d.Target.(*kdmp.File); ok {
		return f, nil
	}
	return nil, fmt.Errorf("a %s is not a Windows kernel dump", e.s.d.Target.Info().Format)
}

// SecondaryTags lists a triage dump's secondary dump data
// (console.SecondaryDataReader, .enumtag); none for other dumps.
func (e consoleEnv) SecondaryTags() []console.SecondaryTag {
	f, err := e.kernelDump()
	if err != nil {
		return nil
	}
	var tags []console.SecondaryTag
	for _, b := range f.SecondaryData() {
		tags = append(tags, console.SecondaryTag{Tag: b.Tag, Size: b.Size, Present: b.Present})
	}
	return tags
}

// SecondaryBytes returns up to max bytes of the i-th blob's data.
func (e consoleEnv) SecondaryBytes(i, max int) ([]byte, error) {
	f, err := e.kernelDump()
	if err != nil {
		return nil, err
	}
	bs := f.SecondaryData()
	if i < 0 || i >= len(bs) {
		return nil, fmt.Errorf("no secondary data blob %d", i)
	}
	return f.ReadSecondary(bs[i], max)
}

// KernelThread describes the thread that bugchecked (console.KernelInspector).
func (e consoleEnv) KernelThread() (*console.KernelThread, error) {
	f, err := e.kernelDump()
	if err != nil {
		return nil, err
	}
	t, err := f.CrashThread()
	if err != nil {
		return nil, err
	}
	state := -1
	if t.HasState {
		state = int(t.State)
	}
	return &console.KernelThread{Address: t.Address, Via: t.Via, Process: t.Process, ProcessName: t.ProcessName,
		InitialStack: t.InitialStack, KernelStack: t.KernelStack, StackLimit: t.StackLimit, StackBase: t.StackBase,
		Teb: t.Teb, State: state}, nil
}

// KernelIRQL is the IRQL saved in the crashing KPRCB (console.KernelInspector).
func (e consoleEnv) KernelIRQL() (uint8, uint64, string, error) {
	f, err := e.kernelDump()
	if err != nil {
		return 0, 0, "", err
	}
	irql, prcb, err := f.SavedIRQL()
	return irql, prcb, "KPRCB.ProcessorState.SpecialRegisters.Cr8", err
}

// KernelMemory is the header's physical memory description (console.KernelInspector).
func (e consoleEnv) KernelMemory() (*console.KernelMemory, error) {
	f, err := e.kernelDump()
	if err != nil {
		return nil, err
	}
	m := &console.KernelMemory{PfnDatabase: f.PfnDatabase(), PageSize: 0x1000}
	pm, err := f.PhysicalMemoryDescriptor()
	if err != nil {
		m.NoRunsWhy = err.Error()
		return m, nil
	}
	m.Pages = pm.Pages
	for _, r := range pm.Runs {
		m.Runs = append(m.Runs, [2]uint64{r.BasePage, r.PageCount})
	}
	return m, nil
}
