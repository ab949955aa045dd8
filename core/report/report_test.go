package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/model"
)

// TestUnknownFieldsAreOmitted checks the contract's rule that a field the
// dump cannot answer is absent, never invented.
func TestUnknownFieldsAreOmitted(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(FromInfo(model.Info{Threads: -1, Modules: -1}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"schema":"crashbench.report/1"}` {
		t.Fatalf("empty info marshals to %s", got)
	}
}

func TestPanicHasNoCodeAndZeroCountsAreKept(t *testing.T) {
	t.Parallel()
	r := FromInfo(model.Info{Crash: &model.Crash{Kind: model.Panic, Message: "sysrq"}, Threads: 0, Modules: -1}, nil)
	b, _ := json.Marshal(r)
	s := string(b)
	if strings.Contains(s, `"code"`) || !strings.Contains(s, `"thread_count":0`) || strings.Contains(s, "module_count") {
		t.Fatalf("report = %s", s)
	}
}

func TestSummaryLeadsWithTheCrash(t *testing.T) {
	t.Parallel()
	addr := uint64(0x45)
	r := FromInfo(model.Info{Format: model.Minidump, Variant: "user", Arch: model.X86,
		OS:      model.OS{Family: model.Windows, Version: "10.0.19041", Build: "19041"},
		Crash:   &model.Crash{Kind: model.Exception, Code: 0xc0000005, Name: "EXCEPTION_ACCESS_VIOLATION_WRITE", Address: &addr},
		Threads: -1, Modules: -1}, nil)
	rows := r.Summary()
	if len(rows) < 3 || rows[0].Key != "Format" || rows[1].Key != "Crash" {
		t.Fatalf("rows = %+v", rows)
	}
	for _, row := range rows {
		if row.Key == "OS" && row.Value != "windows 10.0.19041" {
			t.Fatalf("OS row repeats the build: %q", row.Value)
		}
	}
}
