package app

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/disasm"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// DisasmTab is the view-model of a dump's disassembly tab: a
// widgets.DisasmView decoding the session's memory off the UI thread.
type DisasmTab struct {
	// Object is the view, to put in a tab.
	Object fyne.CanvasObject

	ctx       context.Context
	sess      *session.Session
	view      *widgets.DisasmView
	mem       *memSource
	dec       disasm.Decoder
	fixed     bool // fixed-width instructions (arm64): addresses align to 4
	ui        *uiPost
	pages     *latestOnly[widgets.DisasmRequest]
	navigated bool
	started   chan struct{} // closed once the initial position is settled
}

const (
	// resyncReach bounds how far after its symbol's start an address may
	// be for the scrollbar to realign it by decoding from that start.
	resyncReach = 16 << 10
	// probeLimit bounds the reads spent finding one end of a hole; a
	// longer hole is shown as several lines.
	probeLimit = 4096
)

// NewDisasmTab returns the disassembly tab of sess, opened at the crash's
// instruction, which stays highlighted. Call it on the UI thread; sess
// may be nil (the dump did not open).
func NewDisasmTab(sess *session.Session) *DisasmTab {
	return newDisasmTab(context.Background(), sess)
}

func newDisasmTab(ctx context.Context, sess *session.Session) *DisasmTab {
	v := widgets.NewDisasmView()
	t := &DisasmTab{Object: v, ctx: ctx, sess: sess, view: v, ui: newUIPost(), started: make(chan struct{})}
	if sess == nil {
		v.ShowError("The dump is not open.")
		close(t.started)
		return t
	}
	arch := sess.Target().Info().Arch
	dec, err := disasm.For(arch)
	if err != nil {
		v.ShowError(fmt.Sprintf("Crashbench cannot disassemble %s code.", arch))
		close(t.started)
		return t
	}
	t.dec, t.fixed = dec, arch == model.ARM64
	v.SetPointerSize(console.PointerSize(arch))
	t.mem = newMemSource(sess)
	t.pages = newLatestOnly(ctx, t.ui, func(req widgets.DisasmRequest) func() {
		p := t.page(req)
		return func() { v.SetPage(p) }
	})
	v.OnRequest = t.pages.submit
	v.OnGoTo = func(expr string) { evalGoTo(ctx, t.ui, sess, expr, t.GoTo, v.ShowGoToError) }
	inBackground(ctx, t.started, func() func() {
		if t.mem.space() == nil {
			return func() { v.ShowError("This dump holds no memory.") }
		}
		pc, ret, ok := crashPC(ctx, sess)
		return func() {
			switch {
			case ok && ret:
				v.SetCurrent(pc - 1) // the call before the return address
			case ok:
				v.SetCurrent(pc)
			}
			if !t.navigated {
				v.GoTo(pc) // address 0, unreadable, when the dump names no crash
			}
		}
	})
	return t
}

// GoTo shows the instruction at addr, selected; other views (the frame
// table, the memory map, the console's links) call it. Call it on the UI
// thread.
func (t *DisasmTab) GoTo(addr uint64) {
	t.navigated = true
	t.view.GoTo(addr)
}

// View returns the disassembly view.
func (t *DisasmTab) View() *widgets.DisasmView { return t.view }

// idle reports whether every page asked for and every Go to has been
// handed to the UI thread (tests wait for it).
func (t *DisasmTab) idle() bool { return t.ui.idle() }

// crashPC returns the crash's instruction address: the one the dump
// records, else the crashing thread's first frame, else the function a
// kernel's panic report names. ret says it is a return address (a
// caller's frame in the report's call trace), not the instruction itself.
func crashPC(ctx context.Context, sess *session.Session) (pc uint64, ret, ok bool) {
	if c := sess.Target().Info().Crash; c != nil && c.PC != nil {
		return *c.PC, false, true
	}
	a, err := sess.Analyze(ctx)
	if err != nil {
		return 0, false, false
	}
	if a.Crashed >= 0 && len(a.Threads[a.Crashed].Frames) > 0 {
		return a.Threads[a.Crashed].Frames[0].PC, false, true
	}
	if p := a.Panic; p != nil {
		for k, fr := range append([]string{p.RIP}, p.Frames...) {
			// "sysrq_handle_crash+0x16/0x20 [mod]": the function and offset.
			f := strings.Fields(fr)
			if len(f) == 0 {
				continue
			}
			expr, _, _ := strings.Cut(f[0], "/")
			if pc, err := sess.Eval(expr); err == nil {
				return pc, k > 0, true
			}
		}
	}
	return 0, false, false
}

// page answers a request: it realigns and moves the requested address,
// then decodes the lines that fit. It runs off the UI thread.
func (t *DisasmTab) page(req widgets.DisasmRequest) widgets.DisasmPage {
	top := req.Addr
	if req.Sync {
		top = t.realign(top)
	}
	switch {
	case req.Skip > 0:
		if ls := t.decode(top, req.Skip+1, false, top); len(ls) > 0 {
			top = ls[len(ls)-1].Addr
		}
	case req.Skip < 0:
		top = t.back(top, -req.Skip)
	}
	// A hole is split where the view was sent (the crash's pc in a dump
	// without code), so that address gets a line and a label of its own.
	split := top
	if !req.Sync {
		split = req.Addr
	}
	return widgets.DisasmPage{DisasmRequest: req, Lines: t.decode(top, max(req.Rows, 1), true, split)}
}

// realign returns the start of the instruction holding a, decoding from
// its symbol's start when that is near; otherwise a itself (x86 streams
// fall into step within a few instructions).
func (t *DisasmTab) realign(a uint64) uint64 {
	if t.fixed {
		return alignDown(a, 4)
	}
	s, ok := t.mem.symbolStart(a)
	if !ok || a-s > resyncReach {
		return a
	}
	for cur := s; cur <= a; {
		ins, err := disasm.Range(t.mem.space(), t.dec, cur, 256)
		for _, in := range ins {
			if a-in.Addr < uint64(in.Len) {
				return in.Addr
			}
		}
		if err != nil || len(ins) == 0 {
			break
		}
		last := ins[len(ins)-1]
		cur = last.Addr + uint64(last.Len)
		if cur <= last.Addr {
			break // the top of the space
		}
	}
	return a
}

// back returns the address n instructions before a: by backward decoding
// where memory is readable, a hole counting as one line and an
// undecodable byte as one.
func (t *DisasmTab) back(a uint64, n int) uint64 {
	m := t.mem.space()
	for n > 0 && a > 0 {
		ins, err := disasm.Backward(m, t.dec, a, n)
		switch {
		case err == nil && len(ins) > 0:
			a, n = ins[0].Addr, n-len(ins)
		case errors.Is(err, disasm.ErrNoBackward):
			a, n = a-1, n-1 // data among the code: Range shows it byte by byte
		default:
			a, n = t.holeStart(a-1), n-1
		}
	}
	return a
}

// decode returns count lines from a: instructions as u prints them and,
// for memory that cannot be read, one line a hole, split at module
// starts and at split. named adds the symbol names the view draws.
func (t *DisasmTab) decode(a uint64, count int, named bool, split uint64) []widgets.DisasmLine {
	m := t.mem.space()
	var lines []widgets.DisasmLine
	for len(lines) < count {
		ins, err := disasm.Range(m, t.dec, a, count-len(lines))
		for _, in := range ins {
			lines = append(lines, t.instLine(in, named))
		}
		if err == nil {
			break
		}
		f := a // where decoding stopped
		if len(ins) > 0 {
			last := ins[len(ins)-1]
			if f = last.Addr + uint64(last.Len); f <= last.Addr {
				break // decoded up to the top of the space
			}
		}
		// An instruction cut short by the hole: its readable bytes.
		var buf [16]byte
		if n, _ := m.ReadMemory(buf[:], f); n > 0 {
			n = min(n, len(buf))
			lines = append(lines, t.named(widgets.DisasmLine{Addr: f, Last: f + uint64(n) - 1, Bytes: slices.Clone(buf[:n]), Text: "???"}, named))
			if f += uint64(n); f == 0 {
				break
			}
			if len(lines) == count {
				break
			}
		}
		last := t.holeEnd(f)
		if split > f && split-1 < last {
			last = split - 1
		}
		hole := t.named(widgets.DisasmLine{Addr: f, Last: last, Unreadable: true}, named)
		hole.Start = hole.Symbol != "" // a hole in a module is labelled: where is it?
		lines = append(lines, hole)
		if last == math.MaxUint64 {
			break
		}
		a = last + 1
	}
	return lines
}

// instLine turns an instruction into a line: its text as the console's u
// prints it, and the target of a direct call or jump.
func (t *DisasmTab) instLine(in disasm.Inst, named bool) widgets.DisasmLine {
	l := widgets.DisasmLine{Addr: in.Addr, Last: in.Addr + uint64(in.Len) - 1, Bytes: in.Bytes}
	if !named {
		return l
	}
	l.Text = instText(in, t.symname)
	switch in.Kind {
	case disasm.Call, disasm.Jmp, disasm.CondJmp:
		l.Target = in.Target
	}
	return t.named(l, true)
}

// named fills a line's symbol name.
func (t *DisasmTab) named(l widgets.DisasmLine, named bool) widgets.DisasmLine {
	if named {
		l.Symbol = t.mem.Symbol(l.Addr)
		s, ok := t.mem.symbolStart(l.Addr)
		l.Start = ok && s == l.Addr
	}
	return l
}

// instText formats an instruction as the console's u does: the mnemonic
// padded to seven columns, then the operands.
func instText(in disasm.Inst, symname func(uint64) (string, uint64)) string {
	text := strings.TrimSpace(in.Text(disasm.Intel, symname))
	if mn, ops, ok := strings.Cut(text, " "); ok && !strings.HasPrefix(ops, "[") {
		text = fmt.Sprintf("%-7s %s", mn, strings.TrimSpace(ops))
	}
	return text
}

// symname names branch targets and memory operands for disasm, as the
// console does.
func (t *DisasmTab) symname(a uint64) (string, uint64) {
	if syms := t.sess.Symbols(); syms != nil {
		if s, ok := syms.Lookup(a); ok {
			name := s.Name
			if s.Module != "" {
				name = console.ModuleName(s.Module) + "!" + name
			}
			return name, s.Addr
		}
	}
	return "", 0
}

// holeEnd returns the last unreadable address of the hole starting at f,
// probing the next page or region until one reads. A hole also ends at
// a module's start or end, where the names change.
func (t *DisasmTab) holeEnd(f uint64) uint64 {
	end := uint64(math.MaxUint64)
	if i, _ := slices.BinarySearch(t.mem.bounds, f+1); f+1 != 0 && i < len(t.mem.bounds) {
		end = t.mem.bounds[i] - 1
	}
	cur := f
	for range probeLimit {
		next := t.mem.nextReadable(cur)
		if next == 0 || next-1 >= end {
			return end
		}
		if t.mem.readable(next) {
			return next - 1
		}
		cur = next
	}
	return min(cur, end)
}

// holeStart returns the first address of the hole ending at f, which
// starts no earlier than a module start or end before f.
func (t *DisasmTab) holeStart(f uint64) uint64 {
	start := uint64(0)
	if i, found := slices.BinarySearch(t.mem.bounds, f); found {
		start = f
	} else if i > 0 {
		start = t.mem.bounds[i-1]
	}
	cur := f
	for range probeLimit {
		prev, ok := t.mem.prevReadable(cur)
		if !ok || prev < start {
			return start
		}
		if t.mem.readable(prev) {
			return prev + 1
		}
		cur = prev
	}
	return max(cur, start)
}

func alignDown(a, size uint64) uint64 { return a - a%size }

// nextReadable returns the first address after the unreadable f that may
// be readable: the next page inside a region, the next region's start
// outside one; 0 when none is left. A space that lists no regions is
// probed page by page.
func (s *memSource) nextReadable(f uint64) uint64 {
	if len(s.regions) == 0 {
		return s.nextProbe(f)
	}
	i, in := s.regionAt(f)
	if in {
		r := s.regions[i]
		next := f - f%probePage + probePage
		if next == 0 || r.Last() < next {
			next = r.Last() + 1 // 0 for a region at the top of the space
		}
		return next
	}
	if i < len(s.regions) {
		return s.regions[i].Start
	}
	return 0
}

// prevReadable returns the last address before the unreadable f that may
// be readable, mirroring nextReadable.
func (s *memSource) prevReadable(f uint64) (uint64, bool) {
	if len(s.regions) == 0 {
		p := f - f%probePage
		return p - 1, p > 0
	}
	i, in := s.regionAt(f)
	if in {
		r := s.regions[i]
		p := max(f-f%probePage, r.Start)
		return p - 1, p > 0
	}
	if i > 0 {
		return s.regions[i-1].Last(), true
	}
	return 0, false
}

// regionAt returns the region holding a and true, or the index of the
// first region after a and false.
func (s *memSource) regionAt(a uint64) (int, bool) {
	i, _ := slices.BinarySearchFunc(s.regions, a, func(r mem.Region, a uint64) int {
		switch {
		case r.Last() < a:
			return -1
		case r.Start > a:
			return 1
		}
		return 0
	})
	return i, i < len(s.regions) && s.regions[i].Contains(a)
}
