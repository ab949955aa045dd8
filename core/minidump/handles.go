package minidump

import (
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/model"
)

var _ model.HandleLister = (*File)(nil)

// Handles returns the HandleDataStream as model handles.
func (f *File) Handles() ([]model.Handle, error) {
	hs, err := f.HandleData()
	if errors.Is(err, ErrNoStream) {
		return nil, fmt.Errorf("handle data stream: %w", model.ErrNotRecorded)
	}
	if err != nil {
		return nil, err
	}
	out := make([]model.Handle, len(hs))
	for i, h := range hs {
		out[i] = model.Handle{Value: h.Handle, Type: h.TypeName, Object: h.ObjectName, Attributes: h.Attributes,
			GrantedAccess: h.GrantedAccess, HandleCount: h.HandleCount, PointerCount: h.PointerCount}
	}
	return out, nil
}
