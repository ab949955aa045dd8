package crashcfg

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

const (
	lxKiB = uint64(1) << 10
	lxMiB = uint64(1) << 20
	lxGiB = uint64(1) << 30
	lxTiB = uint64(1) << 40
)

func TestLinuxParseCrashkernel(t *testing.T) {
	rhel9 := []CrashRange{{1 * lxGiB, 4 * lxGiB, 192 * lxMiB}, {4 * lxGiB, 64 * lxGiB, 256 * lxMiB}, {64 * lxGiB, 0, 512 * lxMiB}}
	tests := []struct {
		in   string
		want Crashkernel
	}{
		{"256M", Crashkernel{Size: 256 * lxMiB}},
		{"64M@16M", Crashkernel{Size: 64 * lxMiB, Offset: 16 * lxMiB}},
		{"0x10000000", Crashkernel{Size: 256 * lxMiB}},
		{"131072K", Crashkernel{Size: 128 * lxMiB}},
		{"1g", Crashkernel{Size: lxGiB}},
		{"512M-2G:64M,2G-:128M", Crashkernel{Ranges: []CrashRange{{512 * lxMiB, 2 * lxGiB, 64 * lxMiB}, {2 * lxGiB, 0, 128 * lxMiB}}}},
		{"512M-2G:64M,2G-:128M@16M", Crashkernel{Ranges: []CrashRange{{512 * lxMiB, 2 * lxGiB, 64 * lxMiB}, {2 * lxGiB, 0, 128 * lxMiB}}, Offset: 16 * lxMiB}},
		{"1G-4G:192M,4G-64G:256M,64G-:512M", Crashkernel{Ranges: rhel9}},
		{"384M-:128M", Crashkernel{Ranges: []CrashRange{{384 * lxMiB, 0, 128 * lxMiB}}}},
		{"512M,high", Crashkernel{Size: 512 * lxMiB, High: true}},
		{"128M,low", Crashkernel{Size: 128 * lxMiB, Low: true}},
		{"0,low", Crashkernel{Low: true}},
		{"auto", Crashkernel{Auto: true}},
	}
	for _, tt := range tests {
		got, err := ParseCrashkernel(tt.in)
		if err != nil {
			t.Errorf("ParseCrashkernel(%q): %v", tt.in, err)
			continue
		}
		tt.want.Raw = tt.in
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCrashkernel(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "abc", "2G-1G:64M", "512M-2G", "512M-2G:", "1G-:x", "128M@", "256M,high@16M", "512M-2G:64M,high", "64Q"} {
		if _, err := ParseCrashkernel(bad); err == nil {
			t.Errorf("ParseCrashkernel(%q): no error", bad)
		}
	}
}

// kdump.rst's example: crashkernel=512M-2G:64M,2G-:128M reserves nothing
// below 512M, 64M from 512M up to but not including 2G, 128M from 2G.
func TestLinuxCrashkernelForRanges(t *testing.T) {
	ck, err := ParseCrashkernel("512M-2G:64M,2G-:128M")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ ram, want uint64 }{
		{256 * lxMiB, 0}, {512*lxMiB - 1, 0}, {512 * lxMiB, 64 * lxMiB}, {2*lxGiB - 1, 64 * lxMiB}, {2 * lxGiB, 128 * lxMiB}, {1 * lxTiB, 128 * lxMiB},
	} {
		if got := ck.For(tt.ram); got != tt.want {
			t.Errorf("For(%s) = %s, want %s", lxHuman(tt.ram), lxHuman(got), lxHuman(tt.want))
		}
	}
	fixed, _ := ParseCrashkernel("256M")
	if fixed.For(0) != 256*lxMiB || fixed.For(lxTiB) != 256*lxMiB {
		t.Error("a fixed size does not depend on RAM")
	}
	auto, _ := ParseCrashkernel("auto")
	if auto.For(64*lxGiB) != 0 {
		t.Error("auto: the kernel's own choice, reported as 0")
	}
	low, _ := ParseCrashkernel("128M,low")
	high, _ := ParseCrashkernel("512M,high")
	if low.For(64*lxGiB) != 0 || high.For(64*lxGiB) != 512*lxMiB {
		t.Error(",low alone is ignored; ,high is its size")
	}
}

func TestLinuxParseCrashkernelCmdline(t *testing.T) {
	tests := []struct {
		cmdline string
		ok      bool
		raw     string
		lowSize uint64
		lowSet  bool
	}{
		{"ro quiet", false, "", 0, false},
		{"ro crashkernel=256M quiet", true, "256M", 0, false},
		// The last plain crashkernel= wins, whatever ,high and ,low say.
		{"crashkernel=128M crashkernel=512M,high crashkernel=384M-:256M", true, "384M-:256M", 0, false},
		{"crashkernel=512M,high crashkernel=64M,low crashkernel=72M,low", true, "512M,high", 72 * lxMiB, true},
		{"crashkernel=1G,high", true, "1G,high", 0, false},
		{"crashkernel=256M crashkernel=1G,cma", true, "256M", 0, false},
	}
	for _, tt := range tests {
		c, ok, err := ParseCrashkernelCmdline(tt.cmdline)
		if err != nil || ok != tt.ok || c.Raw != tt.raw || c.LowSize != tt.lowSize || c.LowSet != tt.lowSet {
			t.Errorf("ParseCrashkernelCmdline(%q) = %+v, %v, %v", tt.cmdline, c, ok, err)
		}
	}
	if _, ok, err := ParseCrashkernelCmdline("crashkernel=2G-1G:64M"); !ok || err == nil {
		t.Error("a bad crashkernel= is found and reported")
	}
}

func TestLinuxParseCorePattern(t *testing.T) {
	p := ParseCorePattern("|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h")
	if !p.Pipe || p.Program != "/usr/lib/systemd/systemd-coredump" || len(p.Args) != 7 || !p.ToSystemdCoredump() || !p.PassesLimit() || p.HasPID {
		t.Errorf("systemd pattern: %+v", p)
	}
	// Debian 12 passes a literal limit instead of %c.
	deb := ParseCorePattern("|/lib/systemd/systemd-coredump %P %u %g %s %t 9223372036854775808 %h %d")
	if !deb.ToSystemdCoredump() || deb.PassesLimit() {
		t.Errorf("Debian pattern: %+v", deb)
	}
	if sp := ParseCorePattern("| /bin/cat"); sp.Program != "" {
		t.Errorf("a space after | leaves no program: %+v", sp)
	}
	if d := ParseCorePattern("/var/crash/core.%e.%p").Dir(); d != "/var/crash" {
		t.Errorf("Dir = %q", d)
	}
	if d := ParseCorePattern("core").Dir(); d != "" {
		t.Errorf("a bare name goes to the working directory, Dir = %q", d)
	}
	if d := ParseCorePattern("cores/core").Dir(); d != "cores" {
		t.Errorf("relative Dir = %q", d)
	}

	odd := ParseCorePattern("/var/crash/core.%e.%p.%t.%h.100%%.%q%")
	var specs, dropped []string
	for _, s := range odd.Specifiers {
		specs = append(specs, s.Spec)
		if s.Dropped {
			dropped = append(dropped, s.Spec)
		}
	}
	if got := strings.Join(specs, " "); got != "%e %p %t %h %% %q %" {
		t.Errorf("specifiers %q", got)
	}
	if got := strings.Join(dropped, " "); got != "%q %" {
		t.Errorf("dropped %q", got)
	}
	if got := odd.Expand(ExampleCoreVars, true); got != "/var/crash/core.myservice.4242.1700000000.myhost.100%." {
		t.Errorf("Expand = %q", got)
	}
}

// Every specifier of core(5) and kernel.rst is known, and expands.
func TestLinuxCoreSpecifiersAll(t *testing.T) {
	all := "%p %P %i %I %u %g %d %s %t %h %e %E %c %C %f %F %%"
	p := ParseCorePattern(all)
	if len(p.Specifiers) != 17 {
		t.Fatalf("%d specifiers", len(p.Specifiers))
	}
	for _, s := range p.Specifiers {
		if s.Dropped || s.Meaning == "" {
			t.Errorf("%s: %+v", s.Spec, s)
		}
	}
	want := "4242 4242 4243 4243 1000 1000 1 11 1700000000 myhost myservice !usr!bin!myservice 18446744073709551615 3 myservice 3 %"
	if got := p.Expand(ExampleCoreVars, false); got != want {
		t.Errorf("Expand =\n%q, want\n%q", got, want)
	}
}

func TestLinuxCoreUsesPID(t *testing.T) {
	tests := []struct {
		pattern string
		usesPID bool
		want    string
	}{
		{"core", false, "core"},
		{"core", true, "core.4242"},
		{"core.%p", true, "core.4242"}, // %p present: nothing appended
		{"core.%P", true, "core.4242.4242"},
		{"|/bin/handler %p", true, "|/bin/handler 4242"}, // pipes get nothing
	}
	for _, tt := range tests {
		if got := ParseCorePattern(tt.pattern).Expand(ExampleCoreVars, tt.usesPID); got != tt.want {
			t.Errorf("%q core_uses_pid=%v: %q, want %q", tt.pattern, tt.usesPID, got, tt.want)
		}
	}
}

func TestLinuxParseMakedumpfile(t *testing.T) {
	tests := []struct {
		in   string
		want Makedumpfile
	}{
		{"", Makedumpfile{DumpLevel: -1}},
		{"-c -d 31", Makedumpfile{DumpLevel: 31, Compression: "zlib"}},
		{"makedumpfile -l --message-level 7 -d 31", Makedumpfile{DumpLevel: 31, Compression: "lzo"}},
		{"makedumpfile -F -l --message-level 7 -d 31", Makedumpfile{DumpLevel: 31, Compression: "lzo", Flattened: true}},
		{"-z -d31", Makedumpfile{DumpLevel: 31, Compression: "zstd"}},
		{"-p --dump-level 11,31", Makedumpfile{DumpLevel: 11, Compression: "snappy"}},
		{"-d 1", Makedumpfile{DumpLevel: 1}},
		{"-d 99", Makedumpfile{DumpLevel: -1}},
	}
	for _, tt := range tests {
		if got := ParseMakedumpfile(tt.in); got != tt.want {
			t.Errorf("ParseMakedumpfile(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestLinuxDumpLevelText(t *testing.T) {
	tests := map[int]string{
		-1: "no -d: every page is copied",
		0:  "0: every page is copied",
		1:  "1: leaves out zero pages",
		11: "11: leaves out zero pages, non-private page cache, user process data",
		31: "31: leaves out zero pages, all page cache, user process data, free pages (kernel memory only)",
	}
	for level, want := range tests {
		if got := DumpLevelText(level); got != want {
			t.Errorf("DumpLevelText(%d) = %q, want %q", level, got, want)
		}
	}
}

func TestLinuxParseSystemdSize(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
	}{
		{"1024", 1024}, {"512B", 512}, {"4K", 4 * lxKiB}, {"767M", 767 * lxMiB}, {"32G", 32 * lxGiB}, {"1.5G", 3 * lxGiB / 2},
		{"2T", 2 * lxTiB}, {"1 G", lxGiB}, {"infinity", math.MaxUint64},
	}
	for _, tt := range tests {
		got, err := ParseSystemdSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseSystemdSize(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "G", "12Q", "1GB"} {
		if _, err := ParseSystemdSize(bad); err == nil {
			t.Errorf("ParseSystemdSize(%q): no error", bad)
		}
	}
}

func TestLinuxSizeFormat(t *testing.T) {
	for n, want := range map[uint64]string{256 * lxMiB: "256M", 64 * lxGiB: "64G", 1536 * lxMiB: "1536M", 1000: "1000", 2 * lxTiB: "2T"} {
		if got := lxMemSuffix(n); got != want {
			t.Errorf("lxMemSuffix(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[uint64]string{256 * lxMiB: "256 MiB", 31*lxGiB + 400*lxMiB: "31.4 GiB", 100: "100 B", math.MaxUint64: "unlimited"} {
		if got := lxHuman(n); got != want {
			t.Errorf("lxHuman(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLinuxDistroFamily(t *testing.T) {
	tests := []struct{ release, like, want string }{
		{"debian 12", "", "debian"}, {"ubuntu 24.04", "debian", "debian"}, {"rhel 9.4", "fedora", "rhel"},
		{"rocky 9.3", "rhel centos fedora", "rhel"}, {"fedora 40", "", "rhel"}, {"alpine 3.19.1", "", ""}, {"linuxfoo 1", "debian", "debian"},
	}
	for _, tt := range tests {
		if got := DistroFamily(tt.release, tt.like); got != tt.want {
			t.Errorf("DistroFamily(%q, %q) = %q, want %q", tt.release, tt.like, got, tt.want)
		}
	}
}
