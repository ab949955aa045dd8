package crashcfg

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func lxFixture(name string) string { return filepath.Join("testdata", "linux", name) }

func lxReadFixture(t *testing.T, name string) (LinuxConfig, Machine) {
	t.Helper()
	c, m, err := ReadLinux(lxFixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

func TestLinuxReadDebian12Kdump(t *testing.T) {
	c, m := lxReadFixture(t, "debian12-kdump")
	if m.OS != Linux || m.Release != "debian 12" || m.Arch != "amd64" {
		t.Errorf("machine %+v", m)
	}
	// MemTotal 16441344 kB leaves out the 128 MiB reserved.
	if want := 16441344*lxKiB + 128*lxMiB; m.RAM != want {
		t.Errorf("RAM %d, want %d", m.RAM, want)
	}
	if !c.CrashkernelSet || c.Crashkernel.Raw != "384M-:128M" || c.CrashkernelErr != "" {
		t.Errorf("crashkernel %+v %q", c.Crashkernel, c.CrashkernelErr)
	}
	if !c.CrashSizeKnown || c.CrashSize != 128*lxMiB || !c.CrashLoadedKnown || !c.CrashLoaded {
		t.Errorf("crash size %d/%v loaded %v/%v", c.CrashSize, c.CrashSizeKnown, c.CrashLoaded, c.CrashLoadedKnown)
	}
	if !c.KdumpTools || c.KdumpToolsVars["USE_KDUMP"] != "1" || c.KdumpToolsVars["KDUMP_COREDIR"] != "/var/crash" {
		t.Errorf("kdump-tools %v %v", c.KdumpTools, c.KdumpToolsVars)
	}
	if _, set := c.KdumpToolsVars["MAKEDUMP_ARGS"]; set {
		t.Error("a commented-out MAKEDUMP_ARGS is not set")
	}
	if args, md := c.KdumpArgs(); args != "-c -d 31" || md.DumpLevel != 31 || md.Compression != "zlib" {
		t.Errorf("KdumpArgs %q %+v", args, md)
	}
	if c.KdumpService != "kdump-tools.service" || !c.KdumpEnabled || c.Kdumpctl {
		t.Errorf("service %q enabled %v kdumpctl %v", c.KdumpService, c.KdumpEnabled, c.Kdumpctl)
	}
	if c.CorePattern.Raw != "core" || c.SuidDumpable != 0 || !c.SuidDumpableKnown || c.CoreUsesPID != 0 {
		t.Errorf("core %+v suid %d", c.CorePattern, c.SuidDumpable)
	}
	if !c.RlimitCoreKnown || c.RlimitCore != 0 || c.RlimitCoreHard != math.MaxUint64 {
		t.Errorf("rlimit %d %d %v", c.RlimitCore, c.RlimitCoreHard, c.RlimitCoreKnown)
	}
	if !c.CoredumpFilterKnown || c.CoredumpFilter != 0x33 || !c.Systemd || c.SystemdCoredump {
		t.Errorf("filter %x systemd %v coredump %v", c.CoredumpFilter, c.Systemd, c.SystemdCoredump)
	}
	want := []LinuxProcess{{812, "postgres", 2 * lxGiB}, {1, "systemd", 12 * lxMiB}}
	if !reflect.DeepEqual(c.Biggest, want) {
		t.Errorf("biggest %+v", c.Biggest)
	}
	if c.KdumpDir() != "/var/crash" || c.KdumpDisk.Size != 0 {
		t.Errorf("kdump dir %q disk %+v (statfs is for the real root only)", c.KdumpDir(), c.KdumpDisk)
	}
}

func TestLinuxReadRHEL9(t *testing.T) {
	c, m := lxReadFixture(t, "rhel9")
	if m.Release != "rhel 9.4" || DistroFamily(m.Release, c.OSLike) != "rhel" || c.PrettyName != "Red Hat Enterprise Linux 9.4 (Plow)" {
		t.Errorf("release %q %q", m.Release, c.PrettyName)
	}
	if got := c.Crashkernel.For(m.RAM); got != 256*lxMiB {
		t.Errorf("crashkernel %s gives %s on %s", c.Crashkernel.Raw, lxHuman(got), lxHuman(m.RAM))
	}
	if !c.KdumpConf || c.KdumpConfPath != "/var/crash" || c.CoreCollector != "makedumpfile -l --message-level 7 -d 31" || c.KdumpConfTarget != "" {
		t.Errorf("kdump.conf %v %q %q %q", c.KdumpConf, c.KdumpConfPath, c.CoreCollector, c.KdumpConfTarget)
	}
	if _, md := c.KdumpArgs(); md.DumpLevel != 31 || md.Compression != "lzo" {
		t.Errorf("collector %+v", md)
	}
	if c.KdumpService != "kdump.service" || !c.KdumpEnabled || !c.Kdumpctl || c.KdumpTools {
		t.Errorf("service %q %v kdumpctl %v", c.KdumpService, c.KdumpEnabled, c.Kdumpctl)
	}
	if !c.CorePattern.ToSystemdCoredump() || !c.SystemdCoredump || c.SuidDumpable != 2 {
		t.Errorf("core %+v", c.CorePattern)
	}
	// The stock coredump.conf only has comments.
	if len(c.Coredump) != 0 || !reflect.DeepEqual(c.CoredumpFiles, []string{"/etc/systemd/coredump.conf"}) {
		t.Errorf("coredump %v %v", c.Coredump, c.CoredumpFiles)
	}
	if c.CoredumpSize("ExternalSizeMax") != 32*lxGiB || c.CoredumpSize("JournalSizeMax") != 767*lxMiB {
		t.Error("unset sizes take coredump.conf(5)'s 64-bit defaults")
	}
}

// Drop-ins sort by name across /etc, /run and /usr/lib; a name in /etc
// hides the same name below; a link to /dev/null masks; an empty
// assignment resets; keys of other sections do not count.
func TestLinuxReadSystemdCoredumpDropins(t *testing.T) {
	c, m := lxReadFixture(t, "systemd-coredump")
	wantFiles := []string{
		"/etc/systemd/coredump.conf",
		"/etc/systemd/coredump.conf.d/50-vendor.conf",
		"/run/systemd/coredump.conf.d/60-runtime.conf",
		"/etc/systemd/coredump.conf.d/90-local.conf",
	}
	if !reflect.DeepEqual(c.CoredumpFiles, wantFiles) {
		t.Errorf("files\n%q\nwant\n%q", c.CoredumpFiles, wantFiles)
	}
	want := map[string]ConfValue{
		"Storage":         {"external", "/etc/systemd/coredump.conf.d/50-vendor.conf"},
		"ProcessSizeMax":  {"16G", "/etc/systemd/coredump.conf.d/90-local.conf"},
		"ExternalSizeMax": {"8G", "/run/systemd/coredump.conf.d/60-runtime.conf"},
		"JournalSizeMax":  {"100M", "/etc/systemd/coredump.conf.d/90-local.conf"},
	}
	if !reflect.DeepEqual(c.Coredump, want) {
		t.Errorf("coredump\n%v\nwant\n%v", c.Coredump, want)
	}
	if c.CoredumpSize("ExternalSizeMax") != 8*lxGiB || c.CoredumpSize("ProcessSizeMax") != 16*lxGiB {
		t.Error("sizes in force")
	}
	if c.DefaultLimitCORE != (ConfValue{"0:infinity", "/etc/systemd/system.conf.d/50-core.conf"}) {
		t.Errorf("DefaultLimitCORE %+v", c.DefaultLimitCORE)
	}
	if !c.SystemdCoredump || c.CorePattern.Program != "/lib/systemd/systemd-coredump" || c.CoreDir() != "/var/lib/systemd/coredump" {
		t.Errorf("systemd-coredump %v %q", c.SystemdCoredump, c.CorePattern.Program)
	}
	if len(c.Biggest) != 3 || c.Biggest[0].Name != "java" || c.Biggest[0].RSS != 12*lxGiB || c.Biggest[1].Name != "postgres" {
		t.Errorf("biggest %+v (kernel threads have no VmRSS)", c.Biggest)
	}
	if m.RAM != 66699264*lxKiB || c.CrashkernelSet {
		t.Errorf("RAM %d crashkernel %v", m.RAM, c.CrashkernelSet)
	}
	if c.KdumpService != "" || c.KdumpTools || c.KdumpConf {
		t.Error("no kdump here")
	}
}

func TestLinuxReadPipeMissing(t *testing.T) {
	c, m := lxReadFixture(t, "pipe-missing")
	if m.Release != "ubuntu 24.04" || !c.CorePattern.Pipe || c.CorePattern.Program != "/usr/lib/nonexistent" || c.CorePattern.ToSystemdCoredump() {
		t.Errorf("%q %+v", m.Release, c.CorePattern)
	}
	if c.KdumpService != "kdump-tools.service" || c.KdumpEnabled || c.CrashLoaded || c.CrashSize != 512*lxMiB {
		t.Errorf("kdump %q %v loaded %v size %d", c.KdumpService, c.KdumpEnabled, c.CrashLoaded, c.CrashSize)
	}
	if c.RlimitCore != 0 || c.RlimitCoreHard != 0 || c.CoredumpFilter != 0x32 {
		t.Errorf("rlimit %d/%d filter %x", c.RlimitCore, c.RlimitCoreHard, c.CoredumpFilter)
	}
}

func TestLinuxReadOddSpecifiers(t *testing.T) {
	c, m := lxReadFixture(t, "odd-specifiers")
	if m.Release != "alpine 3.19.1" || m.Arch != "" || c.Systemd || DistroFamily(m.Release, c.OSLike) != "" {
		t.Errorf("%+v systemd %v", m, c.Systemd)
	}
	if c.CorePattern.Raw != "/var/crash/core.%e.%p.%t.%h.100%%.%q%" || c.CoreDir() != "/var/crash" || c.CoreUsesPID != 1 {
		t.Errorf("%+v", c.CorePattern)
	}
	if c.RlimitCore != 4096 || c.RlimitCoreHard != math.MaxUint64 {
		t.Errorf("rlimit %d %d", c.RlimitCore, c.RlimitCoreHard)
	}
	if c.CrashSizeKnown || c.CrashLoadedKnown || !c.CmdlineKnown || c.CrashkernelSet {
		t.Error("no kexec files: unknown, not zero")
	}
}

func TestLinuxReadNoKdump(t *testing.T) {
	c, m := lxReadFixture(t, "no-kdump")
	if c.CrashkernelSet || c.CrashSize != 0 || !c.CrashSizeKnown || c.CrashLoaded || c.KdumpService != "" || c.KdumpTools {
		t.Errorf("%+v", c)
	}
	if m.RAM != 16521216*lxKiB {
		t.Errorf("RAM %d", m.RAM)
	}
}

func TestLinuxReadErrors(t *testing.T) {
	if _, _, err := ReadLinux(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing root is an error")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, _, err := ReadLinux(f); err == nil {
		t.Error("a file root is an error")
	}
	// An empty tree: everything unknown, no error.
	c, m, err := ReadLinux(t.TempDir())
	if err != nil || c.CmdlineKnown || c.CorePatternKnown || c.RlimitCoreKnown || m.RAM != 0 || m.Release != "" {
		t.Errorf("empty root: %v %+v %+v", err, c, m)
	}
}

// The fixture trees get a disk through the statfs hook.
func TestLinuxReadDiskHook(t *testing.T) {
	old := lxStatfs
	defer func() { lxStatfs = old }()
	var asked []string
	lxStatfs = func(root, path string) (Disk, bool) {
		asked = append(asked, path)
		return Disk{Mount: path, Size: 100 * lxGiB, Free: 40 * lxGiB}, true
	}
	c, m := lxReadFixture(t, "systemd-coredump")
	if !reflect.DeepEqual(asked, []string{"/var/crash", "/var/lib/systemd/coredump"}) {
		t.Errorf("asked %q", asked)
	}
	if c.CoreDisk.Free != 40*lxGiB || len(m.Disks) != 2 {
		t.Errorf("core disk %+v disks %+v", c.CoreDisk, m.Disks)
	}
}

// ReadLinux on this machine: it must not fail, and it must find the RAM.
func TestLinuxReadThisMachine(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc on this machine")
	}
	c, m, err := ReadLinux("/")
	if err != nil {
		t.Fatal(err)
	}
	if m.RAM == 0 || m.OS != Linux || !c.CmdlineKnown || !c.CorePatternKnown || !c.RlimitCoreKnown {
		t.Fatalf("machine %+v, cmdline %v, core_pattern %v", m, c.CmdlineKnown, c.CorePatternKnown)
	}
	t.Logf("%s, %s, %s RAM; crashkernel set %v, reserved %s (known %v), loaded %v (known %v); core_pattern %q; ulimit -c %s; suid_dumpable %d",
		lxOr(c.PrettyName, m.Release), m.Arch, lxHuman(m.RAM), c.CrashkernelSet, lxHuman(c.CrashSize), c.CrashSizeKnown,
		c.CrashLoaded, c.CrashLoadedKnown, c.CorePattern.Raw, lxLimit(c.RlimitCore), c.SuidDumpable)
	for _, ch := range CheckLinux(m, c) {
		t.Logf("  %-8s %-22s %s", ch.Status, ch.ID, ch.Reason)
	}
	if n := len(LinuxSettings(c)); n < 10 {
		t.Errorf("%d settings", n)
	}
}

func TestLinuxSettingsFixture(t *testing.T) {
	c, _ := lxReadFixture(t, "systemd-coredump")
	byKey := map[string]Setting{}
	for _, s := range LinuxSettings(c) {
		if s.Source == "" || s.Meaning == "" || s.Group == "" {
			t.Errorf("%s: incomplete %+v", s.Key, s)
		}
		byKey[s.Key] = s
	}
	ext := byKey["coredump.conf ExternalSizeMax"]
	if ext.Value != "8G" || !ext.Set || !strings.Contains(ext.Meaning, "/run/systemd/coredump.conf.d/60-runtime.conf") || !strings.Contains(ext.Default, "32G") {
		t.Errorf("ExternalSizeMax %+v", ext)
	}
	if mu := byKey["coredump.conf MaxUse"]; mu.Set || mu.Default != "10% of the file system" {
		t.Errorf("MaxUse %+v", mu)
	}
	if dl := byKey["DefaultLimitCORE= (systemd system.conf)"]; dl.Value != "0:infinity" {
		t.Errorf("DefaultLimitCORE %+v", dl)
	}
	if ck := byKey["crashkernel= (kernel command line)"]; ck.Set || !strings.Contains(ck.Meaning, "no memory is reserved") {
		t.Errorf("crashkernel %+v", ck)
	}
	if _, ok := byKey["/etc/default/kdump-tools USE_KDUMP"]; !ok {
		t.Error("a Debian machine shows kdump-tools' settings even without the package")
	}
	if _, ok := byKey["/etc/kdump.conf path"]; ok {
		t.Error("kdump.conf is RHEL's")
	}

	r, _ := lxReadFixture(t, "rhel9")
	for _, s := range LinuxSettings(r) {
		if s.Key == "crashkernel= (kernel command line)" && s.Meaning != "reserves 256 MiB with 31.7 GiB of RAM" {
			t.Errorf("rhel9 crashkernel meaning %q", s.Meaning)
		}
		if s.Key == "/etc/kdump.conf core_collector" && !strings.Contains(s.Meaning, "(kernel memory only); compression lzo") {
			t.Errorf("core_collector meaning %q", s.Meaning)
		}
	}
}
