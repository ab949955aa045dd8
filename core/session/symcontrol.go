package session

import (
	"cmp"
	"context"
	"errors"
	"os"
	"slices"
	"strings"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/symsrv"
)

// MicrosoftSymbolServer is the server .symfix adds, as WinDbg's does.
const MicrosoftSymbolServer = "https://msdl.microsoft.com/download/symbols"

// SymbolPath returns the symbol path in use: the one .sympath set, else
// Options.SymPath, else $_NT_SYMBOL_PATH; $_NT_ALT_SYMBOL_PATH, when set,
// comes before the last two, as WinDbg searches it first.
func (s *Session) SymbolPath() string {
	if set := s.symPath.Load(); set != nil {
		return *set
	}
	p := s.opts.SymPath
	if p == "" {
		p = os.Getenv("_NT_SYMBOL_PATH")
	}
	if alt := strings.TrimSpace(os.Getenv("_NT_ALT_SYMBOL_PATH")); alt != "" {
		if p == "" {
			return alt
		}
		return alt + ";" + p
	}
	return p
}

// SetSymbolPath replaces the symbol path (.sympath PATH) and defers every
// module's symbols again, so the next question loads them from the new
// path. It returns notes on entries that cannot be used.
func (s *Session) SetSymbolPath(path string) []string {
	path = strings.TrimSpace(path)
	s.symPath.Store(&path)
	s.resetEngine()
	_, notes := SymbolPathDirs(path)
	return notes
}

// SymFixPath returns the symbol path entry .symfix makes:
// srv*CACHE*https://msdl.microsoft.com/download/symbols, with the default
// symbol cache when cache is empty.
func SymFixPath(cache string) string {
	if cache == "" {
		cache, _ = symsrv.DefaultCacheDir()
	}
	return "srv*" + cache + "*" + MicrosoftSymbolServer
}

// ReloadResult is what .reload /f says of one module.
type ReloadResult struct {
	Module model.Module
	Source string // where its symbols came from; "" for none
	Err    error  // provider errors other than "no symbols"
}

// Reload drops every loaded symbol table (.reload), so modules are
// deferred again and reloaded from the current path when next needed.
// With force (.reload /f) they are loaded now, all of them or only the
// one module names, under ctx (cancel it to stop; modules not reached
// stay deferred), and each is reported to each as it finishes.
func (s *Session) Reload(ctx context.Context, force bool, module string, each func(ReloadResult)) error {
	s.resetEngine()
	if !force {
		return nil
	}
	set := s.Symbols()
	ctx = s.symbolContext(ctx)
	if module != "" {
		set.SetContext(ctx)
		defer set.SetContext(s.loadContext())
		src, err := set.Status(module)
		if errors.Is(err, symbols.ErrUnknownModule) || err != nil && each == nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if each != nil {
			for _, m := range set.Modules() {
				if strings.EqualFold(m.Name(), module) || strings.EqualFold(symbols.ShortName(m.Name()), module) {
					each(ReloadResult{Module: m, Source: src, Err: err})
					break
				}
			}
		}
		return nil
	}
	// Modules load a few at a time and finish in any order; they are
	// reported in the module list's order.
	var results []ReloadResult
	err := set.LoadAll(ctx, func(m model.Module, src string, err error) {
		results = append(results, ReloadResult{Module: m, Source: src, Err: err})
	})
	slices.SortFunc(results, func(a, b ReloadResult) int { return cmp.Compare(a.Module.Base, b.Module.Base) })
	if each != nil {
		for _, r := range results {
			each(r)
		}
	}
	return err
}

// SetNoisy turns !sym noisy on or off: while on, symbol loads run under
// the console report every file and URL they try (see symbolContext).
func (s *Session) SetNoisy(on bool) { s.noisy.Store(on) }

// Noisy reports whether !sym noisy is on.
func (s *Session) Noisy() bool { return s.noisy.Load() }

// traceWriter writes one line of the noisy symbol trace (see Exec).
type traceWriter func(line string)

// symbolContext returns ctx prepared for symbol loads: when ctx carries
// a trace writer, loads trace to it while !sym noisy is on (checked per
// line, so "!sym noisy; k" traces k's loads).
func (s *Session) symbolContext(ctx context.Context) context.Context {
	if fn := s.opts.SymbolProgress; fn != nil {
		ctx = symbols.WithProgress(ctx, fn)
	}
	if w, ok := ctx.Value(traceKey{}).(traceWriter); ok {
		return symbols.WithTrace(ctx, func(l string) {
			if s.noisy.Load() {
				w(l)
			}
		})
	}
	return ctx
}

type traceKey struct{}

// withTraceWriter returns ctx whose noisy symbol trace goes to w.
func withTraceWriter(ctx context.Context, w traceWriter) context.Context {
	return context.WithValue(ctx, traceKey{}, w)
}

// useLoadContext makes symbol loads run under ctx until the returned
// function is called: cancelling ctx stops them, and its trace writer
// hears them. The first caller wins: a command line and an analysis
// running at once (a workbench analysing in the background while the
// console runs) load under the first one's context, since a load serves
// both.
func (s *Session) useLoadContext(ctx context.Context) (done func()) {
	if !s.loadCtx.CompareAndSwap(nil, &ctx) {
		return func() {}
	}
	s.applyLoadContext()
	return func() {
		s.loadCtx.Store(nil)
		s.applyLoadContext()
	}
}

// applyLoadContext gives the current engine's symbols the load context
// (engines built later take it from loadContext).
func (s *Session) applyLoadContext() {
	s.engMu.Lock()
	e := s.eng
	s.engMu.Unlock()
	if e != nil && e.symbols != nil {
		e.symbols.SetContext(s.loadContext())
	}
}

// loadContext is the context useLoadContext set, prepared for loads.
func (s *Session) loadContext() context.Context {
	if p := s.loadCtx.Load(); p != nil {
		return s.symbolContext(*p)
	}
	return s.symbolContext(context.Background())
}
