package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkIngest indexes 1,000 small synthesized minidumps (each with
// app.exe's symbols beside it, so frames are named) into a fresh
// database and reports dumps/s and database bytes per dump.
func BenchmarkIngest(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	writeSymbols(b, dir)
	for i := range n {
		s := crashSpec{pid: uint32(i + 1), appBase: 0x7ff6_0000_0000 + uint64(i)<<20, time: uint32(1_700_000_000 + 60*i)}
		switch i % 3 {
		case 1:
			s.rip, s.params = 0x3010, []uint64{0, 0xdead0000}
		case 2:
			s.code = 0xc0000094
		}
		writeFile(b, filepath.Join(dir, fmt.Sprintf("crash-%04d.dmp", i)), s.bytes(b))
	}
	b.Setenv("XDG_CACHE_HOME", b.TempDir())
	var size int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := filepath.Join(b.TempDir(), "ws.db")
		db, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		res, err := db.Index(context.Background(), []string{dir}, IndexOptions{})
		if err != nil || res.Added != n {
			b.Fatalf("%+v %v", res.counts(), err)
		}
		b.StopTimer()
		db.sql.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		db.Close()
		size = 0
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if st, err := os.Stat(p + suffix); err == nil {
				size += st.Size()
			}
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "dumps/s")
	b.ReportMetric(float64(size)/n, "dbbytes/dump")
}
