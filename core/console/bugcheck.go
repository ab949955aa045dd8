package console

import (
	"context"
	"fmt"
	"strings"

	"github.com/crashbench/crashbench/core/model"
)

// bugcheckCommand is WinDbg's .bugcheck: the stop code and its four
// parameters as the kernel passed them to KeBugCheckEx, nothing decoded
// (!analyze -v explains them).
func bugcheckCommand() Command {
	return Command{Names: []string{".bugcheck"}, Kind: Meta, Group: GroupTarget, Usage: ".bugcheck", Summary: "show the bug check code and its parameters",
		Help: "Prints the stop code of a Windows kernel dump and its parameters as WinDbg does " +
			"(``Bugcheck code 1000007E`` and ``Arguments ffffffff`c0000005 ...``); !analyze -v explains them.",
		Run: runBugcheck}
}

func runBugcheck(_ context.Context, env Env, _ *Invocation, out Output) error {
	c := env.Target().Info().Crash
	if c == nil || c.Kind != model.BugCheck {
		return &NotSupportedError{What: "this dump records no bug check: .bugcheck is for Windows kernel dumps"}
	}
	ptr := ptrOf(env)
	args := make([]string, len(c.Parameters))
	for i, p := range c.Parameters {
		args[i] = FormatAddr(p, ptr)
	}
	out.Text(fmt.Sprintf("Bugcheck code %08X\nArguments %s\n", uint32(c.Code), strings.Join(args, " ")))
	return nil
}
