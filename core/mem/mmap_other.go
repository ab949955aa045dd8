//go:build !unix

package mem

import (
	"errors"
	"os"
)

// mapFile is not implemented on this system; OpenFile reads with ReadAt.
func mapFile(*os.File, int64) ([]byte, error) {
	return nil, errors.New("memory mapping not supported")
}

func unmapFile([]byte) error { return nil }
