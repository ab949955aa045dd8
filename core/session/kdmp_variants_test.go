package session

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
)

// TestKernelDumpVariants builds each kind of Windows kernel dump the
// builder makes (full, bitmap SDMP and FDMP, live kernel, .dump /k and
// /f, 32-bit PAE), with a bug check and a context in the kernel, and runs
// the console over it as a support engineer would: lm lists the drivers
// from PsLoadedModuleList, !process 0 0 the processes from
// PsActiveProcessHead, k walks from the header's context, .bugcheck and
// !analyze -v name the stop.
func TestKernelDumpVariants(t *testing.T) {
	t.Parallel()
	amd64Context := func(m *kdmptest.Machine) (int, []byte) {
		return 0x348, kdmptest.ContextAMD64(map[string]uint64{"rip": m.KernBase + 0x1000, "rsp": m.StackVA + 0x100, "cs": 0x10})
	}
	for _, v := range []struct {
		name    string
		paging  kdmptest.Paging
		builder func(m *kdmptest.Machine) *kdmptest.Builder
		context func(m *kdmptest.Machine) (int, []byte) // the header's ContextRecord offset and bytes
	}{
		{"full", kdmptest.PagingAMD64, func(m *kdmptest.Machine) *kdmptest.Builder { return m.NewBuilder() }, amd64Context},
		{"bitmap-sdmp", kdmptest.PagingAMD64, func(*kdmptest.Machine) *kdmptest.Builder { return kdmptest.New().DumpType(kdmptest.Bitmap) }, amd64Context},
		{"bitmap-fdmp", kdmptest.PagingAMD64, func(*kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.Bitmap).BitmapSignature(kdmptest.FullSignature)
		}, amd64Context},
		{"live-kernel", kdmptest.PagingAMD64, func(*kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.LiveKernelBitmap)
		}, amd64Context},
		{"kernel-memory", kdmptest.PagingAMD64, func(*kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.KernelMemory)
		}, amd64Context},
		{"complete-memory", kdmptest.PagingAMD64, func(*kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.CompleteMemory)
		}, amd64Context},
		{"full-pae", kdmptest.PagingPAE, func(m *kdmptest.Machine) *kdmptest.Builder { return m.NewBuilder() },
			func(m *kdmptest.Machine) (int, []byte) {
				return 0x320, kdmptest.ContextX86(map[string]uint64{"eip": m.KernBase + 0x1000, "esp": m.StackVA + 0x100, "cs": 8})
			}},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			m := kdmptest.NewMachine(v.paging)
			// The processor stopped in ntoskrnl, its stack in the mapped
			// stack page.
			b := v.builder(m).BugCheck(0xD1, 0x10, 2, 0, m.KernBase+0x1000).Patch(v.context(m))
			raw, err := m.Bytes(b)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "MEMORY.DMP")
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			out := map[string]string{}
			vtop := fmt.Sprintf("!vtop 0 %x", m.StackVA)
			pte := fmt.Sprintf("!pte %x", m.PagedOutVA)
			for _, cmd := range []string{"lm", "!process 0 0", "k", ".bugcheck", "!analyze -v", vtop, pte} {
				var buf bytes.Buffer
				if err := s.Exec(context.Background(), cmd, console.NewTextOutput(&buf)); err != nil {
					t.Errorf("%s: %v", cmd, err)
				}
				out[cmd] = buf.String()
			}
			for _, mod := range m.Modules {
				name := console.ModuleName(mod.Name) // "nt" for ntoskrnl.exe, as WinDbg says
				if !strings.Contains(strings.ToLower(out["lm"]), strings.ToLower(name)) {
					t.Errorf("lm lacks %s:\n%s", mod.Name, out["lm"])
				}
			}
			for _, p := range m.Processes {
				if !strings.Contains(out["!process 0 0"], "Image: "+p.Name) {
					t.Errorf("!process 0 0 lacks %s:\n%s", p.Name, out["!process 0 0"])
				}
			}
			// Frame 0 is named from ntoskrnl's export table in memory.
			if !strings.Contains(out["k"], "00 ") || !strings.Contains(out["k"], "nt!KeBugCheckEx+0x0") {
				t.Errorf("k:\n%s", out["k"])
			}
			if !strings.Contains(out[".bugcheck"], "Bugcheck code 000000D1") {
				t.Errorf(".bugcheck:\n%s", out[".bugcheck"])
			}
			// The builder's own page tables say where the stack page is.
			pa, ok := m.AS.Translate(m.StackVA)
			if !ok || !strings.Contains(out[vtop], fmt.Sprintf("translates to physical address %x.", pa)) {
				t.Errorf("%s (builder: %#x %v):\n%s", vtop, pa, ok, out[vtop])
			}
			if !strings.Contains(out[pte], "paged out to pagefile") || !strings.Contains(out[pte], "PTE ") {
				t.Errorf("%s:\n%s", pte, out[pte])
			}
			// analyze --json lists the processes with their ids.
			r, _, err := s.AnalysisReport(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Processes) != len(m.Processes) || r.Processes[0].Name != "System" || r.Processes[0].PID == nil || *r.Processes[0].PID != 4 {
				t.Errorf("report processes %+v", r.Processes)
			}
			if !strings.Contains(out["!analyze -v"], "DRIVER_IRQL_NOT_LESS_OR_EQUAL") {
				t.Errorf("!analyze -v:\n%s", out["!analyze -v"])
			}
		})
	}
}
