package app

import (
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// sparseCore writes an x86-64 ELF core whose one PT_LOAD segment holds
// size bytes of a process's memory, as a sparse file: a 2 GiB dump that
// takes no disk space. Written from the ELF specification's layout, not
// from the parser's structures.
func sparseCore(t *testing.T, size uint64) string {
	t.Helper()
	const dataOff = 0x1000
	hdr := elf.Header64{
		Type: uint16(elf.ET_CORE), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	load := elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: dataOff,
		Vaddr: 0x7f0000000000, Filesz: size, Memsz: size, Align: 0x1000}
	p := filepath.Join(t.TempDir(), "big.core")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := binary.Write(f, binary.LittleEndian, hdr); err != nil {
		t.Fatal(err)
	}
	if err := binary.Write(f, binary.LittleEndian, load); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(int64(dataOff + size)); err != nil {
		t.Skipf("cannot make a %d-byte sparse file here: %v", size, err)
	}
	return p
}

// TestWindowResponsiveWhileParsing opens a 2 GiB sparse dump while the
// user types into another dump's console. The parse is held at a gate
// until the end, so any UI callback that waited on it would never return:
// each one here must return (within a generous bound that only catches a
// deadlock) while the big dump still shows "Opening…".
func TestWindowResponsiveWhileParsing(t *testing.T) {
	big := sparseCore(t, 2<<30)
	sample := writeScenario(t, "sample")
	m := newTestWindow(t, []string{sample}, nil)
	settle(t, m)

	gate := make(chan struct{})
	parsing := make(chan struct{})
	m.dumps.openSession = func(ctx context.Context, path string, o session.Options) (*session.Session, error) {
		if path == big {
			close(parsing)
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return session.Open(ctx, path, o)
	}
	t.Cleanup(func() {
		select {
		case <-gate:
		default:
			close(gate)
		}
	})

	ui := func(what string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { onUIWait(f); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			// A deadlock: cleanup could not close the window either, so
			// stop the test binary here with the reason.
			panic(what + " waited on the parse: a UI callback blocks on parsing")
		}
	}
	ui("open", func() { m.open(big) })
	waitClosed(t, "the parse to start", parsing, 10*time.Second)
	ui("select the sample", func() { m.list.Select(0) })
	tabs := m.perDump[m.dumps.Session(0)]
	ui("show the console", func() { m.tabs.Select(tabs.items[0]) })
	ui("focus the entry", func() {
		tabs.console.View().FocusEntry()
		if m.win.Canvas().Focused() == nil {
			t.Errorf("focus: canvas for the console %v", fyne.CurrentApp().Driver().CanvasForObject(tabs.console.View()))
		}
	})
	ui("type", func() {
		if m.win.Canvas().Focused() == nil {
			t.Fatal("the entry lost the focus")
		}
		test.Type(m.win.Canvas().Focused(), "lm") // what the keyboard types into the focused entry
	})
	ui("press Return", func() { m.win.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	tabs.console.Wait()
	flushUI()
	waitFor(t, "lm's output", func() bool {
		return strings.Contains(tabs.console.View().Text(), "kernel32")
	}, 10*time.Second)
	ui("select the big dump", func() { m.list.Select(1) })
	ui("read the list", func() {
		if st := m.dumps.Status(1); st != widgets.StatusLoading {
			t.Errorf("big dump %v while its parse is held", st)
		}
		if m.summary.State() != widgets.SummaryLoading {
			t.Errorf("summary %v while the parse is held", m.summary.State())
		}
	})

	close(gate)
	settle(t, m)
	if st := m.dumps.Status(1); st != widgets.StatusOK {
		t.Fatalf("big dump: %v %v", st, m.dumps.Err(1))
	}
	if !hasValue(m.dumps.Rows(1), "elf") && !hasValue(m.dumps.Rows(1), "ELF") {
		t.Errorf("big dump rows %v", m.dumps.Rows(1))
	}
}
