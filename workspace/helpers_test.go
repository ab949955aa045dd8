package workspace

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
)

// crashSpec describes a synthesized minidump of app.exe: a crash at
// app.exe+rip on a frame-pointer chain main → BaseThreadInitThunk →
// RtlUserThreadStart, in a process with pid, app.exe loaded at appBase
// (different bases are ASLR), or no crash at all (a snapshot).
type crashSpec struct {
	pid     uint32
	appBase uint64
	rip     uint64 // offset of the crashing instruction in app.exe
	inOther bool   // rip is an offset in the other module (no symbols) instead
	code    uint32 // exception code; 0 = 0xc0000005
	params  []uint64
	version [4]uint16
	time    uint32 // the dump's TimeDateStamp
	noCrash bool
	other   string // another module's name (varies search tests)
}

func (c crashSpec) bytes(t testing.TB) []byte {
	t.Helper()
	app := c.appBase
	if app == 0 {
		app = 0x7ff6_0000_0000
	}
	const k32, ntdll = 0x7ffd_0000_0000, 0x7ffd_1000_0000
	stack := make([]byte, 0x100)
	le := func(off int, v uint64) { binary.LittleEndian.PutUint64(stack[off:], v) }
	le(0x20, 0x14_0040)
	le(0x28, app+0x2046)
	le(0x40, 0x14_0060)
	le(0x48, k32+0x1744d)
	le(0x60, 0)
	le(0x68, ntdll+0x5485b)
	rip := c.rip
	if rip == 0 {
		rip = 0x1018
	}
	pc := app + rip
	if c.inOther {
		pc = 0x7ffe_0000_0000 + rip
	}
	ctx := minidumptest.AMD64Context(minidumptest.AMD64Regs{Rcx: 0x45, Rbp: 0x14_0020, Rsp: 0x14_0000, Rip: pc, EFlags: 0x10246})
	v := c.version
	if v == ([4]uint16{}) {
		v = [4]uint16{1, 2, 3, 4}
	}
	b := minidumptest.New(minidumptest.LE).Timestamp(c.time).
		AddThread(minidumptest.Thread{ID: 0x1234, Name: "main", TEB: 0x7ff0_0000_0000, Stack: minidumptest.Memory{Start: 0x14_0000, Bytes: stack}, Context: ctx}).
		AddThread(minidumptest.Thread{ID: 0x1238, Name: "worker", Context: minidumptest.AMD64Context(minidumptest.AMD64Regs{Rip: ntdll + 0x9d3c4, Rsp: 0x20_0000})}).
		Module(minidumptest.Module{Base: app, Size: 0x10000, Name: `C:\app\app.exe`, Timestamp: 0x45d35f6c, Version: &v,
			PDB: &minidumptest.PDB70{Data1: 0x5a9832e5, Data2: 0x2872, Data3: 0x41c1, Data4: [8]byte{0x83, 0x8e, 0xd9, 0x89, 0x14, 0xe9, 0xb7, 0xff}, Age: 1, Name: `C:\app\app.pdb`}}).
		Module(minidumptest.Module{Base: k32, Size: 0xb0000, Name: `C:\Windows\System32\kernel32.dll`}).
		Module(minidumptest.Module{Base: ntdll, Size: 0x200000, Name: `C:\Windows\System32\ntdll.dll`}).
		MiscInfo(c.pid, 1_599_999_000)
	if c.other != "" {
		b.Module(minidumptest.Module{Base: 0x7ffe_0000_0000, Size: 0x10000, Name: `C:\Program Files\Vendor\` + c.other, Version: &[4]uint16{7, 0, 1, 2}})
	}
	if !c.noCrash {
		code := c.code
		if code == 0 {
			code = 0xc0000005
		}
		params := c.params
		if params == nil && code == 0xc0000005 {
			params = []uint64{1, 0x45}
		}
		b.Exception(minidumptest.Exception{ThreadID: 0x1234, Code: code, Address: pc, Params: params, Context: ctx})
	}
	data, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// appSym is app.exe's Breakpad symbol file: CrashFunction, main and
// Parse.
const appSym = `MODULE windows x86_64 5A9832E5287241C1838ED98914E9B7FF1 app.pdb
INFO CODE_ID 45D35F6C10000 app.exe
FILE 0 c:\app\crash.cpp
FUNC 1000 40 0 CrashFunction
1000 40 10 0
FUNC 2000 80 0 main
2000 80 20 0
FUNC 3000 80 0 Parse
3000 80 30 0
`

// writeSymbols puts app.exe's symbols in dir/symbols, where a dump in
// dir finds them.
func writeSymbols(t testing.TB, dir string) {
	t.Helper()
	p := filepath.Join(dir, "symbols", "app.pdb", "5A9832E5287241C1838ED98914E9B7FF1", "app.sym")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(appSym), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func openTemp(t testing.TB) *DB {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	db, err := Open(filepath.Join(t.TempDir(), "ws.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t testing.TB, db *DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
