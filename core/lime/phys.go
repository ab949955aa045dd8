package lime

import (
	"fmt"

	"github.com/crashbench/crashbench/core/mem"
)

// PhysicalMemory returns the image's physical memory: each range's bytes
// at its physical start address. Addresses between ranges (holes in the
// captured machine's RAM map) fault with mem.NotInDump; a range that runs
// past the end of a truncated file reads up to the end and then faults
// OutsideFile.
func (f *File) PhysicalMemory() (mem.Space, error) {
	runs := make([]mem.Mapping, 0, len(f.ranges))
	for _, r := range f.ranges {
		runs = append(runs, mem.Mapping{Addr: r.Start, Len: r.Size, BaseAddr: uint64(r.FileOff)})
	}
	s, err := mem.NewRuns(mem.NewFile(f.r, f.size, "lime file"), "physical", runs)
	if err != nil {
		return nil, &FormatError{Off: HeaderSize, What: fmt.Sprintf("ranges: %v", err)}
	}
	return s, nil
}
