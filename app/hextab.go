package app

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// HexTab is the view-model of a dump's memory tab: a widgets.HexView over
// the session's address space, read off the UI thread.
type HexTab struct {
	// Object is the view, to put in a tab.
	Object fyne.CanvasObject

	ctx       context.Context
	sess      *session.Session
	view      *widgets.HexView
	mem       *memSource
	ui        *uiPost
	pages     *latestOnly[widgets.HexRequest]
	navigated bool          // GoTo was called: the initial position must not override it
	started   chan struct{} // closed once the initial position is settled
}

// NewHexTab returns the memory tab of sess. It opens at the crashing
// thread's stack pointer (else the first region the dump holds). Call it
// on the UI thread; sess may be nil (the dump did not open).
func NewHexTab(sess *session.Session) *HexTab {
	return newHexTab(context.Background(), sess)
}

func newHexTab(ctx context.Context, sess *session.Session) *HexTab {
	v := widgets.NewHexView()
	t := &HexTab{Object: v, ctx: ctx, sess: sess, view: v, ui: newUIPost(), started: make(chan struct{})}
	if sess == nil {
		v.ShowError("The dump is not open.")
		close(t.started)
		return t
	}
	v.SetPointerSize(console.PointerSize(sess.Target().Info().Arch))
	t.mem = newMemSource(sess)
	t.pages = newLatestOnly(ctx, t.ui, func(req widgets.HexRequest) func() {
		p := widgets.ReadHexPage(t.mem, req)
		return func() { v.SetPage(p) }
	})
	v.OnRequest = t.pages.submit
	v.OnGoTo = func(expr string) { evalGoTo(ctx, t.ui, sess, expr, t.GoTo, v.ShowGoToError) }
	inBackground(ctx, t.started, func() func() {
		if t.mem.space() == nil {
			return func() { v.ShowError("This dump holds no memory.") }
		}
		at := t.mem.start()
		return func() {
			if !t.navigated {
				v.GoTo(at)
			}
		}
	})
	return t
}

// GoTo shows addr, selected; other views (the memory map, the console's
// links, the frame table) call it. Call it on the UI thread.
func (t *HexTab) GoTo(addr uint64) {
	t.navigated = true
	t.view.GoTo(addr)
}

// View returns the hex view.
func (t *HexTab) View() *widgets.HexView { return t.view }

// idle reports whether every page asked for and every Go to has been
// handed to the UI thread (tests wait for it).
func (t *HexTab) idle() bool { return t.ui.idle() }

// evalGoTo evaluates a Go to entry off the UI thread, then calls show
// with the address or fail with the reason, on the UI thread.
func evalGoTo(ctx context.Context, ui *uiPost, sess *session.Session, expr string, show func(uint64), fail func(string)) {
	ui.begin()
	go func() {
		defer ui.end()
		a, err := sess.Eval(expr)
		ui.do(func() {
			switch {
			case ctx.Err() != nil:
			case err != nil:
				fail(shortError(err))
			default:
				show(a)
			}
		})
	}()
}

// uiPost is how the hex and disassembly tabs' goroutines reach the UI
// thread: do is fyne.Do, which tests replace to run the UI work on the
// test's goroutine (Fyne's test driver runs fyne.Do on the caller's). It
// counts the goroutines still working, so tests can wait for them.
type uiPost struct {
	do   func(func())
	mu   sync.Mutex
	busy int
}

func newUIPost() *uiPost { return &uiPost{do: onUI} }

func (u *uiPost) begin() { u.mu.Lock(); u.busy++; u.mu.Unlock() }
func (u *uiPost) end()   { u.mu.Lock(); u.busy--; u.mu.Unlock() }

// idle reports whether every goroutine has handed over its UI work.
func (u *uiPost) idle() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.busy == 0
}

// latestOnly runs requests off the UI thread one at a time, skipping
// those superseded while another ran: scrolling fast asks for many
// pages, and only the newest is worth reading. Each result is applied on
// the UI thread; the views also ignore stale pages.
type latestOnly[R any] struct {
	ctx  context.Context
	ui   *uiPost
	work func(R) (apply func())

	mu      sync.Mutex
	next    R
	pending bool
	running bool
}

func newLatestOnly[R any](ctx context.Context, ui *uiPost, work func(R) func()) *latestOnly[R] {
	return &latestOnly[R]{ctx: ctx, ui: ui, work: work}
}

// submit queues r in place of any request not yet started.
func (l *latestOnly[R]) submit(r R) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next, l.pending = r, true
	if !l.running {
		l.running = true
		l.ui.begin()
		go l.run()
	}
}

func (l *latestOnly[R]) run() {
	defer l.ui.end()
	for {
		l.mu.Lock()
		if !l.pending || l.ctx.Err() != nil {
			l.running, l.pending = false, false
			l.mu.Unlock()
			return
		}
		r := l.next
		l.pending = false
		l.mu.Unlock()
		if apply := l.work(r); apply != nil {
			l.ui.do(func() {
				if l.ctx.Err() == nil {
					apply()
				}
			})
		}
	}
}

// memSource adapts a session's memory and symbols to the views. The
// session's engine, and so its memory, is built on first use: every
// method runs off the UI thread.
type memSource struct {
	sess *session.Session

	once    sync.Once
	m       mem.Space
	starts  []uint64 // region starts, ascending, to skip holes in a read
	regions []mem.Region
	bounds  []uint64 // loaded modules' starts and ends, ascending
}

func newMemSource(sess *session.Session) *memSource { return &memSource{sess: sess} }

// space returns the session's address space, nil when the dump has none.
func (s *memSource) space() mem.Space {
	s.once.Do(func() {
		s.m = s.sess.Memory()
		if s.m == nil {
			return
		}
		for r := range s.m.Regions() {
			if r.Size > 0 {
				s.regions = append(s.regions, r)
				s.starts = append(s.starts, r.Start)
			}
		}
		slices.Sort(s.starts)
		for _, m := range s.sess.Modules() {
			if !m.Unloaded {
				s.bounds = append(s.bounds, m.Base, m.Base+m.Size) // an end of 0 (2^64) is harmless
			}
		}
		slices.Sort(s.bounds)
		s.bounds = slices.Compact(s.bounds)
	})
	return s.m
}

// probePage is the granularity of the holes inside a region: a kernel
// space's regions have missing pages.
const probePage = 4096

// nextProbe returns the first address after the fault at f that may be
// readable: the next page or the next region, whichever comes first; 0
// when f is in the last page of the address space.
func (s *memSource) nextProbe(f uint64) uint64 {
	next := f - f%probePage + probePage // 0 past the top of the space
	if i, _ := slices.BinarySearch(s.starts, f+1); i < len(s.starts) && f+1 != 0 && (next == 0 || s.starts[i] < next) {
		next = s.starts[i]
	}
	return next
}

// Read implements widgets.MemorySource: bytes read as far as they go,
// then, after a fault, from the next place that may be readable.
func (s *memSource) Read(p []byte, ok []bool, addr uint64) {
	m := s.space()
	if m == nil {
		return
	}
	off := 0
	for off < len(p) {
		n, _ := m.ReadMemory(p[off:], addr+uint64(off))
		n = min(max(n, 0), len(p)-off)
		for k := off; k < off+n; k++ {
			ok[k] = true
		}
		off += n
		if off >= len(p) {
			return
		}
		f := addr + uint64(off) // unreadable
		next := s.nextProbe(f)
		if next == 0 || next-f >= uint64(len(p)-off) {
			return
		}
		off += int(next - f)
	}
}

// readable reports whether the byte at a can be read.
func (s *memSource) readable(a uint64) bool {
	var b [1]byte
	m := s.space()
	if m == nil {
		return false
	}
	n, err := m.ReadMemory(b[:], a)
	return n == 1 && err == nil
}

// Symbol implements widgets.MemorySource, naming an address as the
// console does: "app!main+0x10", "app+0x1010" in a module without
// symbols, "" outside modules.
func (s *memSource) Symbol(a uint64) string {
	if syms := s.sess.Symbols(); syms != nil {
		if sym, ok := syms.Lookup(a); ok && sym.Name != "" {
			name := sym.Name
			if sym.Module != "" {
				name = console.ModuleName(sym.Module) + "!" + name
			}
			return offsetText(name, a-sym.Addr)
		}
	}
	for _, m := range s.sess.Modules() {
		if m.Contains(a) && !m.Unloaded {
			return offsetText(console.ModuleName(m.Path), a-m.Base)
		}
	}
	return ""
}

// symbolStart returns the start of the symbol holding a.
func (s *memSource) symbolStart(a uint64) (uint64, bool) {
	if syms := s.sess.Symbols(); syms != nil {
		if sym, ok := syms.Lookup(a); ok && sym.Name != "" {
			return sym.Addr, true
		}
	}
	return 0, false
}

func offsetText(name string, off uint64) string {
	if off == 0 {
		return name
	}
	return fmt.Sprintf("%s+%#x", name, off)
}

// start is where the memory tab opens: the crashing thread's stack
// pointer, else the first region the dump holds.
func (s *memSource) start() uint64 {
	if sp, ok := crashSP(s.sess); ok {
		return sp
	}
	if len(s.regions) > 0 {
		return s.regions[0].Start
	}
	return 0
}

// crashSP returns the stack pointer of the crash: the exception context's,
// else the crashing thread's.
func crashSP(sess *session.Session) (uint64, bool) {
	t := sess.Target()
	if ec, ok := t.(model.ExceptionContext); ok {
		if c, err := ec.ExceptionContext(); err == nil && c != nil {
			return c.SP(), true
		}
	}
	c := t.Info().Crash
	if c == nil || c.ThreadID == nil {
		return 0, false
	}
	ths, err := sess.Threads()
	if err != nil {
		return 0, false
	}
	for _, th := range ths {
		if th.ID == *c.ThreadID && th.Context != nil {
			return th.Context.SP(), true
		}
	}
	return 0, false
}
