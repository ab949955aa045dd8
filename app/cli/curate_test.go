package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCurateCommands: a support engineer merges two crashes' buckets
// under a ticket's name, moves one dump out, notes and tags a dump, and
// undoes it all, through the commands alone.
func TestCurateCommands(t *testing.T) {
	dir := workspaceDir(t)
	if _, errs, code := runCLI(t, dir, "index", "--db", "ws.db", "--workers", "2", "dumps"); code != ExitOK {
		t.Fatalf("index: exit %d, stderr %q", code, errs)
	}
	type bucket struct {
		Signature string
		Dumps     []string
	}
	buckets := func() map[string][]string {
		t.Helper()
		out, errs, code := runCLI(t, dir, "buckets", "--db", "ws.db", "--json")
		if code != ExitOK {
			t.Fatalf("buckets: exit %d, %q", code, errs)
		}
		var bs []bucket
		if err := json.Unmarshal([]byte(out), &bs); err != nil {
			t.Fatal(err)
		}
		m := map[string][]string{}
		for _, b := range bs {
			for _, d := range b.Dumps {
				m[b.Signature] = append(m[b.Signature], d[strings.LastIndex(d, "/")+1:])
			}
		}
		return m
	}
	before := buckets()
	if len(before) != 3 {
		t.Fatalf("buckets before: %v", before)
	}
	var keys []string
	for k := range before {
		keys = append(keys, k)
	}
	must := func(want string, args ...string) {
		t.Helper()
		out, errs, code := runCLI(t, dir, append(args[:1:1], append([]string{"--db", "ws.db"}, args[1:]...)...)...)
		if code != ExitOK || !strings.Contains(out, want) {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q; want %q", args, code, out, errs, want)
		}
	}
	fails := func(wantCode int, wantErr string, args ...string) {
		t.Helper()
		_, errs, code := runCLI(t, dir, append(args[:1:1], append([]string{"--db", "ws.db"}, args[1:]...)...)...)
		if code != wantCode || !strings.Contains(errs, wantErr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", args, code, errs, wantCode, wantErr)
		}
	}

	must("merged", "buckets", "merge", keys[0], "TICKET-7")
	must("merged", "buckets", "merge", keys[1], "TICKET-7")
	got := buckets()
	if len(got) != 2 || len(got["TICKET-7"]) != len(before[keys[0]])+len(before[keys[1]]) {
		t.Fatalf("after two merges: %v", got)
	}
	moved := before[keys[2]][0]
	must("moved", "buckets", "move", "dumps/"+moved, "TICKET-7")
	if got := buckets(); len(got) != 1 {
		t.Fatalf("after the move: %v", got)
	}

	fails(ExitBadInput, "no such bucket", "buckets", "merge", "NOPE", "TICKET-7")
	fails(ExitBadInput, "not a dump in the index", "buckets", "move", "dumps/README.txt", "X")
	fails(ExitBadInput, "was not merged", "buckets", "unmerge", keys[2])
	fails(ExitUsage, "usage: crashbench buckets merge", "buckets", "merge", keys[0])

	must("back in its own bucket", "buckets", "unmove", "dumps/"+moved)
	must("its own bucket again", "buckets", "unmerge", keys[0])
	must("its own bucket again", "buckets", "unmerge", keys[1])
	if got := buckets(); len(got) != 3 {
		t.Fatalf("after undoing: %v, want %v", got, before)
	}

	must("seen on the build server too", "note", "dumps/sample.dmp", "seen", "on", "the", "build", "server", "too")
	must("seen on the build server too", "note", "dumps/sample.dmp")
	fails(ExitUsage, "empty note", "note", "dumps/sample.dmp", " ")
	must("known issue", "note", "--bucket", keys[0], "known", "issue")
	must("known issue", "note", "--bucket", keys[0])
	fails(ExitBadInput, "no such bucket", "note", "--bucket", "NOPE", "x")
	if out, _, _ := runCLI(t, dir, "buckets", "--db", "ws.db"); !strings.Contains(out, "): known issue\n") {
		t.Errorf("buckets do not show the note:\n%s", out)
	}
	if out, _, _ := runCLI(t, dir, "buckets", "--db", "ws.db", "--json"); !strings.Contains(out, `"text": "known issue"`) {
		t.Errorf("buckets --json does not carry the note:\n%s", out)
	}
	must("JIRA-1 regression", "tag", "dumps/sample.dmp", "regression", "JIRA-1")
	must("JIRA-1", "tag", "--remove", "dumps/sample.dmp", "regression")
	fails(ExitUsage, "single words", "tag", "dumps/sample.dmp", "two words")
	out, _, _ := runCLI(t, dir, "search", "--db", "ws.db", "tag:JIRA-1")
	// sample.dmp and sample-copy.dmp are one dump in the index.
	if !strings.Contains(out, "/dumps/sample") || !strings.HasSuffix(out, " (tags: JIRA-1)\n") {
		t.Errorf("search tag:JIRA-1 = %q", out)
	}
}

// TestPruneCommand deletes an indexed dump: prune forgets it, and search
// no longer finds it.
func TestPruneCommand(t *testing.T) {
	dir := workspaceDir(t)
	if _, errs, code := runCLI(t, dir, "index", "--db", "ws.db", "--workers", "2", "dumps"); code != ExitOK {
		t.Fatalf("index: exit %d, stderr %q", code, errs)
	}
	out, errs, code := runCLI(t, dir, "prune", "--db", "ws.db")
	if code != ExitOK || out != "forgot 0 deleted files and 0 dumps\n" || errs != "" {
		t.Fatalf("prune with nothing deleted: %d %q %q", code, out, errs)
	}
	if err := os.Remove(filepath.Join(dir, "dumps", "av-write.dmp")); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCLI(t, dir, "prune", "--db", "ws.db")
	if code != ExitOK || out != "forgot 1 deleted file and 1 dump\n" {
		t.Fatalf("prune: %d %q", code, out)
	}
	out, _, _ = runCLI(t, dir, "buckets", "--db", "ws.db")
	if strings.Contains(out, "av-write") {
		t.Errorf("buckets still list the deleted dump:\n%s", out)
	}
}
