package console

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crashbench/crashbench/core/model"
)

// runHandle is !handle [value]: the handles the dump recorded, as WinDbg
// lists them from a minidump's handle stream.
func runHandle(_ context.Context, env Env, inv *Invocation, out Output) error {
	hl, ok := env.Target().(model.HandleLister)
	if !ok {
		return &NotSupportedError{What: "this dump kind records no handles"}
	}
	hs, err := hl.Handles()
	if err != nil {
		if errors.Is(err, model.ErrNotRecorded) {
			return &NotSupportedError{What: "this dump has no handle data stream (written without MiniDumpWithHandleData)"}
		}
		return err
	}
	var want *uint64
	if a := strings.TrimSpace(inv.Args); a != "" {
		v, err := Eval(a, NewEvalEnv(env))
		if err != nil {
			return err
		}
		want = &v
	}
	var b strings.Builder
	shown := 0
	for _, h := range hs {
		if want != nil && h.Value != *want {
			continue
		}
		shown++
		fmt.Fprintf(&b, "Handle %x\n  Type          %s\n", h.Value, h.Type)
		if h.Object != "" {
			fmt.Fprintf(&b, "  Name          %s\n", h.Object)
		}
		fmt.Fprintf(&b, "  Attributes    %#x\n  GrantedAccess %#x\n  HandleCount   %d\n  PointerCount  %d\n",
			h.Attributes, h.GrantedAccess, h.HandleCount, h.PointerCount)
	}
	fmt.Fprintf(&b, "%d handles shown of %d\n", shown, len(hs))
	out.Text(b.String())
	return nil
}
