package elfsym

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/crashbench/crashbench/core/model"
)

// TestFindByPathWithoutBuildID: a module without a build id (its ELF
// headers were not dumped) gets the file at its recorded path only when
// the file's loadable extent is the module's size.
func TestFindByPathWithoutBuildID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "q.c")
	if err := os.WriteFile(src, []byte("int main(void) { return 0; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "q")
	if out, err := exec.Command("gcc", "-o", exe, src).CombinedOutput(); err != nil {
		t.Skipf("gcc: %v\n%s", err, out)
	}
	info, ok := inspect(exe)
	if !ok || info.extent == 0 {
		t.Fatalf("inspect: %+v %v", info, ok)
	}
	f := &Finder{}
	if p, ok := f.Find(model.Module{Base: 0x1000, Size: info.extent, Path: exe}); !ok || p != exe {
		t.Errorf("same extent: %q %v", p, ok)
	}
	if p, ok := f.Find(model.Module{Base: 0x1000, Size: info.extent + 0x1000, Path: exe}); ok {
		t.Errorf("other extent accepted: %q", p)
	}
}
