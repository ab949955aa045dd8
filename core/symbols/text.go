package symbols

import (
	"context"
	"fmt"
	"strings"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/breakpad"
)

// ProviderFunc adapts a function to a Provider.
type ProviderFunc func(ctx context.Context, m model.Module) (Table, error)

// Load calls f.
func (f ProviderFunc) Load(ctx context.Context, m model.Module) (Table, error) { return f(ctx, m) }

// FromBreakpadText returns a Provider serving Breakpad symbol text held in
// memory, keyed by module file name ("app.exe"; matched exactly, then
// without regard to case). Unwinder and console tests use it to give a
// synthetic dump symbols. A text that does not parse is an error, not
// ErrNoSymbols.
func FromBreakpadText(texts map[string]string) Provider {
	return ProviderFunc(func(ctx context.Context, m model.Module) (Table, error) {
		name := m.Name()
		text, ok := texts[name]
		if !ok {
			for k, v := range texts {
				if strings.EqualFold(k, name) {
					text, ok = v, true
					break
				}
			}
		}
		if !ok {
			return nil, fmt.Errorf("breakpad text for %s: %w", name, ErrNoSymbols)
		}
		f, err := breakpad.Parse(strings.NewReader(text))
		if err != nil {
			return nil, err
		}
		f.SetSource("breakpad text " + name)
		return f, nil
	})
}
