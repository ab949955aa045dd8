package mem

import (
	"container/list"
	"iter"
	"math"
	"sync"
)

// DefaultPageSize is the page size NewCache uses when given a size <= 0.
const DefaultPageSize = 4096

// Cache is a bounded LRU page cache in front of a Space. Reads through a
// Mapper can be expensive (a page-table walk per page, decompressing a whole
// block to return eight bytes), while analysis code reads the same pointers
// and structures over and over; the cache makes the second read a map lookup.
//
// Only pages that read completely are cached: a page that faults, even
// partly, is re-read from the underlying space every time, so the cache never
// changes which bytes are readable or which fault is reported. Faults are
// passed through unchanged. A Cache is safe for concurrent use; the lock is
// not held while reading the underlying space.
type Cache struct {
	s        Space
	pageSize uint64
	maxPages int

	mu    sync.Mutex
	pages map[uint64]*list.Element // page address -> element holding *cachePage
	lru   list.List                // front is most recently used
}

type cachePage struct {
	addr uint64
	data []byte // immutable once cached
}

// NewCache returns a cache over s holding at most maxPages pages of pageSize
// bytes. A pageSize <= 0 means DefaultPageSize, and a pageSize above
// MaxDecodeLen is reduced to it, bounding the memory one miss can allocate.
// Pages need not be a power of two; they are aligned to multiples of
// pageSize. maxPages <= 0 disables caching: reads pass straight through.
//
// It returns the concrete *Cache rather than a Space so that callers can see
// how many pages it holds (Len); *Cache implements Space.
func NewCache(s Space, pageSize, maxPages int) *Cache {
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	pageSize = min(pageSize, MaxDecodeLen)
	return &Cache{s: s, pageSize: uint64(pageSize), maxPages: maxPages, pages: make(map[uint64]*list.Element)}
}

// Name returns the name of the underlying space: the cache is transparent.
func (c *Cache) Name() string {
	if c.s == nil {
		return ""
	}
	return c.s.Name()
}

// Regions returns the underlying space's regions.
func (c *Cache) Regions() iter.Seq[Region] {
	if c.s == nil {
		return func(func(Region) bool) {}
	}
	return c.s.Regions()
}

// Len returns the number of pages currently cached; it never exceeds the
// maxPages given to NewCache.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// ReadMemory reads through the cache. A read may span any number of pages.
func (c *Cache) ReadMemory(p []byte, addr uint64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	name := c.Name()
	if c.maxPages <= 0 || c.s == nil {
		return readSub(name, c.s, p, addr, addr)
	}
	want := span(addr, len(p))
	ps := c.pageSize
	done := 0
	for done < want {
		cur := addr + uint64(done)
		off := cur % ps
		pageAddr := cur - off
		k := int(min(ps-off, uint64(want-done)))
		dst := p[done : done+k]
		if c.lookup(dst, pageAddr, off) {
			done += k
			continue
		}
		plen := ps
		if ps-1 > math.MaxUint64-pageAddr {
			plen = math.MaxUint64 - pageAddr + 1 // last page of the address space
		}
		buf := make([]byte, plen)
		n, err := readSub(name, c.s, buf, pageAddr, pageAddr)
		if err == nil {
			c.insert(pageAddr, buf)
			copy(dst, buf[off:])
			done += k
			continue
		}
		if uint64(n) > off {
			// The page is readable from cur up to the fault at
			// pageAddr+n, which is the first byte we cannot return.
			got := copy(dst, buf[off:n])
			done += got
			if got < k {
				return done, err
			}
			continue
		}
		// The page faults before cur, but the bytes at cur may still be
		// readable (a region starting mid-page): ask directly.
		n, err = readSub(name, c.s, dst, cur, cur)
		done += n
		if err != nil {
			return done, err
		}
	}
	if want < len(p) {
		return done, wrapFaultAt(name)
	}
	return done, nil
}

// lookup copies dst from offset off of the cached page at pageAddr and marks
// it recently used; it reports false if the page is not cached.
func (c *Cache) lookup(dst []byte, pageAddr, off uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pages[pageAddr]
	if !ok {
		return false
	}
	c.lru.MoveToFront(e)
	copy(dst, e.Value.(*cachePage).data[off:])
	return true
}

// insert caches data as the page at pageAddr, evicting least recently used
// pages beyond maxPages. A page inserted concurrently by another reader is
// kept and merely refreshed.
func (c *Cache) insert(pageAddr uint64, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.pages[pageAddr]; ok {
		c.lru.MoveToFront(e)
		return
	}
	c.pages[pageAddr] = c.lru.PushFront(&cachePage{addr: pageAddr, data: data})
	for c.lru.Len() > c.maxPages {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.pages, old.Value.(*cachePage).addr)
	}
}
