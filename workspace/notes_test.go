package workspace

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"
)

func TestNotesAndTags(t *testing.T) {
	db, ids := correlationIndex(t)
	ctx := context.Background()
	a1, b1 := ids["a1.dmp"], ids["b1.dmp"]

	// Notes: round trip, oldest first, per dump.
	before := time.Now().UTC().Truncate(time.Second)
	n1, err := db.AddNote(ctx, a1, "first seen after the 2.0 rollout")
	if err != nil {
		t.Fatal(err)
	}
	n2, err := db.AddNote(ctx, a1, "foo.dll hooks CreateFileW\nsee the vendor's ticket")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddNote(ctx, b1, "unrelated"); err != nil {
		t.Fatal(err)
	}
	notes, err := db.Notes(ctx, a1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(notes, []Note{n1, n2}) {
		t.Errorf("notes %+v, want %+v %+v", notes, n1, n2)
	}
	if n1.DumpID != a1 || n1.Created.Before(before) || n1.Created.After(time.Now()) || n1.ID == n2.ID {
		t.Errorf("note %+v", n1)
	}
	if notes, err := db.Notes(ctx, ids["c1.dmp"]); err != nil || len(notes) != 0 {
		t.Errorf("a dump without notes: %v %v", notes, err)
	}
	if _, err := db.AddNote(ctx, a1, "  \n"); err == nil {
		t.Error("a blank note was added")
	}
	if _, err := db.AddNote(ctx, 9999, "x"); !errors.Is(err, ErrNoDump) {
		t.Errorf("note on a missing dump: %v", err)
	}

	// Tags: idempotent, case-insensitive, sorted; untag.
	for _, tag := range []string{"vendor", "triaged", "Vendor", " flaky "} {
		if err := db.Tag(ctx, a1, tag); err != nil {
			t.Fatalf("tag %q: %v", tag, err)
		}
	}
	if err := db.Tag(ctx, b1, "vendor"); err != nil {
		t.Fatal(err)
	}
	if tags, err := db.Tags(ctx, a1); err != nil || !reflect.DeepEqual(tags, []string{"flaky", "triaged", "vendor"}) {
		t.Errorf("tags %q %v", tags, err)
	}
	if err := db.Untag(ctx, a1, "TRIAGED"); err != nil {
		t.Fatal(err)
	}
	if err := db.Untag(ctx, a1, "never-given"); err != nil {
		t.Errorf("untag of a missing tag: %v", err)
	}
	if tags, _ := db.Tags(ctx, a1); !reflect.DeepEqual(tags, []string{"flaky", "vendor"}) {
		t.Errorf("after untag: %q", tags)
	}
	for _, bad := range []string{"", "  ", "two words", `q"uote`} {
		if err := db.Tag(ctx, a1, bad); err == nil {
			t.Errorf("tag %q accepted", bad)
		}
	}
	if err := db.Tag(ctx, 9999, "x"); !errors.Is(err, ErrNoDump) {
		t.Errorf("tag on a missing dump: %v", err)
	}

	// A note on bucket C, for note: below.
	if _, err := db.AddBucketNote(ctx, keyC, "Known crash, JIRA-77"); err != nil {
		t.Fatal(err)
	}
	var inC []string
	rows, err := db.sql.Query("SELECT path FROM dumps WHERE bucket_key = ?", keyC)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		rows.Scan(&p)
		inC = append(inC, filepath.Base(p))
	}
	rows.Close()
	sort.Strings(inC)
	if len(inC) == 0 {
		t.Fatal("bucket C has no dumps")
	}

	// tag: and note: in search, alone and with words and other filters.
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"note:rollout", []string{"a1.dmp"}},
		{"note:VENDOR'S", []string{"a1.dmp"}},
		{`"note:the 2.0"`, []string{"a1.dmp"}},
		{"note:unrelated", []string{"b1.dmp"}},
		{"note:jira-77", inC},
		{"note:100%", nil},
		{"tag:vendor", []string{"a1.dmp", "b1.dmp"}},
		{"tag:VENDOR", []string{"a1.dmp", "b1.dmp"}},
		{"tag:vendor Parse", []string{"b1.dmp"}},
		{"tag:vendor tag:flaky", []string{"a1.dmp"}},
		{"tag:vendor bucket:" + keyA, []string{"a1.dmp"}},
		{"tag:triaged", nil},
		{"tag:vend", nil},
	} {
		hits, err := db.Search(ctx, tc.q)
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

	// Notes and tags go with their dump.
	if _, err := db.sql.Exec("DELETE FROM dumps WHERE id = ?", a1); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM notes WHERE dump_id = ?", a1) + count(t, db, "SELECT COUNT(*) FROM tags WHERE dump_id = ?", a1); n != 0 {
		t.Errorf("%d notes and tags outlived their dump", n)
	}
}
