package crashcfg

import (
	"strings"
	"testing"
)

func lxStatuses(t *testing.T, name string, checks []Check) (map[string]Status, map[string]Check) {
	t.Helper()
	st := map[string]Status{}
	by := map[string]Check{}
	for _, ch := range checks {
		if ch.Source == "" || ch.Reason == "" || ch.Title == "" {
			t.Errorf("%s %s: incomplete %+v", name, ch.ID, ch)
		}
		if ch.Status == Fail && ch.Fix == "" {
			t.Errorf("%s %s fails with no fix", name, ch.ID)
		}
		if _, dup := st[ch.ID]; dup {
			t.Errorf("%s: %s twice", name, ch.ID)
		}
		st[ch.ID] = ch.Status
		by[ch.ID] = ch
	}
	return st, by
}

// The preflight on each fixture tree. Every check that runs is listed,
// so a check appearing or vanishing fails the test too.
func TestLinuxCheckFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    map[string]Status
	}{
		{"debian12-kdump", map[string]Status{
			"crashkernel-reserved": Pass, "crashkernel-loaded": Pass, "kdump-service": Pass, "kdump-config": Pass, "kdump-space": Unknown,
			"core-pattern": Warn, "ulimit-core": Fail, "default-limit-core": Pass, "suid-dumpable": Warn, "coredump-filter": Pass,
		}},
		{"rhel9", map[string]Status{
			"crashkernel-reserved": Pass, "crashkernel-loaded": Pass, "kdump-service": Pass, "kdump-config": Pass, "kdump-space": Unknown,
			"core-pattern": Pass, "ulimit-core": Fail, "default-limit-core": Pass, "suid-dumpable": Pass,
			"coredump-storage": Pass, "coredump-size": Pass, "coredump-space": Unknown, "coredump-filter": Pass,
		}},
		{"systemd-coredump", map[string]Status{
			"crashkernel-reserved": Fail, "crashkernel-loaded": Fail, "kdump-service": Fail, "kdump-space": Unknown,
			"core-pattern": Pass, "ulimit-core": Pass, "default-limit-core": Warn, "suid-dumpable": Pass,
			"coredump-storage": Pass, "coredump-size": Fail, "coredump-space": Unknown, "coredump-filter": Pass,
		}},
		{"pipe-missing", map[string]Status{
			"crashkernel-reserved": Pass, "crashkernel-loaded": Fail, "kdump-service": Fail, "kdump-config": Fail, "kdump-space": Unknown,
			"core-pattern": Fail, "ulimit-core": Pass, "default-limit-core": Pass, "suid-dumpable": Warn, "coredump-filter": Warn,
		}},
		{"odd-specifiers", map[string]Status{
			"crashkernel-reserved": Fail, "crashkernel-loaded": Unknown, "kdump-service": Fail, "kdump-space": Unknown,
			"core-pattern": Pass, "ulimit-core": Warn, "suid-dumpable": Pass, "coredump-filter": Pass,
		}},
		{"no-kdump", map[string]Status{
			"crashkernel-reserved": Fail, "crashkernel-loaded": Fail, "kdump-service": Fail, "kdump-space": Unknown,
			"core-pattern": Warn, "ulimit-core": Fail, "default-limit-core": Pass, "suid-dumpable": Warn, "coredump-filter": Pass,
		}},
	}
	for _, tt := range tests {
		c, m := lxReadFixture(t, tt.fixture)
		got, _ := lxStatuses(t, tt.fixture, CheckLinux(m, c))
		for id, want := range tt.want {
			if got[id] != want {
				t.Errorf("%s: %s = %q, want %q", tt.fixture, id, got[id], want)
			}
		}
		for id, st := range got {
			if _, ok := tt.want[id]; !ok {
				t.Errorf("%s: unexpected check %s (%s)", tt.fixture, id, st)
			}
		}
	}
}

// The reasons say what was seen.
func TestLinuxCheckReasons(t *testing.T) {
	c, m := lxReadFixture(t, "pipe-missing")
	_, by := lxStatuses(t, "pipe-missing", CheckLinux(m, c))
	if r := by["core-pattern"].Reason; !strings.Contains(r, "/usr/lib/nonexistent, which does not exist") {
		t.Errorf("core-pattern: %q", r)
	}
	if r := by["crashkernel-loaded"].Reason; !strings.Contains(r, "kdump-tools.service is not enabled") {
		t.Errorf("loaded: %q", r)
	}
	if r := by["kdump-config"].Reason; !strings.Contains(r, `USE_KDUMP="0"`) {
		t.Errorf("kdump-config: %q", r)
	}

	c, m = lxReadFixture(t, "systemd-coredump")
	_, by = lxStatuses(t, "systemd-coredump", CheckLinux(m, c))
	size := by["coredump-size"]
	for _, s := range []string{"java uses 12 GiB", "ExternalSizeMax=8G (/run/systemd/coredump.conf.d/60-runtime.conf)", "postgres (pid 977) 4 GiB"} {
		if !strings.Contains(size.Reason, s) {
			t.Errorf("coredump-size reason lacks %q: %q", s, size.Reason)
		}
	}
	if !strings.Contains(size.Fix, "64G") {
		t.Errorf("coredump-size fix %q", size.Fix)
	}
	if r := by["default-limit-core"].Reason; !strings.Contains(r, "no effect while core_pattern pipes without %c") {
		t.Errorf("default-limit-core: %q", r)
	}

	c, m = lxReadFixture(t, "odd-specifiers")
	_, by = lxStatuses(t, "odd-specifiers", CheckLinux(m, c))
	if r := by["core-pattern"].Reason; !strings.Contains(r, "/var/crash/core.myservice.4242.1700000000.myhost.100%.") || !strings.Contains(r, "%q not a specifier") {
		t.Errorf("core-pattern explains the expansion: %q", r)
	}
}

// Variations on the fixtures for the rules no fixture reaches.
func TestLinuxCheckRules(t *testing.T) {
	base, m := lxReadFixture(t, "systemd-coredump")
	check := func(c LinuxConfig, m Machine, id string) Check {
		t.Helper()
		for _, ch := range CheckLinux(m, c) {
			if ch.ID == id {
				return ch
			}
		}
		t.Fatalf("no check %s", id)
		return Check{}
	}

	c := base
	c.Coredump = map[string]ConfValue{"Storage": {"none", "/etc/systemd/coredump.conf.d/10-off.conf"}}
	if ch := check(c, m, "coredump-storage"); ch.Status != Fail || !strings.Contains(ch.Reason, "Storage=none in /etc/systemd/coredump.conf.d/10-off.conf") {
		t.Errorf("Storage=none: %+v", ch)
	}
	c.Coredump = map[string]ConfValue{"Storage": {"journal", "/etc/systemd/coredump.conf"}}
	if ch := check(c, m, "coredump-storage"); ch.Status != Warn {
		t.Errorf("Storage=journal: %+v", ch)
	}

	// Limits above the biggest process but below RAM: a warning.
	c = base
	c.Coredump = map[string]ConfValue{"ExternalSizeMax": {"16G", "x"}, "ProcessSizeMax": {"16G", "x"}}
	if ch := check(c, m, "coredump-size"); ch.Status != Warn {
		t.Errorf("below RAM: %+v", ch)
	}
	c.Coredump = map[string]ConfValue{"ExternalSizeMax": {"infinity", "x"}, "ProcessSizeMax": {"64G", "x"}}
	if ch := check(c, m, "coredump-size"); ch.Status != Pass {
		t.Errorf("infinity: %+v", ch)
	}

	// KeepFree above the free space: no core is kept.
	c = base
	c.CoreDisk = Disk{Mount: "/var/lib/systemd/coredump", Size: 100 * lxGiB, Free: 10 * lxGiB}
	if ch := check(c, m, "coredump-space"); ch.Status != Fail || !strings.Contains(ch.Reason, "15 GiB") {
		t.Errorf("KeepFree default 15%%: %+v", ch)
	}
	c.CoreDisk.Free = 20 * lxGiB // 5 GiB usable, java has 12 GiB
	if ch := check(c, m, "coredump-space"); ch.Status != Warn {
		t.Errorf("room below the biggest process: %+v", ch)
	}
	c.CoreDisk.Free = 60 * lxGiB
	if ch := check(c, m, "coredump-space"); ch.Status != Pass {
		t.Errorf("plenty: %+v", ch)
	}

	// ulimit -c 0 with a pipe that passes %c to systemd-coredump.
	c = base
	c.CorePattern = ParseCorePattern(lxSystemdPattern)
	c.RlimitCore = 0
	if ch := check(c, m, "ulimit-core"); ch.Status != Fail || !strings.Contains(ch.Reason, "under a page") {
		t.Errorf("ulimit 0 with %%c: %+v", ch)
	}
	if ch := check(c, m, "default-limit-core"); ch.Status != Fail {
		t.Errorf("DefaultLimitCORE=0 with %%c: %+v", ch)
	}
	// A relative pattern with suid_dumpable 2 writes nothing.
	c.CorePattern = ParseCorePattern("core.%p")
	if ch := check(c, m, "core-pattern"); ch.Status != Fail || !strings.Contains(ch.Reason, "not an absolute path") {
		t.Errorf("relative with suid_dumpable=2: %+v", ch)
	}
	// A directory that does not exist.
	c.CorePattern = ParseCorePattern("/srv/cores/core.%p")
	if ch := check(c, m, "core-pattern"); ch.Status != Fail || !strings.Contains(ch.Reason, "/srv/cores, which does not exist") {
		t.Errorf("missing dir: %+v", ch)
	}
	// Cores overwrite each other.
	d, dm := lxReadFixture(t, "odd-specifiers")
	d.CorePattern = ParseCorePattern("/var/crash/core")
	d.CoreUsesPID = 0
	if ch := check(d, dm, "core-pattern"); ch.Status != Warn || !strings.Contains(ch.Reason, "overwrites") {
		t.Errorf("no %%p: %+v", ch)
	}

	// kdump: reserved below the documented default, and a failed
	// reservation; room for the vmcore.
	k, km := lxReadFixture(t, "rhel9")
	k.CrashSize = 192 * lxMiB
	if ch := check(k, km, "crashkernel-reserved"); ch.Status != Warn {
		t.Errorf("below the default: %+v", ch)
	}
	k.CrashSize = 0
	if ch := check(k, km, "crashkernel-reserved"); ch.Status != Fail || !strings.Contains(ch.Reason, "reservation failed") {
		t.Errorf("failed reservation: %+v", ch)
	}
	k, km = lxReadFixture(t, "rhel9")
	for _, tt := range []struct {
		free uint64
		want Status
	}{{1 * lxGiB, Fail}, {10 * lxGiB, Warn}, {40 * lxGiB, Pass}} {
		k.KdumpDisk = Disk{Mount: "/var/crash", Size: 100 * lxGiB, Free: tt.free}
		if ch := check(k, km, "kdump-space"); ch.Status != tt.want {
			t.Errorf("kdump-space with %s free: %+v", lxHuman(tt.free), ch)
		}
	}
	k.KdumpConfTarget = "nfs my.server.com:/export/tmp"
	if ch := check(k, km, "kdump-space"); ch.Status != Unknown {
		t.Errorf("remote target: %+v", ch)
	}
	k.CoreCollector = "makedumpfile -l -d 0"
	if ch := check(k, km, "kdump-config"); ch.Status != Warn {
		t.Errorf("-d 0: %+v", ch)
	}
}

// A planned machine (nothing read) gets unknowns, not passes.
func TestLinuxCheckNotRead(t *testing.T) {
	st, _ := lxStatuses(t, "planned", CheckLinux(Machine{OS: Linux, Release: "rhel 9.4", RAM: 8 * lxGiB}, LinuxConfig{}))
	for _, id := range []string{"crashkernel-reserved", "crashkernel-loaded", "kdump-service", "core-pattern", "ulimit-core", "suid-dumpable"} {
		if st[id] != Unknown {
			t.Errorf("%s = %s", id, st[id])
		}
	}
}
