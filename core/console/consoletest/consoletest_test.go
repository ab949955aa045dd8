package consoletest_test

import (
	"testing"

	"github.com/crashbench/crashbench/core/console/consoletest"
)

func TestParseScript(t *testing.T) {
	name, cmds, err := consoletest.ParseScript("# scenario: bare\n> lm\nline 1\nline 2\n> r\n")
	if err != nil || name != "bare" || len(cmds) != 2 || cmds[0].Want != "line 1\nline 2\n" || cmds[1].Line != "r" || cmds[1].Want != "" {
		t.Fatalf("%q %+v %v", name, cmds, err)
	}
	for _, bad := range []string{"", "lm\n", "# scenario: x\nstray\n"} {
		if _, _, err := consoletest.ParseScript(bad); err == nil {
			t.Errorf("ParseScript(%q) succeeded", bad)
		}
	}
}

func TestScenariosBuild(t *testing.T) {
	for name, mk := range consoletest.Scenarios() {
		if env := mk(); env.Target() == nil || env.Scope() == nil {
			t.Errorf("%s: incomplete env", name)
		}
	}
}
