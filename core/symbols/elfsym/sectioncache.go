package elfsym

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crashbench/crashbench/core/mem"
)

// MaxSectionCache bounds the section cache: past it, the build ids used
// least recently are removed after each write.
const MaxSectionCache = 1 << 30

// sectionCache keeps a file's compressed DWARF sections inflated on disk,
// under <dir>/<build id>/<section>, so that they are inflated once per
// machine rather than on every run: inflating glibc's .debug_info was most
// of the time naming its frames took (gdb's index-cache exists for the
// same reason). Files are keyed by build id, which names their contents;
// a cached section whose size is not the one the compression header gives
// is ignored and rewritten. The cache is best effort: any failure to read
// or write it only means inflating again.
type sectionCache struct {
	root, dir string // root holds one folder per build id; "" disables
}

func newSectionCache(root string, buildID []byte) sectionCache {
	if root == "" || len(buildID) == 0 {
		return sectionCache{}
	}
	return sectionCache{root: root, dir: filepath.Join(root, hex.EncodeToString(buildID))}
}

func (c sectionCache) enabled() bool { return c.dir != "" }

func (c sectionCache) path(section string) string {
	return filepath.Join(c.dir, strings.TrimPrefix(section, "."))
}

// cachedSections maps the cached files this process has opened, by path:
// mapped once and never unmapped, as the tables of every session that
// reads them may hold slices of them. Files are replaced by rename, never
// rewritten in place, so a mapping keeps its pages; a mapping is reused
// only while the path still names the same file, at the expected size.
var cachedSections sync.Map // path -> cachedSection

type cachedSection struct {
	mf *mem.MappedFile
	fi os.FileInfo
}

// load returns the cached section, mapped, when it has the expected size.
func (c sectionCache) load(section string, size int) ([]byte, bool) {
	if !c.enabled() {
		return nil, false
	}
	p := c.path(section)
	fi, err := os.Stat(p)
	if err != nil || fi.Size() != int64(size) {
		return nil, false
	}
	if v, ok := cachedSections.Load(p); ok {
		cs := v.(cachedSection)
		if b, ok := cs.mf.Bytes(); ok && len(b) == size && os.SameFile(cs.fi, fi) {
			return b, true
		}
	}
	mf, err := mem.OpenFile(p)
	if err != nil {
		return nil, false
	}
	b, ok := mf.Bytes()
	if !ok || len(b) != size {
		mf.Close()
		return nil, false
	}
	// A mapping this replaces stays alive for the tables that use it.
	cachedSections.Store(p, cachedSection{mf: mf, fi: fi})
	now := time.Now()
	os.Chtimes(c.dir, now, now) // recently used: pruned last
	return b, true
}

// store writes a whole inflated section (to a temporary file renamed into
// place, so that a reader never sees part of one), then prunes the cache.
func (c sectionCache) store(section string, b []byte) {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), c.path(section)) != nil {
		os.Remove(tmp.Name())
		return
	}
	pruneSectionCache(c.root, MaxSectionCache)
}

// pruneSectionCache removes the least recently used build-id folders
// under root until the rest holds at most max bytes.
func pruneSectionCache(root string, max int64) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	type folder struct {
		path string
		used time.Time
		size int64
	}
	var folders []folder
	var total int64
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		f := folder{path: filepath.Join(root, e.Name())}
		if st, err := os.Stat(f.path); err == nil {
			f.used = st.ModTime()
		}
		files, _ := os.ReadDir(f.path)
		for _, x := range files {
			if info, err := x.Info(); err == nil {
				f.size += info.Size()
			}
		}
		total += f.size
		folders = append(folders, f)
	}
	slices.SortFunc(folders, func(a, b folder) int { return a.used.Compare(b.used) })
	for _, f := range folders {
		if total <= max {
			break
		}
		if os.RemoveAll(f.path) == nil {
			total -= f.size
		}
	}
}
