//go:build ignore

// gen_names collects the decorated ('?'-prefixed) public symbol names of
// every PDB under the given roots and prints them sorted and
// deduplicated, one a line. scripts/msvc-oracle.sh runs it to produce
// testdata/names.txt.
//
//	go run ./core/symbols/msvc/gen_names.go [-cap N] DIR... > names.txt
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/crashbench/crashbench/core/symbols/pdb"
)

func main() {
	limit := flag.Int("cap", 40, "keep at most this many names sharing one 24-byte prefix")
	flag.Parse()
	seen := map[string]bool{}
	for _, root := range flag.Args() {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(strings.ToLower(path), ".pdb") {
				return nil
			}
			f, err := pdb.Open(path)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
				return nil
			}
			defer f.Close()
			pubs, err := f.Publics()
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			}
			for _, p := range pubs {
				if strings.HasPrefix(p.Name, "?") && !strings.ContainsAny(p.Name, "\t\n\r ") {
					seen[p.Name] = true
				}
			}
			return nil
		})
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	// Template-heavy code repeats one long prefix many times; keep the
	// first few of each prefix so that every distinct shape survives
	// but the file stays small.
	per := map[string]int{}
	for _, n := range names {
		k := n
		if len(k) > 24 {
			k = k[:24]
		}
		if per[k] >= *limit {
			continue
		}
		per[k]++
		fmt.Println(n)
	}
}
