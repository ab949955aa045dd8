// Package earlylocale quiets Fyne's start-up complaint about C locales.
//
// Fyne's lang package reads the locale in its init function and logs three
// "Fyne error: Error parsing user locale C" lines to stderr when LANG (or
// LC_ALL, LC_MESSAGES) is "C.UTF-8" or "POSIX.UTF-8", the default on many
// servers and containers. That breaks the CLI contract of exactly one line
// on stderr for a bad file, and it happens before main runs.
//
// This package fixes it the one way that runs early enough: its init sets
// LANGUAGE=en, which the locale reader consults for such locales, and which
// GNU gettext ignores for the C locale. Go initialises packages in import
// path order among those whose imports are ready (the spec, since Go 1.21);
// this package needs only os and strings, and its path,
// crashbench.dev/earlylocale, sorts before fyne.io/..., so it always runs
// before Fyne's lang package. That is why it is a module of its own (wired
// in by a replace directive): a path inside github.com/crashbench/crashbench
// would sort after fyne.io.
package earlylocale

import (
	"os"
	"strings"
)

func init() {
	if os.Getenv("LANGUAGE") != "" {
		return
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(name)
		if v == "" {
			continue
		}
		lang, _, _ := strings.Cut(v, ".")
		lang, _, _ = strings.Cut(lang, "@")
		if (lang == "C" || lang == "POSIX") && v != lang {
			os.Setenv("LANGUAGE", "en")
		}
		return
	}
}
