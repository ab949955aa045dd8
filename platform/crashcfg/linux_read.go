package crashcfg

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// ReadLinux reads the crash-dump configuration of the Linux machine whose
// filesystem is at root: "/" for this machine, a fixture tree in tests.
// Files are read as filepath.Join(root, "/proc/cmdline") and so on; a
// missing or unreadable file leaves its values unknown, it is not an
// error. The error is for a root that is not a directory.
//
// Two things are only read on the real root: this process's RLIMIT_CORE
// through getrlimit(2) (elsewhere it comes from root's
// /proc/self/limits) and free disk space through statfs(2).
func ReadLinux(root string) (LinuxConfig, Machine, error) {
	if root == "" {
		root = "/"
	}
	if fi, err := os.Stat(root); err != nil {
		return LinuxConfig{}, Machine{}, err
	} else if !fi.IsDir() {
		return LinuxConfig{}, Machine{}, fmt.Errorf("%s: not a directory", root)
	}
	c := LinuxConfig{Read: true, Root: root}
	r := lxReader{root: root}

	osr := r.osRelease()
	c.OSID, c.OSLike, c.VersionID, c.PrettyName = osr["ID"], osr["ID_LIKE"], osr["VERSION_ID"], osr["PRETTY_NAME"]
	c.MemTotal = r.memTotal()

	if s, ok := r.read("/proc/cmdline"); ok {
		c.Cmdline, c.CmdlineKnown = s, true
		ck, set, err := ParseCrashkernelCmdline(s)
		c.Crashkernel, c.CrashkernelSet = ck, set
		if err != nil {
			c.CrashkernelErr = err.Error()
		}
	}
	// Linux 6.19 moved these under /sys/kernel/kexec/; the old names stay
	// until 2028.
	if n, ok := r.uint("/sys/kernel/kexec/crash_size", "/sys/kernel/kexec_crash_size"); ok {
		c.CrashSize, c.CrashSizeKnown = n, true
	}
	if n, ok := r.uint("/sys/kernel/kexec/crash_loaded", "/sys/kernel/kexec_crash_loaded"); ok {
		c.CrashLoaded, c.CrashLoadedKnown = n == 1, true
	}

	if vars, ok := r.shellVars("/etc/default/kdump-tools"); ok {
		c.KdumpTools, c.KdumpToolsVars = true, vars
	}
	r.kdumpConf(&c)
	for _, svc := range []string{"kdump-tools.service", "kdump.service"} {
		if r.unitInstalled(svc) {
			c.KdumpService = svc
			c.KdumpEnabled = r.unitEnabled(svc)
			break
		}
	}
	c.Kdumpctl = r.exists("/usr/bin/kdumpctl") || r.exists("/usr/sbin/kdumpctl")

	if s, ok := r.readRaw("/proc/sys/kernel/core_pattern"); ok {
		c.CorePattern, c.CorePatternKnown = ParseCorePattern(strings.TrimRight(s, "\n")), true
	}
	if n, ok := r.uint("/proc/sys/kernel/core_uses_pid"); ok {
		c.CoreUsesPID, c.CoreUsesPIDKnown = int(n), true
	}
	if n, ok := r.uint("/proc/sys/fs/suid_dumpable"); ok {
		c.SuidDumpable, c.SuidDumpableKnown = int(n), true
	}
	if root == "/" {
		c.RlimitCore, c.RlimitCoreHard, c.RlimitCoreKnown = lxHostRlimitCore()
	}
	if !c.RlimitCoreKnown {
		c.RlimitCore, c.RlimitCoreHard, c.RlimitCoreKnown = r.limitsCore()
	}
	if s, ok := r.read("/proc/self/coredump_filter"); ok {
		if n, err := strconv.ParseUint(s, 16, 64); err == nil {
			c.CoredumpFilter, c.CoredumpFilterKnown = n, true
		}
	}
	c.Systemd = r.exists("/run/systemd/system")
	c.SystemdCoredump = r.exists("/usr/lib/systemd/systemd-coredump") || r.exists("/lib/systemd/systemd-coredump")
	c.Coredump, c.CoredumpFiles = r.systemdConf("coredump.conf", "Coredump")
	manager, _ := r.systemdConf("system.conf", "Manager")
	c.DefaultLimitCORE = manager["DefaultLimitCORE"]
	c.Biggest = r.biggest(5)

	c.KdumpDisk, _ = lxStatfs(root, c.KdumpDir())
	if d := c.CoreDir(); d != "" {
		c.CoreDisk, _ = lxStatfs(root, d)
	}

	m := Machine{OS: Linux, RAM: c.MemTotal, Arch: lxGoArch(r.arch())}
	if c.MemTotal > 0 {
		// MemTotal leaves out the crash kernel's reservation.
		m.RAM += c.CrashSize
	}
	if c.OSID != "" {
		m.Release = strings.TrimSpace(c.OSID + " " + c.VersionID)
	}
	for _, d := range []Disk{c.KdumpDisk, c.CoreDisk} {
		if d.Size > 0 && !slices.ContainsFunc(m.Disks, func(x Disk) bool { return x.Mount == d.Mount }) {
			m.Disks = append(m.Disks, d)
		}
	}
	return c, m, nil
}

// lxStatfs gives the free space of the file system holding path (or its
// nearest existing parent) under root. It is a variable so that tests can
// give fixture trees a disk; the real one answers for root "/" only.
var lxStatfs = func(root, path string) (Disk, bool) {
	if root != "/" {
		return Disk{}, false
	}
	p := filepath.Clean(path)
	for {
		if _, err := os.Stat(p); err == nil {
			break
		}
		parent := filepath.Dir(p)
		if parent == p {
			return Disk{}, false
		}
		p = parent
	}
	free, size, ok := lxHostStatfs(p)
	if !ok {
		return Disk{}, false
	}
	return Disk{Mount: path, Size: size, Free: free}, true
}

// lxGoArch names a kernel architecture (uname -m) the way Machine.Arch
// does (Go's GOARCH).
func lxGoArch(a string) string {
	switch a {
	case "x86_64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "i386", "i486", "i586", "i686":
		return "386"
	case "armv7l", "armv6l":
		return "arm"
	}
	return a
}

// lxReader reads files under a root.
type lxReader struct{ root string }

func (r lxReader) path(p string) string { return filepath.Join(r.root, p) }

func (r lxReader) exists(p string) bool {
	_, err := os.Lstat(r.path(p))
	return err == nil
}

func (r lxReader) readRaw(p string) (string, bool) {
	b, err := os.ReadFile(r.path(p))
	if err != nil {
		return "", false
	}
	return string(b), true
}

func (r lxReader) read(p string) (string, bool) {
	s, ok := r.readRaw(p)
	return strings.TrimSpace(s), ok
}

// uint reads the first of paths that holds a number.
func (r lxReader) uint(paths ...string) (uint64, bool) {
	for _, p := range paths {
		if s, ok := r.read(p); ok {
			if n, err := strconv.ParseUint(s, 10, 64); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}

func (r lxReader) lines(p string) ([]string, bool) {
	s, ok := r.readRaw(p)
	if !ok {
		return nil, false
	}
	return strings.Split(s, "\n"), true
}

// osRelease reads os-release(5): /etc/os-release, else
// /usr/lib/os-release.
func (r lxReader) osRelease() map[string]string {
	vars := map[string]string{}
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if v, ok := r.shellVars(p); ok {
			return v
		}
	}
	return vars
}

// shellVars reads VAR=value lines of a file meant to be sourced by sh
// (os-release, /etc/default/kdump-tools). Quotes are removed; expansions
// are not done.
func (r lxReader) shellVars(p string) (map[string]string, bool) {
	lines, ok := r.lines(p)
	if !ok {
		return nil, false
	}
	vars := map[string]string{}
	for _, l := range lines {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "export "))
		if l == "" || l[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || strings.ContainsAny(k, " \t") {
			continue
		}
		vars[k] = lxUnquote(v)
	}
	return vars, true
}

// lxUnquote removes the shell quotes around a value, and a trailing
// comment after an unquoted one.
func lxUnquote(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			return v[1 : end+1]
		}
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

func (r lxReader) memTotal() uint64 {
	lines, _ := r.lines("/proc/meminfo")
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				n, err := strconv.ParseUint(f[0], 10, 64)
				if err == nil {
					return n * 1024 // meminfo counts kB of 1024 bytes
				}
			}
		}
	}
	return 0
}

// arch is the kernel's architecture: /proc/sys/kernel/arch (Linux 6.1+),
// else this program's own on the real root.
func (r lxReader) arch() string {
	if s, ok := r.read("/proc/sys/kernel/arch"); ok && s != "" {
		return s
	}
	if r.root == "/" {
		return runtime.GOARCH
	}
	return ""
}

// kdumpConf reads /etc/kdump.conf (kdump.conf(5)): "option value" lines,
// # comments.
func (r lxReader) kdumpConf(c *LinuxConfig) {
	lines, ok := r.lines("/etc/kdump.conf")
	if !ok {
		return
	}
	c.KdumpConf = true
	for _, l := range lines {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		v = strings.TrimSpace(v)
		switch k {
		case "path":
			c.KdumpConfPath = v
		case "core_collector":
			c.CoreCollector = v
		case "raw", "nfs", "ssh", "ext2", "ext3", "ext4", "xfs", "btrfs", "minix", "virtiofs":
			c.KdumpConfTarget = k + " " + v
		}
	}
}

// unitInstalled: the unit file is in one of systemd's unit directories.
func (r lxReader) unitInstalled(unit string) bool {
	for _, d := range []string{"/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"} {
		if r.exists(d + "/" + unit) {
			return true
		}
	}
	return false
}

// unitEnabled: "systemctl enable" left a symlink to the unit in a
// /etc/systemd/system/*.wants directory.
func (r lxReader) unitEnabled(unit string) bool {
	m, _ := filepath.Glob(filepath.Join(r.path("/etc/systemd/system"), "*.wants", unit))
	return len(m) > 0
}

// limitsCore reads "Max core file size" from /proc/self/limits.
func (r lxReader) limitsCore() (soft, hard uint64, ok bool) {
	lines, _ := r.lines("/proc/self/limits")
	for _, l := range lines {
		rest, found := strings.CutPrefix(l, "Max core file size")
		if !found {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			return 0, 0, false
		}
		parse := func(s string) (uint64, bool) {
			if s == "unlimited" {
				return math.MaxUint64, true
			}
			n, err := strconv.ParseUint(s, 10, 64)
			return n, err == nil
		}
		s, ok1 := parse(f[0])
		h, ok2 := parse(f[1])
		return s, h, ok1 && ok2
	}
	return 0, 0, false
}

// systemdConf reads a systemd configuration file with its drop-ins the
// way systemd does (coredump.conf(5), systemd-system.conf(5)): the main
// file is the first of /etc/systemd, /run/systemd,
// /usr/local/lib/systemd and /usr/lib/systemd that has it; then the
// *.conf files of the name.d directories, sorted by file name whatever
// their directory, a file in a higher directory (/etc first) hiding one of
// the same name below it, and one that links to /dev/null or is empty
// masking it. Later files override earlier ones; an empty assignment
// resets the key to its default. It returns the keys of section with the
// file that set them, and the files read in order.
func (r lxReader) systemdConf(name, section string) (map[string]ConfValue, []string) {
	dirs := []string{"/etc/systemd", "/run/systemd", "/usr/local/lib/systemd", "/usr/lib/systemd"}
	var files []string
	for _, d := range dirs {
		if r.exists(d + "/" + name) {
			files = append(files, d+"/"+name)
			break
		}
	}
	dropins := map[string]string{} // file name -> path on the machine
	for _, d := range dirs {
		entries, err := os.ReadDir(r.path(d + "/" + name + ".d"))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".conf") {
				continue
			}
			if _, seen := dropins[e.Name()]; !seen {
				dropins[e.Name()] = d + "/" + name + ".d/" + e.Name()
			}
		}
	}
	names := make([]string, 0, len(dropins))
	for n := range dropins {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := dropins[n]
		if t, err := os.Readlink(r.path(p)); err == nil && t == "/dev/null" {
			continue // masked
		}
		files = append(files, p)
	}
	vals := map[string]ConfValue{}
	for _, f := range files {
		lines, _ := r.lines(f)
		in := false
		for _, l := range lines {
			l = strings.TrimSpace(l)
			switch {
			case l == "" || l[0] == '#' || l[0] == ';':
			case l[0] == '[':
				in = l == "["+section+"]"
			case in:
				k, v, ok := strings.Cut(l, "=")
				if !ok {
					continue
				}
				k, v = strings.TrimSpace(k), strings.TrimSpace(v)
				if v == "" {
					delete(vals, k)
				} else {
					vals[k] = ConfValue{Value: v, File: f}
				}
			}
		}
	}
	return vals, files
}

// biggest lists the n processes with the most resident memory, from
// /proc/<pid>/status.
func (r lxReader) biggest(n int) []LinuxProcess {
	entries, err := os.ReadDir(r.path("/proc"))
	if err != nil {
		return nil
	}
	var ps []LinuxProcess
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := os.Open(filepath.Join(r.path("/proc"), e.Name(), "status"))
		if err != nil {
			continue
		}
		p := LinuxProcess{PID: pid}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			v = strings.TrimSpace(v)
			switch k {
			case "Name":
				p.Name = v
			case "VmRSS":
				kb, _ := strconv.ParseUint(strings.TrimSuffix(v, " kB"), 10, 64)
				p.RSS = kb * 1024
			}
		}
		f.Close()
		if p.RSS > 0 { // kernel threads have no VmRSS
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b LinuxProcess) int {
		if a.RSS != b.RSS {
			if a.RSS > b.RSS {
				return -1
			}
			return 1
		}
		return a.PID - b.PID
	})
	if len(ps) > n {
		ps = ps[:n]
	}
	return ps
}
