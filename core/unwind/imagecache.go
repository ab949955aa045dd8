package unwind

import (
	"fmt"
	"io"
	"sync"

	"github.com/crashbench/crashbench/core/model"
)

// imageCache holds one parsed unwind table per module, read from the
// module's image file on the first pc inside it. PEUnwind and DWARFUnwind
// share it; they differ only in how they parse an image.
type imageCache[T any] struct {
	mods  []model.Module
	open  func(m model.Module) (io.ReaderAt, bool)
	parse func(r io.ReaderAt, m model.Module) (*T, error)

	mu     sync.Mutex
	tables map[int]*T // by index in mods; nil value: unusable
}

func newImageCache[T any](mods []model.Module, open func(model.Module) (io.ReaderAt, bool), parse func(io.ReaderAt, model.Module) (*T, error)) *imageCache[T] {
	var loaded []model.Module
	for _, m := range mods {
		if !m.Unloaded && m.Size != 0 {
			loaded = append(loaded, m)
		}
	}
	return &imageCache[T]{mods: loaded, open: open, parse: parse, tables: map[int]*T{}}
}

// at returns the module holding pc and its table; a nil table means no
// rules for pc (no module, no image, or an image that failed to parse,
// reported once as err).
func (c *imageCache[T]) at(pc uint64) (model.Module, *T, error) {
	for i := range c.mods {
		if c.mods[i].Contains(pc) {
			t, err := c.table(i)
			return c.mods[i], t, err
		}
	}
	return model.Module{}, nil, nil
}

func (c *imageCache[T]) table(i int) (*T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tables[i]; ok {
		return t, nil
	}
	c.tables[i] = nil
	if c.open == nil {
		return nil, nil
	}
	r, ok := c.open(c.mods[i])
	if !ok || r == nil {
		return nil, nil
	}
	if cl, ok := r.(io.Closer); ok {
		defer cl.Close()
	}
	t, err := c.parse(r, c.mods[i])
	if err != nil {
		return nil, fmt.Errorf("unwind: %s: %w", c.mods[i].Name(), err)
	}
	c.tables[i] = t
	return t, nil
}

// OpenFirst returns an open function for NewDWARFUnwind or NewPEUnwind
// that tries each of opens in turn: image files first (OpenFiles), then,
// say, the image as the dump's memory holds it (the vDSO has no file).
func OpenFirst(opens ...func(m model.Module) (io.ReaderAt, bool)) func(m model.Module) (io.ReaderAt, bool) {
	return func(m model.Module) (io.ReaderAt, bool) {
		for _, open := range opens {
			if open == nil {
				continue
			}
			if r, ok := open(m); ok && r != nil {
				return r, true
			}
		}
		return nil, false
	}
}
