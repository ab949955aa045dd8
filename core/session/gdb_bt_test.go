package session

import (
	"compress/bzip2"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/crashbench/crashbench/core/report"
	"github.com/crashbench/crashbench/core/symbols/elfsym"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// gdbThread is one thread of gdb's `thread apply all bt`: its LWP and the
// names of its frames, inlined calls included (gdb prints each as a frame
// of its own, innermost first, as Crashbench's bt does). An unnamed frame
// ("??") ends the list: past it gdb walks garbage.
type gdbThread struct {
	lwp    uint64
	frames []string
}

var (
	gdbThreadRE = regexp.MustCompile(`^Thread \d+ \((?:Thread 0x[0-9a-f]+ \()?LWP (\d+)\)?\):`)
	gdbFrameLRE = regexp.MustCompile(`^#(\d+)\s+(0x[0-9a-f]+ in )?(\S+) `)
)

// gdbTailCallFrames are frames gdb synthesizes from DWARF call-site
// information for tail calls (DW_AT_call_tail_call): glibc's
// __pthread_kill jumps to __pthread_kill_implementation, so no return
// address of __pthread_kill_internal is on the stack. Crashbench does not
// synthesize tail-call frames (yet), so they are left out of the
// comparison.
var gdbTailCallFrames = map[string]bool{"__pthread_kill_internal": true}

func parseGDBBacktraces(text string) []gdbThread {
	var threads []gdbThread
	var cur *gdbThread
	stopped := false
	for _, line := range strings.Split(text, "\n") {
		if m := gdbThreadRE.FindStringSubmatch(line); m != nil {
			lwp, _ := strconv.ParseUint(m[1], 10, 64)
			threads = append(threads, gdbThread{lwp: lwp})
			cur, stopped = &threads[len(threads)-1], false
			continue
		}
		if cur != nil && !stopped && strings.HasSuffix(line, "<signal handler called>") {
			// gdb's name for the kernel's signal frame: the return
			// address the kernel gave the handler, glibc's __restore_rt.
			cur.frames = append(cur.frames, "__restore_rt")
			continue
		}
		m := gdbFrameLRE.FindStringSubmatch(line)
		if cur == nil || m == nil || stopped {
			continue
		}
		name := m[3]
		if gdbTailCallFrames[name] {
			continue
		}
		if name == "??" {
			stopped = true
			continue
		}
		cur.frames = append(cur.frames, name)
	}
	return threads
}

// checkAgainstGDB opens core with the session options and compares every
// thread gdb printed, frame by frame, by function name.
func checkAgainstGDB(t *testing.T, core string, o Options, gdbText string) {
	t.Helper()
	want := parseGDBBacktraces(gdbText)
	if len(want) == 0 {
		t.Fatal("no thread in the gdb oracle")
	}
	_, a := analyzed(t, core, o)
	byID := map[uint64]ThreadStack{}
	for _, ts := range a.Threads {
		byID[ts.Thread.ID] = ts
	}
	compared := 0
	for _, w := range want {
		compared += len(w.frames)
		ts, ok := byID[w.lwp]
		if !ok {
			t.Errorf("LWP %d: not among the threads", w.lwp)
			continue
		}
		var got []string
		for _, f := range ts.Frames {
			for _, in := range f.Analysis.Inlined {
				got = append(got, in.Function)
			}
			got = append(got, f.Analysis.Function)
		}
		for i, name := range w.frames {
			if i >= len(got) || got[i] != name {
				t.Errorf("LWP %d: frames %q, gdb %q (first difference at #%d)", w.lwp, got, w.frames, i)
				break
			}
		}
	}
	if compared == 0 {
		t.Error("the gdb oracle names no frame: nothing was compared")
	}
}

// unpacked returns the corpus file rel, decompressed into dir under name
// when it ends in .bz2 or .zst.
func unpacked(t *testing.T, rel, dir, name string) string {
	t.Helper()
	src := fixture.Corpus(t, rel)
	var r io.Reader
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch filepath.Ext(rel) {
	case ".bz2":
		r = bzip2.NewReader(f)
	case ".zst":
		d, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		r = d
	default:
		return src
	}
	out := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBacktracesAgreeWithGDB compares every thread's stack with gdb's
// `thread apply all bt` for the corpus cores that come with their
// executables (testdata/gdb-bt, written by its make.sh), on every
// architecture the walker unwinds.
func TestBacktracesAgreeWithGDB(t *testing.T) {
	t.Parallel()
	type tc struct {
		name, core, exe string
		sysroot         map[string]string // sysroot path -> corpus file
		sysrootCorpus   string            // a corpus folder that is the sysroot
	}
	drgnRoot := func(files ...string) map[string]string {
		m := map[string]string{}
		for _, f := range files {
			m["home/osandov/"+f] = "drgn/" + f + ".zst"
		}
		return m
	}
	cases := []tc{
		{name: "lldb-linux-x86_64", core: "lldb/elf-core/linux-x86_64.core", exe: "lldb/elf-core/linux-x86_64.out"},
		{name: "lldb-linux-i386", core: "lldb/elf-core/linux-i386.core", exe: "lldb/elf-core/linux-i386.out"},
		{name: "lldb-altmain", core: "lldb/elf-core/altmain.core", exe: "lldb/elf-core/altmain.out"},
		{name: "elfutils-backtrace.x86_64", core: "elfutils/backtrace.x86_64.core.bz2", exe: "elfutils/backtrace.x86_64.exec.bz2"},
		{name: "elfutils-backtrace.i386", core: "elfutils/backtrace.i386.core.bz2", exe: "elfutils/backtrace.i386.exec.bz2"},
		{name: "elfutils-backtrace.aarch64", core: "elfutils/backtrace.aarch64.core.bz2", exe: "elfutils/backtrace.aarch64.exec.bz2"},
		{name: "lldb-linux-s390x", core: "lldb/elf-core/linux-s390x.core", exe: "lldb/elf-core/linux-s390x.out"},
		{name: "lldb-linux-mips64el-gnuabi64", core: "lldb/elf-core/linux-mips64el-gnuabi64.core", exe: "lldb/elf-core/linux-mips64el-gnuabi64.out"},
		{name: "elfutils-backtrace.ppc", core: "elfutils/backtrace.ppc.core.bz2", exe: "elfutils/backtrace.ppc.exec.bz2"},
		{name: "elfutils-backtrace.s390x", core: "elfutils/backtrace.s390x.core.bz2", exe: "elfutils/backtrace.s390x.exec.bz2"},
		{name: "lldb-linux-ppc64le", core: "lldb/elf-core/linux-ppc64le.core", exe: "lldb/elf-core/linux-ppc64le.out"},
		{name: "lldb-linux-mipsel-gnuabio32", core: "lldb/elf-core/linux-mipsel-gnuabio32.core", exe: "lldb/elf-core/linux-mipsel-gnuabio32.out"},
		{name: "elfutils-testfiledwarfinlines", core: "elfutils/testfiledwarfinlines.core.bz2", exe: "elfutils/testfiledwarfinlines.bz2"},
		{name: "drgn-crashme", core: "drgn/crashme.core.zst", sysroot: drgnRoot("crashme", "crashme.so")},
		{name: "drgn-crashme_pie", core: "drgn/crashme_pie.core.zst", sysroot: drgnRoot("crashme_pie", "crashme.so")},
		// No ELF headers dumped, so no build ids: files are taken by path
		// when their extent is the mapping's.
		{name: "drgn-crashme_pie_no_headers", core: "drgn/crashme_pie_no_headers.core.zst", sysroot: drgnRoot("crashme_pie", "crashme.so")},
		{name: "drgn-crashme_static", core: "drgn/crashme_static.core.zst", sysroot: drgnRoot("crashme_static")},
		{name: "drgn-crashme_static_pie", core: "drgn/crashme_static_pie.core.zst", sysroot: drgnRoot("crashme_static_pie")},
		{name: "golang-debug-core", core: "golang-debug/testdata/core", sysrootCorpus: "golang-debug/testdata"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			oracle, err := os.ReadFile(filepath.Join("testdata", "gdb-bt", c.name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var o Options
			if c.exe != "" {
				o.ImagePath = unpacked(t, c.exe, dir, "exe")
			}
			if c.sysroot != nil {
				o.Sysroot = filepath.Join(dir, "sysroot")
				for to, from := range c.sysroot {
					unpacked(t, from, o.Sysroot, to)
				}
			}
			if c.sysrootCorpus != "" {
				o.Sysroot = fixture.Corpus(t, c.sysrootCorpus)
			}
			core := unpacked(t, c.core, dir, "core")
			checkAgainstGDB(t, core, o, string(oracle))
		})
	}
}

// TestTestdataCoresAgreeWithGDB checks the gcore-written cores in
// testdata/linux-core (assert(), a double free, abort() in a SIGSEGV
// handler: through the kernel's signal frame) against the gdb
// backtraces and abort messages make.sh saved beside them. Their
// libraries are this machine's (Debian 12's glibc 2.36): elsewhere the
// libc frames cannot be named and the test skips.
func TestTestdataCoresAgreeWithGDB(t *testing.T) {
	t.Parallel()
	const libcID = "93ac61ec5a8eb1396f9fbd350e3169a558528a40"
	requireHostLibc(t, libcID)
	for _, prog := range []string{"assertc", "dfree", "sighandler"} {
		t.Run(prog, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("..", "..", "testdata", "linux-core")
			oracle, err := os.ReadFile(filepath.Join(dir, prog+".gdb.txt"))
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstGDB(t, filepath.Join(dir, "core."+prog+".zst"), Options{}, string(oracle))
			// gdb's `p __abort_msg->msg`: a string, or an error when the
			// pointer is null (a plain abort()).
			want := ""
			if msg := regexp.MustCompile(`(?m)^\$1 = 0x[0-9a-f]+ "(.*)\\n"$`).FindStringSubmatch(string(oracle)); msg != nil {
				if want, err = strconv.Unquote(`"` + msg[1] + `"`); err != nil {
					t.Fatal(err)
				}
			} else if !strings.Contains(string(oracle), "Cannot access memory") {
				t.Fatal("no __abort_msg in the gdb oracle")
			}
			_, a := analyzed(t, filepath.Join(dir, "core."+prog+".zst"), Options{})
			if got := a.Info.Crash.Message; got != want {
				t.Errorf("abort message %q, gdb %q", got, want)
			}
			// The workbench shows it under the crash.
			if want != "" && !slices.Contains(a.SummaryRows(), report.Row{Key: "Message", Value: want}) {
				t.Errorf("summary rows %v lack the message", a.SummaryRows())
			}
		})
	}
}

// requireHostLibc skips unless this machine's libc is the build the
// dumps were written with (Debian 12's libc6 2.36-9+deb12u14).
func requireHostLibc(t *testing.T, id string) {
	t.Helper()
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"} {
		if got, err := hostBuildID(p); err == nil {
			if got != id {
				t.Skipf("this machine's libc has build id %s, the dumps' %s: their libc frames cannot be named here", got, id)
			}
			return
		}
	}
	t.Skip("no x86-64 glibc on this machine")
}

func hostBuildID(path string) (string, error) {
	id, err := elfsym.BuildID(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", id), nil
}

// TestCrashcAllThreadsAgreeWithGDB compares all four threads of the
// kernel-written crashc core with gdb: level3 ← level2 ← level1 ← main on
// the crashing one, __libc_pause ← worker ← start_thread ← clone3 on the
// others. libc's frames are named from its debug file (libc6-dbg), found
// by build id, as gdb found it where the core was written.
func TestCrashcAllThreadsAgreeWithGDB(t *testing.T) {
	t.Parallel()
	requireHostLibc(t, "93ac61ec5a8eb1396f9fbd350e3169a558528a40")
	const debug = "/usr/lib/debug/.build-id/93/ac61ec5a8eb1396f9fbd350e3169a558528a40.debug"
	if _, err := os.Stat(debug); err != nil {
		t.Skipf("libc's debug file is not installed (apt-get install libc6-dbg): %v", err)
	}
	raw, err := os.ReadFile(fixture.Corpus(t, "generated/linux-core/core.crashc.sigsegv.gdb.txt"))
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstGDB(t, fixture.Corpus(t, "generated/linux-core/core.crashc.sigsegv"), Options{}, string(raw))
}
