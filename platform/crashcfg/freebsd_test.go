package crashcfg

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// fbSysctl fakes sysctl(8) from a map; a missing name fails.
func fbSysctl(vals map[string]string) func(string) (string, error) {
	return func(name string) (string, error) {
		if v, ok := vals[name]; ok {
			return v, nil
		}
		return "", errors.New("unknown oid '" + name + "'")
	}
}

func fbRead(t *testing.T, name string, vals map[string]string) (FreeBSDConfig, Machine) {
	t.Helper()
	c, m, err := ReadFreeBSD(filepath.Join("testdata", "freebsd", name), fbSysctl(vals))
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

var fbConfiguredSysctl = map[string]string{
	"kern.shutdown.dumpdevname": "ada0p3", "debug.minidump": "1", "hw.physmem": "17086652416",
	"kern.osrelease": "14.1-RELEASE", "hw.machine_arch": "amd64",
}

func TestFreeBSDRead(t *testing.T) {
	c, m := fbRead(t, "configured", fbConfiguredSysctl)
	if m.OS != FreeBSD || m.RAM != 17086652416 || m.Release != "14.1-RELEASE" || m.Arch != "amd64" {
		t.Errorf("machine %+v", m)
	}
	// rc.conf overrides the release default of NO.
	if got := c.RC["dumpdev"]; got != (ConfValue{"AUTO", "/etc/rc.conf"}) || c.Defaults["dumpdev"] != "NO" {
		t.Errorf("dumpdev %+v, default %q", got, c.Defaults["dumpdev"])
	}
	if c.Get("savecore_flags") != "-m 10" || c.Get("dumpdir") != "/var/crash" || c.Get("savecore_enable") != "YES" || c.Get("dumpon_flags") != "" {
		t.Errorf("rc %v", c.RC)
	}
	if c.DumpDevNow != "ada0p3" || !c.Minidump || !c.DumpDirExists || strings.Join(c.SwapDevices, " ") != "/dev/ada0p3" {
		t.Errorf("%+v", c)
	}

	d, _ := fbRead(t, "disabled", nil)
	// rc.conf.local is read after rc.conf.
	if d.RC["savecore_enable"] != (ConfValue{"NO", "/etc/rc.conf.local"}) || d.Get("dumpdev") != "NO" || d.DumpDirExists {
		t.Errorf("disabled %+v", d.RC)
	}
	if d.DumpDevNowKnown || d.MinidumpKnown || d.PhysMem != 0 {
		t.Error("no sysctl: unknown")
	}
	// The old name of the sysctl still works.
	o, _ := fbRead(t, "configured", map[string]string{"kern.dumpdev": "/dev/ada0p3"})
	if !o.DumpDevNowKnown || o.DumpDevNow != "/dev/ada0p3" {
		t.Errorf("kern.dumpdev: %+v", o)
	}
}

func TestFreeBSDChecks(t *testing.T) {
	status := func(checks []Check) map[string]Status {
		out := map[string]Status{}
		for _, ch := range checks {
			if ch.Source == "" || ch.Reason == "" {
				t.Errorf("%s: incomplete %+v", ch.ID, ch)
			}
			if ch.Status == Fail && ch.Fix == "" {
				t.Errorf("%s fails with no fix", ch.ID)
			}
			out[ch.ID] = ch.Status
		}
		return out
	}
	tests := []struct {
		fixture string
		sysctl  map[string]string
		want    map[string]Status
	}{
		{"configured", fbConfiguredSysctl, map[string]Status{"dumpdev": Pass, "dumpdev-active": Pass, "savecore": Pass, "dumpdir": Pass, "minidump": Pass}},
		{"disabled", map[string]string{"kern.shutdown.dumpdevname": "", "debug.minidump": "0", "hw.physmem": "8589934592"},
			map[string]Status{"dumpdev": Fail, "dumpdev-active": Fail, "savecore": Fail, "dumpdir": Fail, "minidump": Warn}},
		{"noswap", nil, map[string]Status{"dumpdev": Fail, "dumpdev-active": Unknown, "savecore": Pass, "dumpdir": Pass, "minidump": Unknown}},
	}
	for _, tt := range tests {
		c, m := fbRead(t, tt.fixture, tt.sysctl)
		got := status(CheckFreeBSD(m, c))
		for id, want := range tt.want {
			if got[id] != want {
				t.Errorf("%s: %s = %s, want %s", tt.fixture, id, got[id], want)
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: checks %v", tt.fixture, got)
		}
	}
	if got := status(CheckFreeBSD(Machine{OS: FreeBSD}, FreeBSDConfig{})); got["dumpdev"] != Unknown || got["savecore"] != Unknown {
		t.Errorf("not read: %v", got)
	}
}

func TestFreeBSDSettings(t *testing.T) {
	c, _ := fbRead(t, "configured", fbConfiguredSysctl)
	by := map[string]Setting{}
	for _, s := range FreeBSDSettings(c) {
		if s.Source == "" || s.Meaning == "" {
			t.Errorf("%s: incomplete", s.Key)
		}
		by[s.Key] = s
	}
	dd := by["dumpdev"]
	if dd.Value != "AUTO" || !dd.Set || dd.Default != "NO (/etc/defaults/rc.conf)" || !strings.Contains(dd.Meaning, "/dev/ada0p3") || !strings.Contains(dd.Meaning, "set in /etc/rc.conf") {
		t.Errorf("dumpdev %+v", dd)
	}
	if sf := by["savecore_flags"]; sf.Set || sf.Value != "-m 10" {
		t.Errorf("savecore_flags comes from the defaults: %+v", sf)
	}
	if by["kern.shutdown.dumpdevname"].Value != "ada0p3" || by["hw.physmem"].Meaning != "15.9 GiB of RAM: the size of a full dump" {
		t.Errorf("%+v %+v", by["kern.shutdown.dumpdevname"], by["hw.physmem"])
	}
}

func TestFreeBSDPlan(t *testing.T) {
	c, m := fbRead(t, "disabled", map[string]string{"hw.physmem": "8589934592", "kern.osrelease": "13.3-RELEASE", "hw.machine_arch": "amd64"})
	p, err := PlanFreeBSD(m, c, GoalPanic)
	if err != nil {
		t.Fatal(err)
	}
	if keys := lxChangeKeys(p); keys != "rc.conf dumpdev, rc.conf savecore_enable, directory /var/crash" {
		t.Errorf("changes %s", keys)
	}
	if p.Scripts[0].Name != "rc.conf" || p.Scripts[0].Text != "# crashbench: add to /etc/rc.conf (rc.conf(5))\ndumpdev=\"AUTO\"\nsavecore_enable=\"YES\"\n" {
		t.Errorf("rc.conf lines %q", p.Scripts[0].Text)
	}
	apply := p.Scripts[1].Text
	for _, s := range []string{"save /etc/rc.conf\n", "save /etc/rc.conf.local", "sysrc -f /etc/rc.conf dumpdev=AUTO\n", "sysrc -f /etc/rc.conf.local savecore_enable=YES\n", "service dumpon start", "chmod 700 /var/crash", "B=/var/db/crashbench/backup/freebsd-dump"} {
		if !strings.Contains(apply, s) {
			t.Errorf("apply.sh lacks %q", s)
		}
	}
	lxCheckScripts(t, filepath.Join("testdata", "freebsd", "golden", "panic"), p)

	ok, mk := fbRead(t, "configured", fbConfiguredSysctl)
	if p, _ := PlanFreeBSD(mk, ok, GoalPanic); len(p.Changes) != 0 || !strings.Contains(p.Scripts[0].Text, "nothing to add") {
		t.Errorf("configured: %+v", p.Changes)
	}
	if _, err := PlanFreeBSD(mk, ok, GoalService); err == nil {
		t.Error("service crashes are not planned on FreeBSD")
	}
}
