package session

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// BenchmarkAnalyzeCorpusMinidumps opens and analyses every minidump of the
// shared corpus (header, streams, threads, stack walks, signature), one
// sub-benchmark per dump. Breakpad symbols are used where the corpus has
// them next to the dump.
func BenchmarkAnalyzeCorpusMinidumps(b *testing.B) {
	corpus := fixture.CorpusDir(b)
	var dumps []string
	filepath.WalkDir(corpus, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".dmp") && !strings.Contains(p, "/rizin/dmp/") && !strings.Contains(p, "invalid-") {
			dumps = append(dumps, p)
		}
		return nil
	})
	for _, p := range dumps {
		rel, _ := filepath.Rel(corpus, p)
		sympath := filepath.Join(filepath.Dir(p), "symbols")
		b.Run(rel, func(b *testing.B) {
			for b.Loop() {
				s, err := Open(context.Background(), p, Options{SymPath: sympath})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Analyze(context.Background()); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
