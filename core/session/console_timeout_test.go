package session

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/minidump/minidumptest"
)

// TestCommandTimeout: a command that outlives Options.CommandTimeout stops
// with a TimeoutError naming it and the limit; a negative timeout means
// none, and the next command runs normally.
func TestCommandTimeout(t *testing.T) {
	b, err := minidumptest.Scenarios()["amd64-av-write"]().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, "t.dmp", b)
	const search = "s -a 0 L?ffffffffffffffff nothing-like-this"
	s := openSession(t, path, Options{Offline: true, CommandTimeout: time.Nanosecond})
	var out bytes.Buffer
	err = s.Exec(context.Background(), search, console.NewTextOutput(&out))
	var te *TimeoutError
	if !errors.As(err, &te) || te.Limit != time.Nanosecond || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "s -a 0 L?ffffffffffffffff nothing-like-this: stopped after 1ns") {
		t.Fatalf("err = %v", err)
	}
	if s.opts.commandTimeout() != time.Nanosecond || (Options{}).commandTimeout() != DefaultCommandTimeout || (Options{CommandTimeout: -1}).commandTimeout() != 0 {
		t.Error("commandTimeout does not map 0 to the default and negative to none")
	}
	// Cancelled by the caller is not a timeout.
	s2 := openSession(t, path, Options{Offline: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s2.Exec(ctx, search, console.NewTextOutput(&out)); errors.As(err, &te) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	out.Reset()
	if err := s2.Exec(context.Background(), "lm", console.NewTextOutput(&out)); err != nil || !strings.Contains(out.String(), "app") {
		t.Errorf("lm after: %v\n%s", err, out.String())
	}
}
