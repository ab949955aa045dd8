package session

import (
	"context"
	"testing"
)

// analyzed opens path and runs the analysis, failing the test on error;
// the session is closed when the test ends.
func analyzed(t *testing.T, path string, o Options) (*Session, *Analysis) {
	t.Helper()
	s, err := Open(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	a, err := s.Analyze(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}
