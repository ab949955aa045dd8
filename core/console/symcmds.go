package console

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crashbench/crashbench/core/symbols"
)

// SymbolControl is implemented by environments whose symbol path and
// symbol loading the console may change: .sympath, .symfix, .reload and
// !sym. core/session implements it.
type SymbolControl interface {
	// SymbolPath returns the symbol path in use ("" for none).
	SymbolPath() string
	// SetSymbolPath replaces the path, defers every module's symbols
	// again, and returns notes on entries that cannot be used.
	SetSymbolPath(path string) (notes []string)
	// SymFixPath returns the srv*CACHE*<Microsoft's server> entry, with
	// the default cache when cache is "".
	SymFixPath(cache string) string
	// Reload defers every module's symbols again; with force it loads
	// them now (only module's, when named), reporting each.
	Reload(ctx context.Context, force bool, module string, each func(module, source string, err error)) error
	// SetNoisy turns the trace of symbol loads on or off; Noisy reports it.
	SetNoisy(on bool)
	Noisy() bool
}

func symbolCommands() []Command {
	return []Command{
		{Names: []string{".sympath"}, Kind: Meta, Group: GroupSymbols, Usage: ".sympath[+] [path]", Summary: "show, set (.sympath path) or extend (.sympath+ path) the symbol path",
			Help: "Entries are separated by ';': folders, srv*CACHE*URL (a symbol server whose downloads are kept in CACHE), srv*URL (the default cache), cache*DIR, symsrv*symsrv.dll*CACHE*URL. " +
				"Setting the path defers every module's symbols again; they load from the new path when next needed.",
			Run: runSympath},
		{Names: []string{".symfix"}, Kind: Meta, Group: GroupSymbols, Usage: ".symfix[+] [cache]", Summary: "use Microsoft's symbol server (.symfix+ adds it to the path)",
			Help: "Sets the path to srv*CACHE*https://msdl.microsoft.com/download/symbols; without CACHE the default symbol cache ($XDG_CACHE_HOME/crashbench/symbols) holds the downloads.",
			Run:  runSymfix},
		{Names: []string{".reload"}, Kind: Meta, Group: GroupSymbols, Usage: ".reload [/f] [module]", Summary: "forget loaded symbols (they load again when needed); /f loads them now",
			Help: "Symbols load lazily, for the modules of the frames and addresses a command shows. `.reload` drops what was loaded, so the next command loads from the current symbol path; " +
				"`.reload /f` loads every module's symbols now (slow with symbol servers: each miss is a few requests), `.reload /f ntdll.dll` one module's.",
			Run: runReload},
		{Names: []string{"!sym"}, Kind: Extension, Group: GroupSymbols, Usage: "!sym [noisy|quiet]", Summary: "trace every file and URL symbol loading tries (noisy), or not (quiet)",
			Run: runSym},
	}
}

func symbolControl(env Env) (SymbolControl, error) {
	if sc, ok := env.(SymbolControl); ok {
		return sc, nil
	}
	return nil, &NotSupportedError{What: "this console cannot change the symbol path"}
}

func showSympath(sc SymbolControl, out Output) {
	p := sc.SymbolPath()
	if p == "" {
		p = "is empty"
	}
	if p == "is empty" {
		out.Text("Symbol search path is empty\n")
	} else {
		out.Text("Symbol search path is: " + p + "\n")
	}
}

// setPath sets or appends (add) path and shows the result with its notes.
func setPath(sc SymbolControl, path string, add bool, out Output) {
	if add {
		if cur := strings.TrimRight(sc.SymbolPath(), "; "); cur != "" {
			path = cur + ";" + path
		}
	}
	notes := sc.SetSymbolPath(path)
	showSympath(sc, out)
	for _, n := range notes {
		out.Text("WARNING: " + n + "\n")
	}
}

// plus splits the "+" of .sympath+ and .symfix+ (parsed into the
// arguments) from the argument.
func plus(inv *Invocation) (arg string, add bool) {
	arg, add = strings.CutPrefix(inv.Args, "+")
	return strings.TrimSpace(arg), add
}

func runSympath(_ context.Context, env Env, inv *Invocation, out Output) error {
	sc, err := symbolControl(env)
	if err != nil {
		return err
	}
	arg, add := plus(inv)
	if add && arg == "" {
		return usageErr(inv, ".sympath+ path", "")
	}
	if arg == "" {
		showSympath(sc, out)
		return nil
	}
	setPath(sc, arg, add, out)
	return nil
}

func runSymfix(_ context.Context, env Env, inv *Invocation, out Output) error {
	sc, err := symbolControl(env)
	if err != nil {
		return err
	}
	arg, add := plus(inv)
	setPath(sc, sc.SymFixPath(arg), add, out)
	return nil
}

func runReload(ctx context.Context, env Env, inv *Invocation, out Output) error {
	sc, err := symbolControl(env)
	if err != nil {
		return err
	}
	force, module := false, ""
	for _, t := range inv.Tokens {
		switch {
		case strings.EqualFold(t, "/f"):
			force = true
		case strings.HasPrefix(t, "/"):
			return usageErr(inv, ".reload [/f] [module]", fmt.Sprintf("option %s is not supported", t))
		case module == "":
			module = t
		default:
			return usageErr(inv, ".reload [/f] [module]", "")
		}
	}
	if module != "" && !force {
		// WinDbg's ".reload mod" reloads one module lazily; here every
		// module is deferred anyway, so it is the same as /f for it.
		force = true
	}
	if !force {
		out.Text("Reloading current modules: their symbols load again when needed\n")
		return sc.Reload(ctx, false, "", nil)
	}
	t := &Table{Columns: []Column{{Name: "module"}, {Name: "symbols"}}}
	err = sc.Reload(ctx, true, module, func(m, source string, err error) {
		if source == "" {
			source = "no symbols"
		}
		if err != nil {
			source += " (" + err.Error() + ")"
		}
		t.Add(Str(m), Str(source))
	})
	if len(t.Rows) > 0 {
		out.Table(t)
	}
	if errors.Is(err, symbols.ErrUnknownModule) {
		return fmt.Errorf("no module named %s", module)
	}
	return err
}

func runSym(_ context.Context, env Env, inv *Invocation, out Output) error {
	sc, err := symbolControl(env)
	if err != nil {
		return err
	}
	switch strings.ToLower(inv.Args) {
	case "noisy":
		sc.SetNoisy(true)
	case "quiet":
		sc.SetNoisy(false)
	case "":
	default:
		return usageErr(inv, "!sym [noisy|quiet]", "")
	}
	if sc.Noisy() {
		out.Text("noisy mode - symbol loads report every file and URL they try\n")
	} else {
		out.Text("quiet mode - symbol loads report nothing\n")
	}
	return nil
}

// usageErr is a syntax error that shows the command's usage.
func usageErr(inv *Invocation, usage, msg string) error {
	if msg != "" {
		msg += "; "
	}
	return &SyntaxError{Line: inv.Raw, Col: 1, Msg: msg + "usage: " + usage}
}
