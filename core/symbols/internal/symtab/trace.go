package symtab

import (
	"context"
	"fmt"
)

type traceKey struct{}

// WithTrace returns a context whose symbol loads report each place they
// try (a file, a URL) and what happened there, one line per call of fn.
// See symbols.WithTrace.
func WithTrace(ctx context.Context, fn func(line string)) context.Context {
	return context.WithValue(ctx, traceKey{}, fn)
}

// Tracef reports one line to ctx's trace function, if it has one.
func Tracef(ctx context.Context, format string, args ...any) {
	if fn, ok := ctx.Value(traceKey{}).(func(string)); ok && fn != nil {
		fn(fmt.Sprintf(format, args...))
	}
}

type progressKey struct{}

// WithProgress returns a context whose downloads report their progress:
// fn gets what is being fetched, the bytes received and the size
// announced (-1 when unknown); the last call for a download has done ==
// total, however it ended. See symbols.WithProgress.
func WithProgress(ctx context.Context, fn func(what string, done, total int64)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// Progress returns ctx's progress function, or nil.
func Progress(ctx context.Context) func(what string, done, total int64) {
	fn, _ := ctx.Value(progressKey{}).(func(string, int64, int64))
	return fn
}
