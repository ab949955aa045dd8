// Package session is the headless facade over one open dump: the CLI, the
// workspace index and the workbench all go through it, so every capability
// behaves the same with or without a display.
package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crashbench/crashbench/core/dump"
	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/report"
	"github.com/crashbench/crashbench/core/vmcore"
)

// Options configure Open.
type Options struct {
	Dump    dump.Options
	SymPath string // WinDbg-style symbol path; default $_NT_SYMBOL_PATH
	// ImagePath lists executables and libraries (files or folders, ";"
	// between them), as WinDbg's -i and gdb's `file` give them: a file is
	// used for the module whose build id it has, a folder is searched by
	// module name.
	ImagePath string
	// Sysroot is where the dumped machine's files are: a module recorded
	// as /usr/lib/libc.so.6 is looked for at Sysroot/usr/lib/libc.so.6
	// (gdb's `set sysroot`). Empty: on this machine, by the same path.
	Sysroot string
	// NoDWARFCache turns off the cache of inflated DWARF sections
	// ($XDG_CACHE_HOME/crashbench/dwarf), which spares re-inflating a
	// compressed debug file (glibc's) on every run.
	NoDWARFCache bool
	// Offline keeps symbol loads off the network: symbol servers and
	// debuginfod are not asked, their caches are still read.
	Offline bool
	// SymbolProgress, when set, hears of symbol and image downloads as
	// they proceed: what is fetched (a URL), the bytes received and the
	// size announced (-1 when unknown), for a progress bar; the last call
	// for a download has done == total, however it ended. Downloads run
	// under the context of the command or analysis that needs them;
	// cancelling it stops them.
	SymbolProgress func(what string, done, total int64)
	// CommandTimeout bounds one console command line (Exec), so that a
	// pathological dump stops with a clear message rather than hanging:
	// 0 means DefaultCommandTimeout, a negative value no limit.
	CommandTimeout time.Duration
}

// DefaultCommandTimeout is how long a console command line may run. It is
// long: a search of a big kernel dump or a forced reload of every
// module's symbols legitimately takes minutes.
const DefaultCommandTimeout = 5 * time.Minute

// TimeoutError is a command stopped by Options.CommandTimeout.
type TimeoutError struct {
	Command string
	Limit   time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: stopped after %v, the time limit for one command (--timeout changes it)", e.Command, e.Limit)
}

// Unwrap makes errors.Is(err, context.DeadlineExceeded) hold.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// commandTimeout is the limit Exec applies, 0 for none.
func (o Options) commandTimeout() time.Duration {
	switch {
	case o.CommandTimeout < 0:
		return 0
	case o.CommandTimeout == 0:
		return DefaultCommandTimeout
	}
	return o.CommandTimeout
}

// Session is one open dump.
type Session struct {
	d    *dump.Dump
	opts Options
	con  consoleState

	engMu   sync.Mutex
	eng     *engine                         // nil until first use and after resetEngine
	retired []io.Closer                     // images of replaced engines, closed by Close
	symPath atomic.Pointer[string]          // set by SetSymbolPath (.sympath), else nil
	noisy   atomic.Bool                     // !sym noisy
	loadCtx atomic.Pointer[context.Context] // symbol loads' context (useLoadContext)

	// The analysis, kept for the engine (symbol state) it was made with.
	anaMu  sync.Mutex
	ana    *Analysis
	anaEng *engine

	linuxOnce   sync.Once // builds linux, the kernel in a Linux kernel dump, once
	linux       *linux.Kernel
	linuxErr    error
	linuxOpened atomic.Bool // linuxOnce has run
	// splitParts are the other files of a split vmcore, opened for its
	// memory and closed by Close.
	splitParts []*vmcore.File

	abort    sync.Once // reads abortMsg, glibc's message, once
	abortMsg string
}

// Open opens the dump at path (unpacking it first if compressed).
func Open(ctx context.Context, path string, o Options) (*Session, error) {
	d, err := dump.Open(ctx, path, o.Dump)
	if err != nil {
		return nil, err
	}
	return &Session{d: d, opts: o}, nil
}

// Path returns the path the dump was opened from.
func (s *Session) Path() string { return s.d.Path }

// Target returns the opened dump's model.
func (s *Session) Target() model.Target { return s.d.Target }

// Diagnostics are the dump's diagnostics so far: the container's (a
// cut-off archive), then the target's.
func (s *Session) Diagnostics() []model.Diagnostic { return s.d.Diagnostics() }

// ReportOptions choose the optional parts of a report.
type ReportOptions struct {
	Memory bool // captured memory ranges
	Log    bool // kernel log lines
}

// ErrNoLog matches errors saying a dump's kernel log cannot be shown.
var ErrNoLog = errors.New("no kernel log")

// noLog explains why a target gives no log: process dumps have none,
// Windows keeps no kernel log, and FreeBSD's message buffer needs the
// kernel's symbols, which are not read yet. (Linux kernel dumps have
// theirs read from memory: see kernelLogFor.)
func noLog(f model.Format) error {
	switch f {
	case model.Minidump, model.ELFCore:
		return fmt.Errorf("%w: a %s is a process dump and records no kernel log", ErrNoLog, f)
	case model.WindowsKernel:
		return fmt.Errorf("%w: Windows keeps no kernel log like Linux's dmesg", ErrNoLog)
	}
	return fmt.Errorf("%w: reading the kernel log from a %s dump is not implemented yet", ErrNoLog, f)
}

// Report builds the `info` report: the header summary, plus what o asks for.
func (s *Session) Report(o ReportOptions) (*report.Report, error) {
	t := s.d.Target
	r := report.FromInfo(s.targetInfo(false), nil)
	r.File = &report.File{Path: s.d.Path, Size: s.d.Size, Unpacked: s.d.Unpacked}
	for _, c := range s.d.Containers {
		r.Containers = append(r.Containers, string(c))
	}
	if len(r.Containers) > 0 {
		r.Container = r.Containers[0]
	}
	if len(r.Containers) < 2 {
		r.Containers = nil
	}
	if o.Memory {
		if rl, ok := t.(model.RangeLister); ok {
			rs, err := rl.Ranges()
			if err != nil {
				return nil, err
			}
			r.AddRanges(rs)
		}
	}
	if o.Log {
		lines, err := s.kernelLogFor(t)
		if err != nil {
			return nil, err
		}
		r.Log = lines
	}
	// Diagnostics last: reading ranges or the log may find more damage.
	fresh := report.FromInfo(model.Info{Threads: -1, Modules: -1}, s.d.Diagnostics())
	r.Diagnostics = fresh.Diagnostics
	return r, nil
}

// Close releases the dump and any module images mapped for it.
func (s *Session) Close() error {
	s.engMu.Lock()
	closers := s.retired
	if s.eng != nil {
		closers = append(closers, s.eng.closers...)
	}
	s.eng, s.retired = nil, nil
	s.engMu.Unlock()
	for _, c := range closers {
		c.Close()
	}
	for _, p := range s.splitParts {
		p.Close()
	}
	return s.d.Close()
}
