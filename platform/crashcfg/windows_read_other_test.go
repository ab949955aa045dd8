//go:build !windows

package crashcfg

import (
	"errors"
	"testing"
)

func TestWindowsReadNotOnWindows(t *testing.T) {
	_, m, err := ReadWindows()
	if !errors.Is(err, ErrNoRegistry) || m.OS != Windows {
		t.Fatalf("ReadWindows() = %v, %v; want ErrNoRegistry", m, err)
	}
}
