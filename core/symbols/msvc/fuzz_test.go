package msvc

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func FuzzDemangle(f *testing.F) {
	if fh, err := os.Open("testdata/names.txt"); err == nil {
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for i := 0; sc.Scan(); i++ {
			if i%4 == 0 || !strings.HasPrefix(sc.Text(), "??_C") {
				f.Add(sc.Text())
			}
		}
		fh.Close()
	}
	f.Fuzz(func(t *testing.T, name string) {
		out, err := Demangle(name)
		if err == nil && len(out) > outputLimit(name) {
			t.Fatalf("Demangle(%q) gave %d bytes, over the cap %d", name, len(out), outputLimit(name))
		}
		n := Name(name)
		if len(n) > outputLimit(name) {
			t.Fatalf("Name(%q) gave %d bytes", name, len(n))
		}
	})
}
