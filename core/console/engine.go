package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Group orders commands in .help and the reference page.
type Group uint8

// Command groups.
const (
	GroupGeneral  Group = iota // ?, .help
	GroupTarget                // the dump as a whole: |, vertarget, .exr
	GroupThreads               // ~, r, .ecxr, k
	GroupModules               // lm
	GroupMemory                // d*, s, !address
	GroupCode                  // u, ub
	GroupSymbols               // ln, x
	GroupAnalysis              // !analyze
	GroupGDB                   // bt, info threads: gdb's spelling
)

var groupNames = [...]string{"General", "Target", "Threads and registers", "Modules", "Memory", "Code", "Symbols", "Analysis", "gdb commands"}

// String returns the group's heading, e.g. "Memory".
func (g Group) String() string {
	if int(g) < len(groupNames) {
		return groupNames[g]
	}
	return fmt.Sprintf("group(%d)", uint8(g))
}

// Command is one entry of the command table.
type Command struct {
	Names   []string // canonical name first: {"db", "dw", ...} share one Run
	Kind    Kind
	Group   Group
	Usage   string // "lm [v] [m pattern]"
	Summary string // one line
	Help    string // paragraphs for .help NAME and the reference page
	// Run executes the command. It writes results to out and returns an
	// error for anything that prevented them.
	Run func(ctx context.Context, env Env, inv *Invocation, out Output) error
}

// Engine runs console lines against an Env. It holds only the command
// table, so one Engine may serve many sessions concurrently.
type Engine struct {
	cmds   []Command
	byName map[string]int
}

// New returns an engine with the given commands; later commands replace
// earlier ones with the same name. Use New(Builtins()...) for the default
// table.
func New(cmds ...Command) *Engine {
	e := &Engine{byName: map[string]int{}}
	for _, c := range cmds {
		e.cmds = append(e.cmds, c)
		for _, n := range c.Names {
			e.byName[strings.ToLower(n)] = len(e.cmds) - 1
		}
	}
	return e
}

// Commands returns the command table in registration order.
func (e *Engine) Commands() []Command { return slices.Clone(e.cmds) }

// Lookup finds a command by any of its names, ignoring case.
func (e *Engine) Lookup(name string) (Command, bool) {
	i, ok := e.byName[strings.ToLower(name)]
	if !ok {
		return Command{}, false
	}
	return e.cmds[i], true
}

// ErrUnknownCommand matches *UnknownCommandError.
var ErrUnknownCommand = errors.New("unknown command")

// UnknownCommandError reports a name that is not in the table, worded as
// WinDbg words it for the command's kind.
type UnknownCommandError struct {
	Name string
	Kind Kind
}

// Error returns, e.g., "No export foo found" for an extension command.
func (e *UnknownCommandError) Error() string {
	switch e.Kind {
	case Extension:
		return fmt.Sprintf("No export %s found (no such extension command; see .help)", strings.TrimPrefix(e.Name, "!"))
	case Meta:
		return fmt.Sprintf("Unknown meta command '%s' (see .help)", e.Name)
	}
	return fmt.Sprintf("Couldn't resolve error at '%s' (no such command; see .help)", e.Name)
}

// Is matches ErrUnknownCommand.
func (e *UnknownCommandError) Is(target error) bool { return target == ErrUnknownCommand }

// resolve finds the command for an invocation; lm's run-together options
// ("lmv", "lmvm") resolve to lm.
func (e *Engine) resolve(inv *Invocation) (Command, bool) {
	if c, ok := e.Lookup(inv.Name); ok {
		return c, true
	}
	if inv.Kind == Regular && len(inv.Name) > 2 && strings.HasPrefix(strings.ToLower(inv.Name), "lm") {
		return e.Lookup("lm")
	}
	return Command{}, false
}

// Exec parses line and runs its commands in order, stopping at the first
// error, which it returns. A thread prefix runs the command once per
// selected thread, with the scope switched to it for that run.
func (e *Engine) Exec(ctx context.Context, env Env, line string, out Output) error {
	invs, err := ParseLine(line)
	if err != nil {
		return err
	}
	for i := range invs {
		if err := ctx.Err(); err != nil {
			return err
		}
		inv := &invs[i]
		inv.engine = e
		if inv.Name == "" {
			return &SyntaxError{Line: line, Col: 1, Msg: "missing command after thread prefix"}
		}
		cmd, ok := e.resolve(inv)
		if !ok {
			return &UnknownCommandError{Name: inv.Name, Kind: inv.Kind}
		}
		if inv.Threads.Kind == NoThreads || inv.Name == "~" || inv.Name == "~s" {
			if err := cmd.Run(ctx, env, inv, out); err != nil {
				return err
			}
			continue
		}
		if err := e.perThread(ctx, env, cmd, inv, out); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) perThread(ctx context.Context, env Env, cmd Command, inv *Invocation, out Output) error {
	ths, err := threads(env)
	if err != nil {
		return err
	}
	idx, err := selectThreads(env, ths, inv.Threads)
	if err != nil {
		return err
	}
	sc := env.Scope()
	saved := *sc
	defer func() {
		sc.Thread, sc.Frame, sc.Exception = saved.Thread, saved.Frame, saved.Exception
	}()
	for _, i := range idx {
		sc.Thread, sc.Frame, sc.Exception = i, 0, false
		if len(idx) > 1 {
			out.Text("\n")
			out.Text(threadLine(env, ths, i) + "\n")
		}
		if err := cmd.Run(ctx, env, inv, out); err != nil {
			return err
		}
	}
	return nil
}

// WriteHelp writes the command list, or the help of one command when topic
// names it.
func (e *Engine) WriteHelp(w io.Writer, topic string) error {
	topic = strings.TrimSpace(topic)
	if topic != "" {
		c, ok := e.Lookup(topic)
		if !ok {
			return &UnknownCommandError{Name: topic, Kind: kindOf(topic)}
		}
		fmt.Fprintf(w, "%s - %s\n\nUsage: %s\n", strings.Join(c.Names, ", "), c.Summary, c.Usage)
		if c.Help != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.Help))
		}
		return nil
	}
	width := 0
	for _, c := range e.cmds {
		width = max(width, len(c.Usage))
	}
	for _, g := range e.groups() {
		fmt.Fprintf(w, "%s:\n", g)
		for _, c := range e.cmds {
			if c.Group == g {
				fmt.Fprintf(w, "  %-*s  %s\n", width, c.Usage, c.Summary)
			}
		}
	}
	fmt.Fprintf(w, "\nType .help NAME for details. Separate commands with ';'; prefix ~N, ~*, ~~[tid] to pick threads.\n")
	return nil
}

func kindOf(name string) Kind {
	switch {
	case strings.HasPrefix(name, "."):
		return Meta
	case strings.HasPrefix(name, "!"):
		return Extension
	}
	return Regular
}

func (e *Engine) groups() []Group {
	var gs []Group
	for _, c := range e.cmds {
		if !slices.Contains(gs, c.Group) {
			gs = append(gs, c.Group)
		}
	}
	slices.Sort(gs)
	return gs
}

// WriteReference writes the Markdown command reference (docs/commands.md)
// for the engine's table. go generate ./core/console regenerates the
// checked-in page, and a test fails when it is stale.
func (e *Engine) WriteReference(w io.Writer) error {
	var b strings.Builder
	b.WriteString("<!-- Code generated by go generate ./core/console; DO NOT EDIT. -->\n\n")
	b.WriteString("# Console commands\n\n")
	b.WriteString("Crashbench's console speaks WinDbg's dialect: regular commands (`lm`), meta commands (`.ecxr`) and extension commands (`!address`). ")
	b.WriteString("Separate several commands with `;`, and prefix a command with `~N`, `~*`, `~.`, `~#` or `~~[tid]` to run it on other threads. ")
	b.WriteString("Numbers are hexadecimal unless written `0n10`; expressions follow MASM syntax (`poi(@rsp+8)`, `app!main+0x10`).\n\n")
	for _, g := range e.groups() {
		fmt.Fprintf(&b, "## %s\n\n", g)
		b.WriteString("| Command | Kind | Summary |\n| --- | --- | --- |\n")
		for _, c := range e.cmds {
			if c.Group == g {
				fmt.Fprintf(&b, "| `%s` | %s | %s |\n", strings.ReplaceAll(c.Usage, "|", `\|`), c.Kind, strings.ReplaceAll(c.Summary, "|", `\|`))
			}
		}
		b.WriteString("\n")
		for _, c := range e.cmds {
			if c.Group != g {
				continue
			}
			fmt.Fprintf(&b, "### %s\n\n", strings.Join(c.Names, ", "))
			fmt.Fprintf(&b, "Usage: `%s`\n\n%s\n\n", c.Usage, c.Summary)
			if c.Help != "" {
				fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(c.Help))
			}
		}
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}
