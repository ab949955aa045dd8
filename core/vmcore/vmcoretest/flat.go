package vmcoretest

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// RecordOrder says in which order Flat writes its records.
type RecordOrder int

// Record orders. makedumpfile writes records in the order it produces data,
// not always ascending; rearranging must not care.
const (
	InOrder    RecordOrder = iota
	Reverse                // last record first
	Interleave             // even-numbered records, then odd-numbered ones
)

// Flat wraps a dump in makedumpfile's flattened format (makedumpfile -F):
// a 4096-byte header (signature "makedumpfile" NUL-padded to 16 bytes, then
// type 1 and version 1 as big-endian int64), records {offset, buf_size as
// big-endian int64; buf_size bytes}, and an end record with both fields -1.
type Flat struct {
	inner      Dump
	raw        []byte
	recordSize int
	order      RecordOrder
	version    int64
	noEnd      bool
	truncate   int
	lies       map[int][2]int64
}

// Flatten wraps d.
func Flatten(d Dump) *Flat { return &Flat{inner: d, recordSize: 4096, version: 1, truncate: -1} }

// FlattenBytes wraps an existing dump image.
func FlattenBytes(b []byte) *Flat {
	return &Flat{raw: b, recordSize: 4096, version: 1, truncate: -1}
}

// RecordSize sets the payload size of each record (the last may be shorter).
func (f *Flat) RecordSize(n int) *Flat { f.recordSize = n; return f }

// Order sets the record order.
func (f *Flat) Order(o RecordOrder) *Flat { f.order = o; return f }

// Version sets the header's version field.
func (f *Flat) Version(v int64) *Flat { f.version = v; return f }

// NoEndMarker leaves out the end record (damage).
func (f *Flat) NoEndMarker() *Flat { f.noEnd = true; return f }

// Truncate cuts the output to n bytes (damage).
func (f *Flat) Truncate(n int) *Flat { f.truncate = n; return f }

// LieRecord makes the header of the i-th record written claim offset and
// buf_size instead of the truth (damage); the payload is unchanged.
func (f *Flat) LieRecord(i int, offset, bufSize int64) *Flat {
	if f.lies == nil {
		f.lies = map[int][2]int64{}
	}
	f.lies[i] = [2]int64{offset, bufSize}
	return f
}

// Bytes lays out the flattened file.
func (f *Flat) Bytes() ([]byte, error) {
	in := f.raw
	if f.inner != nil {
		var err error
		if in, err = f.inner.Bytes(); err != nil {
			return nil, err
		}
	}
	if f.recordSize <= 0 {
		return nil, fmt.Errorf("vmcoretest: record size %d", f.recordSize)
	}
	be := binary.BigEndian
	out := make([]byte, 4096, 4096+len(in)+len(in)/f.recordSize*16+64)
	copy(out, "makedumpfile")
	be.PutUint64(out[16:], 1)
	be.PutUint64(out[24:], uint64(f.version))

	var starts []int
	for off := 0; off < len(in); off += f.recordSize {
		starts = append(starts, off)
	}
	switch f.order {
	case Reverse:
		slices.Reverse(starts)
	case Interleave:
		var even, odd []int
		for i, s := range starts {
			if i%2 == 0 {
				even = append(even, s)
			} else {
				odd = append(odd, s)
			}
		}
		starts = append(even, odd...)
	}
	for i, off := range starts {
		n := min(f.recordSize, len(in)-off)
		lo, ln := int64(off), int64(n)
		if l, ok := f.lies[i]; ok {
			lo, ln = l[0], l[1]
		}
		out = be.AppendUint64(out, uint64(lo))
		out = be.AppendUint64(out, uint64(ln))
		out = append(out, in[off:off+n]...)
	}
	if !f.noEnd {
		out = be.AppendUint64(out, ^uint64(0))
		out = be.AppendUint64(out, ^uint64(0))
	}
	if f.truncate >= 0 && f.truncate < len(out) {
		out = out[:f.truncate]
	}
	return out, nil
}
