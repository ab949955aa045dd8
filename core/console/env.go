package console

import (
	"errors"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
)

// Env is everything a command may touch. core/session implements it over
// an opened dump; consoletest.Env fakes it from in-memory data. It is kept
// to three methods: the dump, its symbols and the mutable scope; facts such
// as the dump time come from Target().Info().
type Env interface {
	// Target returns the dump. Optional capabilities are found by type
	// assertion (model.ThreadLister, model.ModuleLister,
	// model.MemoryReader, model.ExceptionContext).
	Target() model.Target
	// Symbols returns the resolver, or nil when no symbols are available.
	Symbols() symbols.Resolver
	// Scope returns the current scope, which commands such as ~Ns and
	// .ecxr change in place. It is never nil.
	Scope() *Scope
}

// Scope is the console's current position: which thread and frame
// register-based commands look at, and where display commands continue
// when given no address (as WinDbg's d and u do).
type Scope struct {
	Thread    int  // index into the target's thread list; -1 when it has none
	Frame     int  // selected frame (.frame); 0 is the innermost
	Exception bool // set by .ecxr: registers come from the exception context

	NextData      uint64 // where d* continues
	NextDataValid bool
	LastData      string // the last d* command, repeated by a bare "d"
	NextCode      uint64 // where u continues
	NextCodeValid bool

	// Cxr is the context record .cxr loaded from memory; while set, r,
	// u, k and @registers use it instead of the thread's registers.
	Cxr model.Context
}

// NewScope returns the initial scope for a target: the thread that
// recorded the crash when the dump names one, else the first thread.
func NewScope(t model.Target) *Scope {
	s := &Scope{Thread: -1}
	tl, ok := t.(model.ThreadLister)
	if !ok {
		return s
	}
	ths, err := tl.Threads()
	if err != nil || len(ths) == 0 {
		return s
	}
	s.Thread = 0
	if c := t.Info().Crash; c != nil && c.ThreadID != nil {
		for i, th := range ths {
			if th.ID == *c.ThreadID {
				s.Thread = i
			}
		}
	}
	return s
}

// ErrNotSupported matches errors saying the dump lacks what a command needs.
var ErrNotSupported = errors.New("not supported by this dump")

// NotSupportedError says plainly what the dump (or its symbols) lacks, for
// example "this dump has no memory list".
type NotSupportedError struct {
	What string
	Err  error // the underlying cause, when there is one
}

// Error returns What, followed by the cause.
func (e *NotSupportedError) Error() string {
	if e.Err != nil {
		return e.What + ": " + e.Err.Error()
	}
	return e.What
}

// Unwrap returns the cause.
func (e *NotSupportedError) Unwrap() error { return e.Err }

// Is matches ErrNotSupported.
func (e *NotSupportedError) Is(target error) bool { return target == ErrNotSupported }
