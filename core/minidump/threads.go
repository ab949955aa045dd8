package minidump

import (
	"errors"
	"fmt"
	"io"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/model"
)

// Location is MINIDUMP_LOCATION_DESCRIPTOR.
type Location struct {
	DataSize uint32
	Rva      uint32
}

// MemoryDescriptor is MINIDUMP_MEMORY_DESCRIPTOR.
type MemoryDescriptor struct {
	StartOfMemoryRange uint64
	Memory             Location
}

// Thread is MINIDUMP_THREAD, or MINIDUMP_THREAD_EX with its BackingStore
// (IA-64 only, zero elsewhere).
type Thread struct {
	ThreadID      uint32
	SuspendCount  uint32
	PriorityClass uint32
	Priority      uint32
	Teb           uint64
	Stack         MemoryDescriptor
	ThreadContext Location
	BackingStore  MemoryDescriptor
}

// ThreadName is MINIDUMP_THREAD_NAME with its name resolved.
type ThreadName struct {
	ThreadID        uint32
	RvaOfThreadName uint64
	Name            string
}

// ThreadInfo is MINIDUMP_THREAD_INFO.
type ThreadInfo struct {
	ThreadID     uint32
	DumpFlags    uint32
	DumpError    uint32
	ExitStatus   uint32
	CreateTime   uint64 // FILETIME
	ExitTime     uint64
	KernelTime   uint64
	UserTime     uint64
	StartAddress uint64
	Affinity     uint64
}

// list returns a cursor over the entries of a list stream that starts with
// a 32-bit count. Breakpad on some platforms pads the count to 8 bytes; the
// stream size tells which. A count larger than the stream holds is cut down
// with a diagnostic.
func (f *File) list(t StreamType, entrySize int) (*bin.Cursor, int, error) {
	b, off, err := f.streamData(t)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 4 {
		return nil, 0, &FormatError{Off: off, What: t.String() + " too short for its count", Err: io.ErrUnexpectedEOF}
	}
	n := int(f.order.Uint32(b))
	start := 4
	if (len(b)-4)%entrySize != 0 && len(b) >= 8 && (len(b)-8)%entrySize == 0 && (len(b)-8)/entrySize >= n {
		start = 8
	}
	if avail := (len(b) - start) / entrySize; n > avail {
		f.diag(model.Warning, off, fmt.Sprintf("%v claims %d entries but its %d bytes hold %d", t, n, len(b), avail))
		n = avail
	}
	return bin.New(b[start:start+n*entrySize], off+int64(start), f.order), n, nil
}

// header list returns a cursor over a list stream with a
// {SizeOfHeader, SizeOfEntry, NumberOfEntries} header (unloaded modules,
// thread info, memory info, handle data), honouring both sizes so that
// later, longer versions of the entries still decode.
func (f *File) headerList(t StreamType, minEntry int, count64 bool) (*bin.Cursor, int, int, error) {
	b, off, err := f.streamData(t)
	if err != nil {
		return nil, 0, 0, err
	}
	c := bin.New(b, off, f.order)
	hsize, esize := int(c.U32()), int(c.U32())
	var n uint64
	if count64 {
		n = c.U64()
	} else {
		n = uint64(c.U32())
	}
	if c.Err() != nil {
		return nil, 0, 0, &FormatError{Off: off, What: t.String() + " header too short", Err: c.Err()}
	}
	if hsize < 12 || hsize > len(b) || esize < minEntry {
		return nil, 0, 0, &FormatError{Off: off, What: fmt.Sprintf("%v: header size %d or entry size %d invalid (entries are at least %d bytes)", t, hsize, esize, minEntry)}
	}
	if avail := uint64((len(b) - hsize) / esize); n > avail {
		f.diag(model.Warning, off, fmt.Sprintf("%v claims %d entries but its %d bytes hold %d", t, n, len(b), avail))
		n = avail
	}
	return bin.New(b[hsize:hsize+int(n)*esize], off+int64(hsize), f.order), int(n), esize, nil
}

func (f *File) threads(t StreamType, size int) ([]Thread, error) {
	c, n, err := f.list(t, size)
	if err != nil {
		return nil, err
	}
	out := make([]Thread, n)
	for i := range out {
		th := &out[i]
		th.ThreadID, th.SuspendCount, th.PriorityClass, th.Priority = c.U32(), c.U32(), c.U32(), c.U32()
		th.Teb = c.U64()
		th.Stack = MemoryDescriptor{c.U64(), Location{c.U32(), c.U32()}}
		th.ThreadContext = Location{c.U32(), c.U32()}
		if size == 64 {
			th.BackingStore = MemoryDescriptor{c.U64(), Location{c.U32(), c.U32()}}
		}
	}
	return out, c.Err()
}

// ThreadList decodes the ThreadListStream.
func (f *File) ThreadList() ([]Thread, error) { return f.threads(ThreadListStream, 48) }

// ThreadExList decodes the ThreadExListStream.
func (f *File) ThreadExList() ([]Thread, error) { return f.threads(ThreadExListStream, 64) }

// ThreadNames decodes the ThreadNamesStream (MINIDUMP_THREAD_NAME_LIST:
// 12-byte entries, a thread id and a 64-bit RVA of a MINIDUMP_STRING). An
// unreadable name becomes a diagnostic and an empty name.
func (f *File) ThreadNames() ([]ThreadName, error) {
	c, n, err := f.list(ThreadNamesStream, 12)
	if err != nil {
		return nil, err
	}
	out := make([]ThreadName, n)
	for i := range out {
		tn := &out[i]
		tn.ThreadID, tn.RvaOfThreadName = c.U32(), c.U64()
		if tn.RvaOfThreadName > uint64(f.size) {
			f.diag(model.Warning, c.Off()-8, fmt.Sprintf("name of thread %#x at %#x lies past the end of the file", tn.ThreadID, tn.RvaOfThreadName))
			continue
		}
		name, err := f.readString64(tn.RvaOfThreadName)
		if err != nil {
			f.note(err)
		}
		tn.Name = name
	}
	return out, c.Err()
}

// ThreadInfoList decodes the ThreadInfoListStream.
func (f *File) ThreadInfoList() ([]ThreadInfo, error) {
	c, n, esize, err := f.headerList(ThreadInfoListStream, 64, false)
	if err != nil {
		return nil, err
	}
	out := make([]ThreadInfo, n)
	for i := range out {
		start := c.Pos()
		t := &out[i]
		t.ThreadID, t.DumpFlags, t.DumpError, t.ExitStatus = c.U32(), c.U32(), c.U32(), c.U32()
		t.CreateTime, t.ExitTime, t.KernelTime, t.UserTime = c.U64(), c.U64(), c.U64(), c.U64()
		t.StartAddress, t.Affinity = c.U64(), c.U64()
		c.Seek(start + esize)
	}
	return out, c.Err()
}

// Threads returns the threads in the model's terms: ids, names from the
// ThreadNamesStream, stack ranges, TEBs and decoded contexts (memoised). A
// context that cannot be decoded leaves Context nil and adds a diagnostic.
func (f *File) Threads() ([]model.Thread, error) { return f.modelThreads() }

func (f *File) buildThreads() ([]model.Thread, error) {
	ts, err := f.ThreadList()
	if errors.Is(err, ErrNoStream) {
		ts, err = f.ThreadExList()
	}
	if err != nil {
		return nil, err
	}
	names := map[uint32]string{}
	if tn, err := f.ThreadNames(); err == nil {
		for _, n := range tn {
			names[n.ThreadID] = n.Name
		}
	} else {
		f.note(err)
	}
	out := make([]model.Thread, len(ts))
	for i, t := range ts {
		out[i] = model.Thread{
			ID: uint64(t.ThreadID), Name: names[t.ThreadID], TEB: t.Teb,
			StackStart: t.Stack.StartOfMemoryRange, StackSize: uint64(t.Stack.Memory.DataSize),
			Priority: int(int32(t.Priority)), Suspend: int(t.SuspendCount),
		}
		if t.ThreadContext.DataSize == 0 {
			continue
		}
		ctx, err := f.Context(t.ThreadContext.DataSize, t.ThreadContext.Rva)
		switch {
		case errors.Is(err, ErrUnsupportedContext):
			f.diag(model.Note, int64(t.ThreadContext.Rva), fmt.Sprintf("thread %#x: context not decoded: %v", t.ThreadID, err))
		case err != nil:
			f.diag(model.Warning, int64(t.ThreadContext.Rva), fmt.Sprintf("thread %#x: %v", t.ThreadID, err))
		default:
			out[i].Context = ctx
		}
	}
	return out, nil
}

// ExceptionContext returns the register state recorded with the exception
// (the context .ecxr shows).
func (f *File) ExceptionContext() (model.Context, error) {
	e, err := f.Exception()
	if err != nil {
		return nil, err
	}
	return f.Context(e.ContextDataSize, e.ContextRva)
}

// readString64 reads a MINIDUMP_STRING at a 64-bit RVA.
func (f *File) readString64(rva uint64) (string, error) {
	if rva > uint64(f.size) {
		return "", &FormatError{Off: f.size, What: fmt.Sprintf("string at %#x lies past the end of the file", rva)}
	}
	return f.readString(uint32(rva))
}

var (
	_ model.ThreadLister     = (*File)(nil)
	_ model.ModuleLister     = (*File)(nil)
	_ model.MemoryReader     = (*File)(nil)
	_ model.ExceptionContext = (*File)(nil)
)
