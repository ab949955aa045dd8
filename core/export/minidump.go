// Package export writes reduced copies of dumps for sharing: what an
// analysis needs, without the memory that holds other people's data.
//
// For a minidump, MinimalMinidump keeps every stream (threads with their
// contexts, modules, exception, system information, handles, ...) and the
// threads' stacks, and removes every other captured memory range (heap,
// mapped files, full memory). It edits the file at the byte level from
// Microsoft's layout (minidumpapiset.h): the streams keep their places,
// so every RVA inside them stays valid, and only the memory lists and the
// threads' stack descriptors are rewritten. Written by hand: no Go library
// writes minidumps.
package export

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// Minidump stream types and record sizes (minidumpapiset.h).
const (
	mdmpSignature  = 0x504d444d // "MDMP"
	streamUnused   = 0
	streamThreads  = 3
	streamMemory   = 5
	streamMemory64 = 9
	headerSize     = 32
	dirEntrySize   = 12
	threadSize     = 48 // MINIDUMP_THREAD
	descSize       = 16 // MINIDUMP_MEMORY_DESCRIPTOR
	desc64Size     = 16 // MINIDUMP_MEMORY_DESCRIPTOR64
	maxStreams     = 1 << 16
	maxRanges      = 1 << 24
)

// Result says what a reduced copy kept and removed.
type Result struct {
	KeptRanges    int    // memory ranges kept (the threads' stacks)
	KeptBytes     uint64 // their bytes
	RemovedRanges int    // memory ranges removed
	RemovedBytes  uint64 // their bytes
	Size          int64  // the copy's size
}

// ErrLayout says the minidump is laid out in a way MinimalMinidump cannot
// reduce safely (a stream lying among the full-memory bytes).
var ErrLayout = errors.New("export: unsupported minidump layout")

type dirEntry struct {
	typ, size, rva uint32
	at             int64 // the entry's own offset
}

type memRange struct {
	start, size uint64
	off         int64 // where its bytes are in the file
}

// MinimalMinidump writes to out a copy of the minidump in (size bytes)
// without the memory ranges that are not thread stacks.
func MinimalMinidump(in io.ReaderAt, size int64, out string) (Result, error) {
	le := binary.LittleEndian
	hdr := make([]byte, headerSize)
	if _, err := in.ReadAt(hdr, 0); err != nil || le.Uint32(hdr) != mdmpSignature {
		return Result{}, fmt.Errorf("export: not a minidump")
	}
	n, dirRVA := le.Uint32(hdr[8:]), int64(le.Uint32(hdr[12:]))
	if n > maxStreams || dirRVA+int64(n)*dirEntrySize > size {
		return Result{}, fmt.Errorf("export: stream directory (%d entries at %#x) outside the file", n, dirRVA)
	}
	raw := make([]byte, int(n)*dirEntrySize)
	if _, err := in.ReadAt(raw, dirRVA); err != nil {
		return Result{}, err
	}
	var dir []dirEntry
	for i := range int(n) {
		e := raw[i*dirEntrySize:]
		dir = append(dir, dirEntry{typ: le.Uint32(e), size: le.Uint32(e[4:]), rva: le.Uint32(e[8:]), at: dirRVA + int64(i)*dirEntrySize})
	}

	// The threads' stacks: what is kept.
	type stackRef struct {
		start, size uint64
		descAt      int64 // the thread's Stack descriptor in the file
	}
	var stacks []stackRef
	for _, e := range dir {
		if e.typ != streamThreads {
			continue
		}
		var cnt [4]byte
		if _, err := in.ReadAt(cnt[:], int64(e.rva)); err != nil {
			return Result{}, err
		}
		k := int64(le.Uint32(cnt[:]))
		if k > maxRanges || int64(e.rva)+4+k*threadSize > size {
			return Result{}, fmt.Errorf("export: thread list at %#x outside the file", e.rva)
		}
		for i := range k {
			at := int64(e.rva) + 4 + i*threadSize + 24
			var d [descSize]byte
			if _, err := in.ReadAt(d[:], at); err != nil {
				return Result{}, err
			}
			stacks = append(stacks, stackRef{start: le.Uint64(d[:]), size: uint64(le.Uint32(d[8:])), descAt: at})
		}
	}
	isStack := func(r memRange) bool {
		return slices.ContainsFunc(stacks, func(s stackRef) bool { return s.size > 0 && r.start < s.start+s.size && s.start < r.start+r.size })
	}

	// The captured memory, and where its bytes are.
	var ranges []memRange
	mem64 := -1
	var base int64
	for i, e := range dir {
		switch e.typ {
		case streamMemory:
			rs, err := memoryList(in, size, e)
			if err != nil {
				return Result{}, err
			}
			ranges = append(ranges, rs...)
		case streamMemory64:
			rs, b, err := memory64List(in, size, e)
			if err != nil {
				return Result{}, err
			}
			ranges, base, mem64 = append(ranges, rs...), b, i
		}
	}

	// The copy: the file up to the full-memory bytes (all of it when
	// there are none); they were the file's tail, each stream must lie
	// before them.
	end := size
	if mem64 >= 0 {
		end = base
		for i, e := range dir {
			if i != mem64 && e.typ != streamMemory && int64(e.rva)+int64(e.size) > base {
				return Result{}, fmt.Errorf("%w: stream %d at %#x lies among the full-memory bytes", ErrLayout, e.typ, e.rva)
			}
		}
	}
	buf := make([]byte, end)
	if _, err := in.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return Result{}, err
	}

	var res Result
	var kept []memRange // stacks, with their bytes appended after end
	var tail []byte
	for _, r := range ranges {
		if !isStack(r) {
			res.RemovedRanges++
			res.RemovedBytes += r.size
			// Bytes kept in the copy's first part are erased.
			if r.off < end {
				clear(buf[r.off:min(end, r.off+int64(r.size))])
			}
			continue
		}
		data := make([]byte, r.size)
		if _, err := in.ReadAt(data, r.off); err != nil && !errors.Is(err, io.EOF) {
			return Result{}, err
		}
		kept = append(kept, memRange{start: r.start, size: r.size}) // off is set below
		tail = append(tail, data...)
		res.KeptRanges++
		res.KeptBytes += r.size
	}

	// A new MemoryList for the stacks, after the copied part: count, the
	// descriptors, then the bytes.
	listAt := int64(len(buf))
	dataAt := listAt + 4 + int64(len(kept))*descSize
	list := le.AppendUint32(nil, uint32(len(kept)))
	off := dataAt
	for i := range kept {
		kept[i].off = off
		list = le.AppendUint64(list, kept[i].start)
		list = le.AppendUint32(list, uint32(kept[i].size))
		list = le.AppendUint32(list, uint32(off))
		off += int64(kept[i].size)
	}
	if off > 1<<32-1 {
		return Result{}, fmt.Errorf("%w: the stacks would end past 4 GiB", ErrLayout)
	}
	// Every memory list entry points at the new list; the first one
	// found becomes it, the others are marked unused.
	replaced := false
	for _, e := range dir {
		if e.typ != streamMemory && e.typ != streamMemory64 {
			continue
		}
		if replaced {
			le.PutUint32(buf[e.at:], streamUnused)
			continue
		}
		le.PutUint32(buf[e.at:], streamMemory)
		le.PutUint32(buf[e.at+4:], uint32(len(list)))
		le.PutUint32(buf[e.at+8:], uint32(listAt))
		replaced = true
	}
	// The threads' stack descriptors point at the kept copies.
	for _, s := range stacks {
		if s.descAt+descSize > int64(len(buf)) {
			continue
		}
		rva := uint32(0)
		for _, k := range kept {
			if k.start == s.start {
				rva = uint32(k.off)
			}
		}
		le.PutUint32(buf[s.descAt+12:], rva)
	}
	f, err := os.Create(out)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	for _, part := range [][]byte{buf, list, tail} {
		if _, err := f.Write(part); err != nil {
			return Result{}, err
		}
	}
	res.Size = int64(len(buf) + len(list) + len(tail))
	return res, f.Close()
}

// memoryList reads a MemoryListStream's ranges.
func memoryList(in io.ReaderAt, size int64, e dirEntry) ([]memRange, error) {
	le := binary.LittleEndian
	var cnt [4]byte
	if _, err := in.ReadAt(cnt[:], int64(e.rva)); err != nil {
		return nil, err
	}
	k := int64(le.Uint32(cnt[:]))
	if k > maxRanges || int64(e.rva)+4+k*descSize > size {
		return nil, fmt.Errorf("export: memory list at %#x outside the file", e.rva)
	}
	raw := make([]byte, k*descSize)
	if _, err := in.ReadAt(raw, int64(e.rva)+4); err != nil {
		return nil, err
	}
	var out []memRange
	for i := range k {
		d := raw[i*descSize:]
		r := memRange{start: le.Uint64(d), size: uint64(le.Uint32(d[8:])), off: int64(le.Uint32(d[12:]))}
		if r.off+int64(r.size) > size {
			return nil, fmt.Errorf("export: memory range at %#x: its bytes are outside the file", r.start)
		}
		out = append(out, r)
	}
	return out, nil
}

// memory64List reads a Memory64ListStream's ranges (their bytes follow one
// another from BaseRva) and BaseRva.
func memory64List(in io.ReaderAt, size int64, e dirEntry) ([]memRange, int64, error) {
	le := binary.LittleEndian
	var h [16]byte
	if _, err := in.ReadAt(h[:], int64(e.rva)); err != nil {
		return nil, 0, err
	}
	k, base := le.Uint64(h[:]), int64(le.Uint64(h[8:]))
	if k > maxRanges || int64(e.rva)+16+int64(k)*desc64Size > size || base < 0 || base > size {
		return nil, 0, fmt.Errorf("export: Memory64 list at %#x outside the file", e.rva)
	}
	raw := make([]byte, k*desc64Size)
	if _, err := in.ReadAt(raw, int64(e.rva)+16); err != nil {
		return nil, 0, err
	}
	var out []memRange
	off := base
	for i := range int(k) {
		d := raw[i*desc64Size:]
		r := memRange{start: le.Uint64(d), size: le.Uint64(d[8:]), off: off}
		if r.size > uint64(size) || off+int64(r.size) > size {
			return nil, 0, fmt.Errorf("export: memory range at %#x: its bytes are outside the file", r.start)
		}
		off += int64(r.size)
		out = append(out, r)
	}
	return out, base, nil
}
