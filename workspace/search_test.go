package workspace

import (
	"context"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

func TestSearch(t *testing.T) {
	dir := t.TempDir()
	writeSymbols(t, dir)
	day := uint32(86400)
	base := uint32(1_709_251_200) // 2024-03-01
	for name, s := range map[string]crashSpec{
		"old.dmp":    {pid: 1, version: [4]uint16{1, 2, 3, 4}, time: base - 10*day},
		"new.dmp":    {pid: 2, version: [4]uint16{1, 3, 0, 0}, time: base + day, other: "vendorhook.dll"},
		"parse.dmp":  {pid: 3, version: [4]uint16{2, 0, 0, 1}, rip: 0x3010, params: []uint64{0, 0xdead0000}, time: base + 2*day},
		"snap.dmp":   {pid: 4, noCrash: true, time: base + 3*day, other: "VendorHook.dll"},
		"divide.dmp": {pid: 5, code: 0xc0000094, time: base + 4*day},
	} {
		writeFile(t, filepath.Join(dir, name), s.bytes(t))
	}
	db := openTemp(t)
	if _, err := db.Index(context.Background(), []string{dir}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"vendorhook.dll", []string{"new.dmp", "snap.dmp"}},
		{"vendorhook", []string{"new.dmp", "snap.dmp"}},
		{"module:vendorhook.dll", []string{"new.dmp", "snap.dmp"}},
		{"module:VENDOR*", []string{"new.dmp", "snap.dmp"}},
		{"version:1.2.3", []string{"divide.dmp", "old.dmp", "snap.dmp"}},
		{"version:1.3", []string{"new.dmp"}},
		{"version:1.3.0.0", []string{"new.dmp"}},
		{"version:1.3.0.1", nil},
		{"version:1.2.3.4 since:2024-03-04", []string{"divide.dmp", "snap.dmp"}},
		{"version:1", []string{"divide.dmp", "new.dmp", "old.dmp", "snap.dmp"}},
		{"module:app.exe version:2.0", []string{"parse.dmp"}},
		{"module:ntdll.dll version:2.0", nil},
		{"7.0.1.2", []string{"new.dmp", "snap.dmp"}},
		{"Parse", []string{"parse.dmp"}},
		{"CrashFunction", []string{"divide.dmp", "new.dmp", "old.dmp", "snap.dmp"}},
		{"NULL_CLASS_PTR_WRITE", []string{"new.dmp", "old.dmp"}},
		{"EXCEPTION_INT_DIVIDE_BY_ZERO", []string{"divide.dmp"}},
		{"CrashFunction since:2024-03-01", []string{"divide.dmp", "new.dmp", "snap.dmp"}},
		{"CrashFunction since:2024-03-01 until:2024-03-02", []string{"new.dmp"}},
		{"divide.dmp", []string{"divide.dmp"}},
		{"nosuchthing", nil},
		{`"app.exe!Parse"`, []string{"parse.dmp"}},
	} {
		hits, err := db.Search(context.Background(), tc.q)
		if err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		var got []string
		for _, h := range hits {
			got = append(got, filepath.Base(h.Path))
		}
		sort.Strings(got)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.q, got, tc.want)
		}
	}
	for _, q := range []string{"", "since:yesterday", `"unbalanced`} {
		if _, err := db.Search(context.Background(), q); err == nil {
			t.Errorf("%q: no error", q)
		}
	}
}
