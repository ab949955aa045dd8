package pdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

func TestProvider(t *testing.T) {
	store := filepath.Dir(filepath.Dir(filepath.Dir(fixture.Corpus(t, amdppmRel))))
	flat := t.TempDir()
	b, err := os.ReadFile(fixture.Corpus(t, amdppmRel))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flat, "amdppm.pdb"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	mod := model.Module{Path: `\SystemRoot\System32\drivers\amdppm.sys`, DebugFile: `d:\os\amdppm.pdb`, DebugID: "1c19fddb27bb3399d9b45973efeafcf31"}
	for _, root := range []string{store, flat} {
		tab, err := NewProvider(Finder{Roots: []string{t.TempDir(), root}}).Load(context.Background(), mod)
		if err != nil {
			t.Fatalf("%s: %v", root, err)
		}
		if s, ok := tab.LookupRVA(0x334c); !ok || s.Name != "WriteIoMemRawEx" {
			t.Errorf("%s: LookupRVA(0x334c) = %q, %v", root, s.Name, ok)
		}
	}
	// A flat file with another id is not used.
	other := mod
	other.DebugID = "1C19FDDB27BB3399D9B45973EFEAFCF32"
	if _, err := NewProvider(Finder{Roots: []string{flat}}).Load(context.Background(), other); !errors.Is(err, symtab.ErrNoSymbols) {
		t.Errorf("mismatched id: %v, want ErrNoSymbols", err)
	}
	if _, err := NewProvider(Finder{Roots: []string{flat}}).Load(context.Background(), model.Module{Path: "x.dll"}); !errors.Is(err, symtab.ErrNoSymbols) {
		t.Errorf("no debug id: %v, want ErrNoSymbols", err)
	}
}
