package core

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/crashbench/crashbench"

// formatPackages must stay independent of each other.
var formatPackages = []string{"minidump", "kdmp", "elfcore", "vmcore", "lime", "fbsd"}

// coreAllowed are the third-party imports core may use.
var coreAllowed = []string{
	"golang.org/x/arch/",
	"golang.org/x/sync/",
	"github.com/klauspost/compress/",
	"github.com/ulikunitz/xz",
	"github.com/ianlancetaylor/demangle",
}

func listImports(t *testing.T) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-tags", "ci", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...")
	cmd.Dir = ".."
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go list: %v\n%s", err, errb.String())
	}
	deps := map[string][]string{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 {
			deps[f[0]] = f[1:]
		}
	}
	return deps
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestImportRules(t *testing.T) {
	deps := listImports(t)
	if len(deps) < 5 {
		t.Fatalf("go list found only %d packages", len(deps))
	}
	for pkg, imports := range deps {
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		for _, imp := range imports {
			impRel, internal := strings.CutPrefix(imp, module+"/")
			check := func(ok bool, rule string) {
				if !ok {
					t.Errorf("%s imports %s: %s", pkg, imp, rule)
				}
			}
			if imp == "fyne.io/fyne/v2/app" {
				check(rel == "", "only the root main package may import fyne.io/fyne/v2/app")
			}
			switch {
			case strings.HasPrefix(rel, "core/") || rel == "core":
				if internal {
					check(strings.HasPrefix(impRel, "core/") || strings.HasPrefix(impRel, "assets/signature") || strings.HasPrefix(impRel, "assets/bugcheck"),
						"core may import only core packages and the data-only assets/signature and assets/bugcheck")
				} else if !isStd(imp) {
					allowed := false
					for _, a := range coreAllowed {
						allowed = allowed || strings.HasPrefix(imp, a) || imp == strings.TrimSuffix(a, "/")
					}
					check(allowed, "core may import only the standard library and the allowed libraries")
				}
				for _, f := range formatPackages {
					if rel == "core/"+f || strings.HasPrefix(rel, "core/"+f+"/") {
						for _, g := range append(formatPackages, "dump") {
							if g != f && (impRel == "core/"+g || strings.HasPrefix(impRel, "core/"+g+"/")) {
								check(false, "format packages must not import each other or core/dump")
							}
						}
					}
				}
			case strings.HasPrefix(rel, "assets/signature") || strings.HasPrefix(rel, "assets/bugcheck"):
				check(isStd(imp), rel+" is data: it may import only the standard library")
			case strings.HasPrefix(rel, "widgets"):
				check(!internal || strings.HasPrefix(impRel, "widgets") || strings.HasPrefix(impRel, "assets"), "widgets must not import core, workspace, platform or app")
			case strings.HasPrefix(rel, "platform"):
				check(!internal || strings.HasPrefix(impRel, "platform"), "platform must not import other packages of this module")
				check(!strings.HasPrefix(imp, "fyne.io/"), "platform must not import Fyne")
			case strings.HasPrefix(rel, "workspace"):
				check(!strings.HasPrefix(imp, "fyne.io/"), "workspace must not import Fyne")
			}
		}
	}
}
