package crashcfg

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The documentation the Linux helpers cite.
const (
	lxSrcKdump        = "https://docs.kernel.org/admin-guide/kdump/kdump.html"
	lxSrcKernelParam  = "https://docs.kernel.org/admin-guide/kernel-parameters.html (crashkernel=)"
	lxSrcSysfsKexec   = "https://kernel.org/doc/Documentation/ABI/obsolete/sysfs-kernel-kexec-kdump (kexec_crash_size, kexec_crash_loaded)"
	lxSrcCore         = "https://man7.org/linux/man-pages/man5/core.5.html"
	lxSrcSysctlCore   = "https://docs.kernel.org/admin-guide/sysctl/kernel.html#core-pattern"
	lxSrcSysctlKernel = "https://docs.kernel.org/admin-guide/sysctl/kernel.html"
	lxSrcSuid         = "https://docs.kernel.org/admin-guide/sysctl/fs.html#suid-dumpable, proc(5) /proc/sys/fs/suid_dumpable"
	lxSrcRlimit       = "https://man7.org/linux/man-pages/man2/getrlimit.2.html, core(5)"
	lxSrcSystemConf   = "https://www.freedesktop.org/software/systemd/man/latest/systemd-system.conf.html#DefaultLimitCORE="
	lxSrcCoredumpCfg  = "https://www.freedesktop.org/software/systemd/man/latest/coredump.conf.html"
	lxSrcCoredump     = "https://www.freedesktop.org/software/systemd/man/latest/systemd-coredump.html"
	lxSrcCoredumpC    = "https://github.com/systemd/systemd/blob/main/src/coredump/coredump.c (RLIMIT_CORE below a page: \"Resource limits disable core dumping\")"
	lxSrcKdumpTools   = "https://manpages.debian.org/bookworm/kdump-tools/kdump-tools.5.en.html"
	lxSrcKdumpConf    = "https://www.mankier.com/5/kdump.conf"
	lxSrcMakedump     = "https://manpages.debian.org/bookworm/makedumpfile/makedumpfile.8.en.html"
	lxSrcSysrq        = "https://docs.kernel.org/admin-guide/sysrq.html"
	lxSrcSysctlD      = "https://man7.org/linux/man-pages/man5/sysctl.d.5.html"
)

// LinuxConfig is everything on a Linux machine that decides whether a
// kernel panic or a process crash leaves a dump. Read fills it with
// ReadLinux; a zero LinuxConfig (Read false) stands for a machine that is
// planned, not read: every value is then unknown and defaults apply.
// Each XKnown flag says whether X was read; false is "unknown", never an
// error.
type LinuxConfig struct {
	Read bool   // filled by ReadLinux
	Root string // the filesystem root it was read from

	// Distribution, from /etc/os-release.
	OSID       string // "debian", "rhel", "ubuntu"
	OSLike     string // ID_LIKE: "rhel centos fedora"
	VersionID  string // "12", "9.4"
	PrettyName string
	MemTotal   uint64 // bytes, from /proc/meminfo (0 unknown); excludes the crash kernel's reservation

	// Kernel command line and the crash kernel.
	Cmdline          string
	CmdlineKnown     bool
	Crashkernel      Crashkernel // the crashkernel= in force
	CrashkernelSet   bool        // a crashkernel= is on the command line
	CrashkernelErr   string      // it does not parse
	CrashSize        uint64      // bytes reserved now (/sys/kernel/kexec_crash_size)
	CrashSizeKnown   bool
	CrashLoaded      bool // a crash kernel is loaded (/sys/kernel/kexec_crash_loaded)
	CrashLoadedKnown bool

	// kdump: Debian/Ubuntu kdump-tools or RHEL kdump.conf.
	KdumpTools      bool              // /etc/default/kdump-tools exists
	KdumpToolsVars  map[string]string // its assignments (USE_KDUMP, KDUMP_COREDIR, MAKEDUMP_ARGS, ...)
	KdumpConf       bool              // /etc/kdump.conf exists
	KdumpConfPath   string            // its "path" ("" when unset: /var/crash)
	KdumpConfTarget string            // a dump target line ("xfs /dev/...", "nfs ...", "ssh ..."), "" local
	CoreCollector   string            // its core_collector ("" when unset)
	KdumpService    string            // "kdump.service", "kdump-tools.service", "" when neither is installed
	KdumpEnabled    bool              // that service is enabled (a .wants symlink in /etc/systemd/system)
	Kdumpctl        bool              // kdumpctl is installed (RHEL, Fedora)

	// Process core dumps.
	CorePattern         CorePattern
	CorePatternKnown    bool
	CoreUsesPID         int
	CoreUsesPIDKnown    bool
	SuidDumpable        int
	SuidDumpableKnown   bool
	RlimitCore          uint64 // this process's soft RLIMIT_CORE; math.MaxUint64 is unlimited
	RlimitCoreHard      uint64
	RlimitCoreKnown     bool
	DefaultLimitCORE    ConfValue // systemd's DefaultLimitCORE= (system.conf and drop-ins)
	CoredumpFilter      uint64    // /proc/self/coredump_filter
	CoredumpFilterKnown bool
	Systemd             bool // systemd is PID 1 (/run/systemd/system exists)
	SystemdCoredump     bool // systemd-coredump is installed

	// systemd-coredump's coredump.conf with its drop-ins, merged: the key
	// (Storage, ProcessSizeMax, ...) to the value in force and its file.
	Coredump      map[string]ConfValue
	CoredumpFiles []string // the files read, in the order they apply

	// Biggest are the processes with the most resident memory (at most
	// five), to compare with the core size limits.
	Biggest []LinuxProcess

	// Free space where kdump and core dumps are written; Size 0 when
	// unknown.
	KdumpDisk Disk
	CoreDisk  Disk
}

// ConfValue is a setting read from a configuration file.
type ConfValue struct {
	Value string
	File  string // where it was set, as a path on the machine ("/etc/systemd/coredump.conf")
}

// LinuxProcess is a running process and its resident memory.
type LinuxProcess struct {
	PID  int
	Name string
	RSS  uint64 // bytes (VmRSS)
}

// DistroFamily sorts a distribution into the kdump tooling it uses:
// "debian" (kdump-tools: Debian, Ubuntu and derivatives), "rhel"
// (kexec-tools' kdumpctl and kdump.conf: RHEL, CentOS, Rocky, Alma,
// Fedora) or "" when unknown. release is Machine.Release ("debian 12");
// like is ID_LIKE, may be "".
func DistroFamily(release, like string) string {
	id, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(release)), " ")
	words := append([]string{id}, strings.Fields(strings.ToLower(like))...)
	for _, w := range words {
		switch w {
		case "debian", "ubuntu", "linuxmint", "pop", "raspbian", "kali":
			return "debian"
		case "rhel", "centos", "rocky", "almalinux", "fedora", "ol", "oracle", "redhat":
			return "rhel"
		}
	}
	return ""
}

// ---- crashkernel= ----

// Crashkernel is one crashkernel= kernel parameter. Its syntax
// (kernel-parameters.txt, kdump.rst):
//
//	crashkernel=size[KMG][@offset[KMG]]
//	crashkernel=range1:size1[,range2:size2,...][@offset]   range = start-[end], end exclusive
//	crashkernel=size[KMG],high   crashkernel=size[KMG],low
//	crashkernel=auto             (RHEL 7 and 8 kernels only; removed in RHEL 9)
type Crashkernel struct {
	Raw     string       // the value after "crashkernel=", as written
	Auto    bool         // "auto": the RHEL 7/8 kernel picks the size itself
	Size    uint64       // a fixed size; 0 with Ranges or Auto
	Ranges  []CrashRange // tried in order; the first that holds the RAM applies
	Offset  uint64       // "@offset"; 0 lets the kernel choose
	High    bool         // ",high": may be placed above 4 GiB
	Low     bool         // ",low": the part below 4 GiB that goes with ,high
	LowSize uint64       // with High: the crashkernel=X,low beside it (0: the kernel's default)
	LowSet  bool         // a crashkernel=X,low was given
}

// CrashRange is "start-[end]:size": reserve Size when start <= RAM < end.
type CrashRange struct {
	Start, End uint64 // End 0: no upper bound
	Size       uint64
}

// ParseCrashkernel parses the value of one crashkernel= parameter.
func ParseCrashkernel(s string) (Crashkernel, error) {
	c := Crashkernel{Raw: s}
	v := strings.TrimSpace(s)
	if v == "" {
		return c, errors.New("crashkernel: empty value")
	}
	if strings.EqualFold(v, "auto") {
		c.Auto = true
		return c, nil
	}
	switch {
	case strings.HasSuffix(v, ",high"):
		c.High, v = true, strings.TrimSuffix(v, ",high")
	case strings.HasSuffix(v, ",low"):
		c.Low, v = true, strings.TrimSuffix(v, ",low")
	}
	if !strings.Contains(v, ":") {
		size, rest, err := lxParseMem(v)
		if err != nil {
			return c, fmt.Errorf("crashkernel=%s: %w", s, err)
		}
		c.Size = size
		if rest != "" {
			if (c.High || c.Low) || rest[0] != '@' {
				return c, fmt.Errorf("crashkernel=%s: unexpected %q", s, rest)
			}
			if c.Offset, rest, err = lxParseMem(rest[1:]); err != nil || rest != "" {
				return c, fmt.Errorf("crashkernel=%s: bad offset", s)
			}
		}
		return c, nil
	}
	if c.High || c.Low {
		return c, fmt.Errorf("crashkernel=%s: ranges take no ,high or ,low", s)
	}
	// Ranges, then an optional @offset after the last one.
	if at := strings.LastIndexByte(v, '@'); at >= 0 {
		off, rest, err := lxParseMem(v[at+1:])
		if err != nil || rest != "" {
			return c, fmt.Errorf("crashkernel=%s: bad offset", s)
		}
		c.Offset, v = off, v[:at]
	}
	for _, part := range strings.Split(v, ",") {
		rng, size, ok := strings.Cut(part, ":")
		if !ok {
			return c, fmt.Errorf("crashkernel=%s: range %q has no size", s, part)
		}
		startS, endS, ok := strings.Cut(rng, "-")
		if !ok {
			return c, fmt.Errorf("crashkernel=%s: range %q has no '-'", s, rng)
		}
		var r CrashRange
		var rest string
		var err error
		if r.Start, rest, err = lxParseMem(startS); err != nil || rest != "" {
			return c, fmt.Errorf("crashkernel=%s: bad range start %q", s, startS)
		}
		if endS != "" {
			if r.End, rest, err = lxParseMem(endS); err != nil || rest != "" {
				return c, fmt.Errorf("crashkernel=%s: bad range end %q", s, endS)
			}
			if r.End <= r.Start {
				return c, fmt.Errorf("crashkernel=%s: range %q ends before it starts", s, rng)
			}
		}
		if r.Size, rest, err = lxParseMem(size); err != nil || rest != "" {
			return c, fmt.Errorf("crashkernel=%s: bad size %q", s, size)
		}
		c.Ranges = append(c.Ranges, r)
	}
	return c, nil
}

// For is what c reserves on a machine with ram bytes of memory: the fixed
// size, or the size of the first range holding ram (start inclusive, end
// exclusive), or 0 when no range holds it. Auto gives 0: the size is the
// kernel's own choice (see CrashkernelFor), and so does a ,low part alone,
// which the kernel ignores. With ,high it is the high part only. The
// kernel matches ranges against the memory it sees, a little less than
// what is installed.
func (c Crashkernel) For(ram uint64) uint64 {
	if c.Auto || c.Low && !c.High {
		return 0
	}
	if len(c.Ranges) == 0 {
		return c.Size
	}
	for _, r := range c.Ranges {
		if ram >= r.Start && (r.End == 0 || ram < r.End) {
			return r.Size
		}
	}
	return 0
}

// String is the parameter as written on the command line.
func (c Crashkernel) String() string {
	s := "crashkernel=" + c.Raw
	if c.LowSet {
		s += " crashkernel=" + lxMemSuffix(c.LowSize) + ",low"
	}
	return s
}

// ParseCrashkernelCmdline finds the crashkernel= in force on a kernel
// command line. Like the kernel (kernel/crash_reserve.c,
// get_last_crashkernel), the last plain crashkernel= wins; without one, the
// last crashkernel=X,high applies with the last crashkernel=Y,low beside
// it. ok is false when there is none.
func ParseCrashkernelCmdline(cmdline string) (c Crashkernel, ok bool, err error) {
	var plain, high, low string
	for _, f := range strings.Fields(cmdline) {
		v, found := strings.CutPrefix(f, "crashkernel=")
		if !found {
			continue
		}
		switch {
		case strings.HasSuffix(v, ",high"):
			high = v
		case strings.HasSuffix(v, ",low"):
			low = v
		case strings.HasSuffix(v, ",cma"):
			// crashkernel=X,cma (Linux 6.16) adds CMA memory on top; it
			// is not the reservation itself.
		default:
			plain = v
		}
	}
	switch {
	case plain != "":
		c, err = ParseCrashkernel(plain)
		return c, true, err
	case high != "":
		c, err = ParseCrashkernel(high)
		if err == nil && low != "" {
			l, lerr := ParseCrashkernel(low)
			c.LowSize, c.LowSet, err = l.Size, true, lerr
		}
		return c, true, err
	case low != "":
		// ,low alone is ignored by the kernel.
		c, err = ParseCrashkernel(low)
		return c, true, err
	}
	return Crashkernel{}, false, nil
}

// describe says in words what c reserves on ram bytes.
func (c Crashkernel) describe(ram uint64) string {
	switch {
	case c.Auto:
		return "crashkernel=auto: the RHEL 7/8 kernel sizes the reservation itself (not supported from RHEL 9 on)"
	case c.Low && !c.High:
		return "only a ,low part: the kernel ignores crashkernel=X,low without crashkernel=Y,high"
	case c.High:
		s := fmt.Sprintf("%s anywhere in memory (,high)", lxHuman(c.Size))
		if c.LowSet {
			s += fmt.Sprintf(" plus %s below 4 GiB (,low)", lxHuman(c.LowSize))
		} else {
			s += " plus the kernel's default below 4 GiB (x86: max(swiotlb + 8 MiB, 256 MiB); arm64: 128 MiB)"
		}
		return s
	case len(c.Ranges) > 0:
		if ram == 0 {
			return fmt.Sprintf("depends on RAM (%d ranges)", len(c.Ranges))
		}
		if n := c.For(ram); n > 0 {
			return fmt.Sprintf("reserves %s with %s of RAM", lxHuman(n), lxHuman(ram))
		}
		return fmt.Sprintf("reserves nothing with %s of RAM: no range holds it", lxHuman(ram))
	}
	s := "reserves " + lxHuman(c.Size)
	if c.Offset > 0 {
		s += " at " + lxMemSuffix(c.Offset)
	}
	return s
}

// lxParseMem reads a size as the kernel's memparse does: a number
// (decimal, or hex with 0x) and an optional K, M, G, T, P or E (powers of
// 1024, either case). rest is what follows.
func lxParseMem(s string) (n uint64, rest string, err error) {
	i := 0
	base := 10
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		base, i = 16, 2
	}
	j := i
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || base == 16 && strings.ContainsRune("abcdefABCDEF", rune(s[j]))) {
		j++
	}
	if j == i {
		return 0, s, fmt.Errorf("memory value expected in %q", s)
	}
	n, err = strconv.ParseUint(s[i:j], base, 64)
	if err != nil {
		return 0, s, err
	}
	if j < len(s) {
		shift := strings.IndexByte("KMGTPE", lxUpper(s[j]))
		if shift >= 0 {
			n <<= 10 * (shift + 1)
			j++
		}
	}
	return n, s[j:], nil
}

func lxUpper(b byte) byte {
	if b >= 'a' && b <= 'z' {
		return b - 'a' + 'A'
	}
	return b
}

// lxMemSuffix writes n the way crashkernel= and systemd sizes are
// written: the largest unit that divides it ("512M", "64G", "1536M").
func lxMemSuffix(n uint64) string {
	for _, u := range []struct {
		s     string
		shift uint
	}{{"E", 60}, {"P", 50}, {"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatUint(n>>u.shift, 10) + u.s
		}
	}
	return strconv.FormatUint(n, 10)
}

// lxHuman renders bytes for people: "256 MiB", "31.4 GiB".
func lxHuman(n uint64) string {
	if n == math.MaxUint64 {
		return "unlimited"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f %s", f, units[i])
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

// ---- makedumpfile ----

// Makedumpfile is what a makedumpfile command line asks for.
type Makedumpfile struct {
	DumpLevel   int    // -d; -1 when not given (makedumpfile then copies every page)
	Compression string // "zlib" (-c), "lzo" (-l), "snappy" (-p), "zstd" (-z); "" none
	Flattened   bool   // -F: flattened format, for raw and ssh targets
}

// ParseMakedumpfile reads makedumpfile options (MAKEDUMP_ARGS, or a
// kdump.conf core_collector with or without the program name).
func ParseMakedumpfile(args string) Makedumpfile {
	m := Makedumpfile{DumpLevel: -1}
	f := strings.Fields(args)
	for i := 0; i < len(f); i++ {
		t := f[i]
		switch {
		case t == "-d" || t == "--dump-level":
			if i+1 < len(f) {
				m.DumpLevel = lxFirstLevel(f[i+1])
				i++
			}
		case strings.HasPrefix(t, "-d") && !strings.HasPrefix(t, "--"):
			m.DumpLevel = lxFirstLevel(t[2:])
		case t == "--message-level" || t == "-L" || t == "--num-threads" || t == "-x" || t == "-i":
			i++ // these take a value
		case strings.HasPrefix(t, "-") && !strings.HasPrefix(t, "--"):
			for _, ch := range t[1:] {
				switch ch {
				case 'c':
					m.Compression = "zlib"
				case 'l':
					m.Compression = "lzo"
				case 'p':
					m.Compression = "snappy"
				case 'z':
					m.Compression = "zstd"
				case 'F':
					m.Flattened = true
				}
			}
		}
	}
	return m
}

// lxFirstLevel reads "31" or "11,31" (levels makedumpfile retries in
// turn): the first one is the level used unless the dump does not fit.
func lxFirstLevel(s string) int {
	first, _, _ := strings.Cut(s, ",")
	n, err := strconv.Atoi(first)
	if err != nil || n < 0 || n > 31 {
		return -1
	}
	return n
}

// DumpLevelText says which pages a makedumpfile dump level leaves out
// (makedumpfile(8), -d: 1 zero pages, 2 non-private cache, 4 all cache,
// 8 user process data, 16 free pages).
func DumpLevelText(level int) string {
	if level < 0 {
		return "no -d: every page is copied"
	}
	if level == 0 {
		return "0: every page is copied"
	}
	var out []string
	if level&1 != 0 {
		out = append(out, "zero pages")
	}
	switch {
	case level&4 != 0:
		out = append(out, "all page cache")
	case level&2 != 0:
		out = append(out, "non-private page cache")
	}
	if level&8 != 0 {
		out = append(out, "user process data")
	}
	if level&16 != 0 {
		out = append(out, "free pages")
	}
	s := fmt.Sprintf("%d: leaves out %s", level, strings.Join(out, ", "))
	if level&(4|8|16) == 4|8|16 {
		s += " (kernel memory only)"
	}
	return s
}

// ---- core_pattern ----

// CorePattern is /proc/sys/kernel/core_pattern, parsed (core(5),
// Documentation/admin-guide/sysctl/kernel.rst).
type CorePattern struct {
	Raw        string
	Pipe       bool            // "|program args": the core is piped to program
	Program    string          // the pipe's program (must be an absolute path)
	Args       []string        // the pipe's arguments, before expansion
	Specifiers []CoreSpecifier // in order of appearance
	HasPID     bool            // %p appears, so core_uses_pid adds nothing
}

// CoreSpecifier is one %x in a core_pattern.
type CoreSpecifier struct {
	Spec    string // "%p", "%%", "%q", "%" (a lone % at the end)
	Meaning string
	Dropped bool // not a specifier the kernel knows: it drops it
}

// lxCoreSpecs are the specifiers of core(5) and kernel.rst.
var lxCoreSpecs = map[byte]string{
	'%': "a single % character",
	'c': "core file size soft limit (RLIMIT_CORE) of the crashing process",
	'C': "CPU the task ran on",
	'd': "dump mode, as prctl(PR_GET_DUMPABLE) returns it (see fs.suid_dumpable)",
	'e': "the process or thread's comm value: usually the executable name, cut to 15 characters, but prctl can change it",
	'E': "pathname of the executable, with '/' replaced by '!'",
	'f': "executable filename",
	'F': "a pidfd for the crashing process (for pipe helpers)",
	'g': "numeric real GID of the process",
	'h': "hostname (uname nodename)",
	'i': "TID of the thread that triggered the dump, in its PID namespace",
	'I': "TID of that thread in the initial PID namespace",
	'p': "PID, as seen in the process's PID namespace",
	'P': "PID in the initial PID namespace",
	's': "number of the signal that caused the dump",
	't': "time of the dump, seconds since the Epoch",
	'u': "numeric real UID of the process",
}

// ParseCorePattern parses a core_pattern value.
func ParseCorePattern(s string) CorePattern {
	p := CorePattern{Raw: s}
	if rest, ok := strings.CutPrefix(s, "|"); ok {
		p.Pipe = true
		// Since Linux 5.3 the pipe is split on spaces before expansion.
		f := strings.Fields(rest)
		if len(f) > 0 && !strings.HasPrefix(rest, " ") {
			p.Program, p.Args = f[0], f[1:]
		} else if len(f) > 0 {
			p.Args = f // "| prog": the program must follow '|' at once
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+1 == len(s) {
			p.Specifiers = append(p.Specifiers, CoreSpecifier{Spec: "%", Meaning: "a lone % at the end: dropped", Dropped: true})
			break
		}
		ch := s[i+1]
		sp := CoreSpecifier{Spec: s[i : i+2]}
		if m, ok := lxCoreSpecs[ch]; ok {
			sp.Meaning = m
		} else {
			sp.Meaning = "not a specifier: dropped together with the %"
			sp.Dropped = true
		}
		if ch == 'p' {
			p.HasPID = true
		}
		p.Specifiers = append(p.Specifiers, sp)
		i++
	}
	return p
}

// CoreVars are values to expand a core_pattern with.
type CoreVars struct {
	PID, GlobalPID, TID, GlobalTID int
	UID, GID, Signal, Dumpable     int
	Time                           int64
	Host, Comm, Exe, Limit         string
	CPU, PidFD                     int
}

// ExampleCoreVars is a made-up crash, to show what a pattern produces.
var ExampleCoreVars = CoreVars{
	PID: 4242, GlobalPID: 4242, TID: 4243, GlobalTID: 4243, UID: 1000, GID: 1000, Signal: 11,
	Time: 1700000000, Host: "myhost", Comm: "myservice", Exe: "/usr/bin/myservice", Limit: "18446744073709551615",
	Dumpable: 1, CPU: 3, PidFD: 3,
}

// Expand is the file name (or, for a pipe, the command line) the kernel
// makes from the pattern for v. usesPID is core_uses_pid: with it set and
// no %p, a file pattern gets ".PID" appended.
func (p CorePattern) Expand(v CoreVars, usesPID bool) string {
	var b strings.Builder
	s := strings.TrimPrefix(p.Raw, "|")
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 == len(s) {
			break
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'c':
			b.WriteString(v.Limit)
		case 'C':
			b.WriteString(strconv.Itoa(v.CPU))
		case 'd':
			b.WriteString(strconv.Itoa(v.Dumpable))
		case 'e':
			b.WriteString(v.Comm)
		case 'E':
			b.WriteString(strings.ReplaceAll(v.Exe, "/", "!"))
		case 'f':
			b.WriteString(v.Exe[strings.LastIndexByte(v.Exe, '/')+1:])
		case 'F':
			b.WriteString(strconv.Itoa(v.PidFD))
		case 'g':
			b.WriteString(strconv.Itoa(v.GID))
		case 'h':
			b.WriteString(v.Host)
		case 'i':
			b.WriteString(strconv.Itoa(v.TID))
		case 'I':
			b.WriteString(strconv.Itoa(v.GlobalTID))
		case 'p':
			b.WriteString(strconv.Itoa(v.PID))
		case 'P':
			b.WriteString(strconv.Itoa(v.GlobalPID))
		case 's':
			b.WriteString(strconv.Itoa(v.Signal))
		case 't':
			b.WriteString(strconv.FormatInt(v.Time, 10))
		case 'u':
			b.WriteString(strconv.Itoa(v.UID))
		}
	}
	out := b.String()
	if p.Pipe {
		return "|" + out
	}
	if usesPID && !p.HasPID {
		out += "." + strconv.Itoa(v.PID)
	}
	return out
}

// Dir is where a file pattern writes: its directory when it names one
// ("/var/crash"), "" for a bare name (the crashing process's working
// directory) or a pipe.
func (p CorePattern) Dir() string {
	if p.Pipe {
		return ""
	}
	i := strings.LastIndexByte(p.Raw, '/')
	if i < 0 {
		return ""
	}
	if i == 0 {
		return "/"
	}
	return p.Raw[:i]
}

// ToSystemdCoredump says whether the pipe goes to systemd-coredump.
func (p CorePattern) ToSystemdCoredump() bool {
	return p.Pipe && strings.HasSuffix(p.Program, "/systemd-coredump")
}

// PassesLimit says whether the pipe hands the crashing process's
// RLIMIT_CORE (%c) to its program. systemd-coredump drops the core when
// that limit is below a page.
func (p CorePattern) PassesLimit() bool {
	for _, a := range p.Args {
		if strings.Contains(a, "%c") {
			return true
		}
	}
	return false
}

// explain says in a line what the pattern does.
func (p CorePattern) explain(usesPID bool) string {
	var s string
	switch {
	case p.Raw == "":
		return "empty: no core file is written"
	case p.ToSystemdCoredump():
		s = "piped to systemd-coredump (" + p.Program + "), which stores it per coredump.conf"
	case p.Pipe && p.Program == "":
		return "a pipe with no program right after '|': the kernel cannot run it"
	case p.Pipe:
		s = "piped to " + p.Program + " (runs as root in the initial namespaces; RLIMIT_CORE is not enforced)"
	case p.Dir() == "":
		s = "written to the crashing process's working directory as " + p.Expand(ExampleCoreVars, usesPID)
	default:
		s = "written as " + p.Expand(ExampleCoreVars, usesPID)
	}
	var specs []string
	for _, sp := range p.Specifiers {
		specs = append(specs, sp.Spec+" "+sp.Meaning)
	}
	if len(specs) > 0 {
		s += "; " + strings.Join(specs, "; ")
	}
	return s
}

// ---- systemd sizes ----

// ParseSystemdSize reads a size as coredump.conf takes it: bytes with an
// optional B, K, M, G, T, P or E suffix, powers of 1024, maybe with a
// fraction ("1.5G"); "infinity" is math.MaxUint64.
func ParseSystemdSize(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "infinity" {
		return math.MaxUint64, nil
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: no number", s)
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	unit := strings.TrimSpace(s[i:])
	mult := 1.0
	if unit != "" {
		shift := strings.IndexByte("BKMGTPE", lxUpper(unit[0]))
		if shift < 0 || len(unit) > 1 {
			return 0, fmt.Errorf("size %q: unknown unit %q", s, unit)
		}
		mult = math.Pow(1024, float64(shift))
	}
	return uint64(f * mult), nil
}

// The coredump.conf keys and their defaults (coredump.conf(5)).
var lxCoredumpKeys = []struct {
	key, def, valid, meaning string
}{
	{"Storage", "external", "none, external, journal",
		"where cores are kept: external is /var/lib/systemd/coredump; none only logs the crash"},
	{"Compress", "yes", "yes or no", "compress cores stored externally"},
	{"ProcessSizeMax", "32G on 64-bit, 1G on 32-bit (older systemd and Debian 12's template: 2G)",
		"a size (B, K, M, G, T, P, E; powers of 1024)",
		"largest core that is processed (backtrace); bigger ones may be stored but get no stack trace"},
	{"ExternalSizeMax", "32G on 64-bit, 1G on 32-bit (older systemd and Debian 12's template: 2G)",
		"a size, or infinity", "largest core stored in /var/lib/systemd/coredump; a bigger one is not kept"},
	{"JournalSizeMax", "767M (systemd 252's man page says 10M, its template 767M)",
		"a size", "largest core stored in the journal (Storage=journal)"},
	{"MaxUse", "10% of the file system", "a size; 0 turns size-based cleanup off",
		"old cores are removed once cores take more than this"},
	{"KeepFree", "15% of the file system", "a size; 0 turns size-based cleanup off",
		"old cores are removed to keep this much space free"},
}

// lxCoredumpDefault is the compiled-in default of a size key on a 64-bit
// machine (coredump.conf(5)); 0 for percentages and non-sizes.
func lxCoredumpDefault(key string) uint64 {
	switch key {
	case "ProcessSizeMax", "ExternalSizeMax":
		return 32 << 30
	case "JournalSizeMax":
		return 767 << 20
	}
	return 0
}

// CoredumpSize is a coredump.conf size in force (its default when unset;
// 0 when neither is a plain size).
func (c LinuxConfig) CoredumpSize(key string) uint64 {
	if v, ok := c.Coredump[key]; ok {
		if n, err := ParseSystemdSize(v.Value); err == nil {
			return n
		}
	}
	return lxCoredumpDefault(key)
}

// CoredumpValue is a coredump.conf value in force ("" when unset).
func (c LinuxConfig) CoredumpValue(key string) string {
	return c.Coredump[key].Value
}

// KdumpDir is where kdump writes vmcores: KDUMP_COREDIR (kdump-tools) or
// kdump.conf's path (relative to its target when one is set); /var/crash
// by default for both.
func (c LinuxConfig) KdumpDir() string {
	if d := c.KdumpToolsVars["KDUMP_COREDIR"]; d != "" && c.KdumpTools {
		return d
	}
	if c.KdumpConfPath != "" {
		return c.KdumpConfPath
	}
	return "/var/crash"
}

// KdumpArgs is the makedumpfile command kdump runs, parsed: kdump-tools'
// MAKEDUMP_ARGS (default "-c -d 31") or kdump.conf's core_collector
// (default "makedumpfile -l --message-level 7 -d 31" on RHEL 9).
func (c LinuxConfig) KdumpArgs() (args string, m Makedumpfile) {
	rhel := c.KdumpConf && !c.KdumpTools || !c.KdumpConf && !c.KdumpTools && DistroFamily(c.OSID, c.OSLike) == "rhel"
	switch {
	case rhel:
		args = c.CoreCollector
		if args == "" {
			args = "makedumpfile -l --message-level 7 -d 31"
		}
	default:
		args = c.KdumpToolsVars["MAKEDUMP_ARGS"]
		if args == "" {
			args = "-c -d 31"
		}
	}
	return args, ParseMakedumpfile(args)
}

// lxCollector is the makedumpfile command for args that may or may not
// name the program (MAKEDUMP_ARGS does not, core_collector does).
func lxCollector(args string) string {
	if f := strings.Fields(args); len(f) > 0 && !strings.HasPrefix(f[0], "-") {
		return args
	}
	return strings.TrimSpace("makedumpfile " + args)
}

// CoreDir is where process cores land: /var/lib/systemd/coredump for
// systemd-coredump, the pattern's directory for a file pattern, "" when
// unknown (a bare name goes to each process's working directory).
func (c LinuxConfig) CoreDir() string {
	if c.CorePattern.ToSystemdCoredump() {
		return "/var/lib/systemd/coredump"
	}
	return c.CorePattern.Dir()
}

// ---- settings ----

// LinuxSettings lists every crash-dump setting of a Linux machine, with
// what it holds and means. Settings of tools that are not installed are
// shown when the distribution uses them, so a planned machine shows what
// it will have.
func LinuxSettings(c LinuxConfig) []Setting {
	var out []Setting
	add := func(s Setting) { out = append(out, s) }
	unknown := func(known bool, v string) string {
		if !known {
			return "unknown"
		}
		return v
	}
	family := DistroFamily(c.OSID, c.OSLike)
	// The kernel matched crashkernel= ranges against the memory it had
	// before reserving the crash kernel's, which MemTotal no longer counts.
	ram := c.MemTotal + c.CrashSize
	if c.MemTotal == 0 {
		ram = 0
	}

	// The crash kernel.
	ck := Setting{Group: "kdump", Key: "crashkernel= (kernel command line)", Default: "none: no memory is reserved and kdump cannot work",
		Valid:  "size[KMG][@offset]; start-[end]:size[,...][@offset]; size,high with size,low; auto (RHEL 7/8)",
		Source: lxSrcKernelParam + ", " + lxSrcKdump}
	switch {
	case !c.CmdlineKnown:
		ck.Meaning = "unknown: /proc/cmdline was not read"
	case !c.CrashkernelSet:
		ck.Meaning = "not set: no memory is reserved for a crash kernel"
	case c.CrashkernelErr != "":
		ck.Set, ck.Value, ck.Meaning = true, c.Crashkernel.Raw, "does not parse: "+c.CrashkernelErr
	default:
		ck.Set, ck.Value = true, strings.TrimPrefix(c.Crashkernel.String(), "crashkernel=")
		ck.Meaning = c.Crashkernel.describe(ram)
	}
	add(ck)
	add(Setting{Group: "kdump", Key: "/sys/kernel/kexec_crash_size", Value: unknown(c.CrashSizeKnown, strconv.FormatUint(c.CrashSize, 10)),
		Set: c.CrashSizeKnown, Default: "0", Valid: "bytes; 0 when nothing is reserved",
		Meaning: lxIf(c.CrashSizeKnown, lxIf(c.CrashSize > 0, lxHuman(c.CrashSize)+" reserved for the crash kernel", "nothing reserved: a panic cannot be captured"), "unknown: not readable"),
		Source:  lxSrcSysfsKexec})
	add(Setting{Group: "kdump", Key: "/sys/kernel/kexec_crash_loaded", Value: unknown(c.CrashLoadedKnown, lxIf(c.CrashLoaded, "1", "0")),
		Set: c.CrashLoadedKnown, Default: "0", Valid: "0 or 1",
		Meaning: lxIf(c.CrashLoadedKnown, lxIf(c.CrashLoaded, "a crash kernel is loaded: a panic boots it", "no crash kernel loaded: a panic just reboots or hangs"), "unknown"),
		Source:  lxSrcSysfsKexec})
	svc := c.KdumpService
	if svc == "" {
		svc = lxIf(family == "rhel", "kdump.service", "kdump-tools.service")
	}
	add(Setting{Group: "kdump", Key: svc + " enabled", Value: lxIf(!c.Read, "unknown", lxIf(c.KdumpEnabled, "enabled", lxIf(c.KdumpService == "", "not installed", "disabled"))),
		Set: c.KdumpService != "", Default: "enabled when the package is installed (Debian asks)", Valid: "enabled, disabled",
		Meaning: "loads the crash kernel at boot (kdump-config load / kdumpctl start)",
		Source:  lxIf(family == "rhel", lxSrcKdumpConf, lxSrcKdumpTools)})

	if c.KdumpTools || family == "debian" {
		for _, k := range []struct{ key, def, valid, meaning string }{
			{"USE_KDUMP", "0 (not set: kdump-tools does nothing)", "0 or 1", "whether kdump-tools loads the crash kernel"},
			{"KDUMP_COREDIR", "/var/crash", "a directory", "where vmcores are saved, in dated subdirectories"},
			{"MAKEDUMP_ARGS", "-c -d 31 (kdump-config adds -F)", "makedumpfile(8) options", "how the vmcore is filtered and compressed"},
		} {
			v, set := c.KdumpToolsVars[k.key]
			m := k.meaning
			if k.key == "MAKEDUMP_ARGS" {
				args, md := c.KdumpArgs()
				m = fmt.Sprintf("%s: dump level %s; compression %s", lxCollector(args), DumpLevelText(md.DumpLevel), lxIf(md.Compression == "", "none", md.Compression))
			}
			add(Setting{Group: "kdump-tools", Key: "/etc/default/kdump-tools " + k.key, Value: v, Set: set, Default: k.def, Valid: k.valid, Meaning: m, Source: lxSrcKdumpTools})
		}
	}
	if c.KdumpConf || family == "rhel" {
		add(Setting{Group: "kdump.conf", Key: "/etc/kdump.conf path", Value: c.KdumpConfPath, Set: c.KdumpConfPath != "", Default: "/var/crash",
			Valid: "a directory (relative to the dump target when one is set)", Meaning: "vmcores go to " + c.KdumpDir() + "/<host>-<date>/",
			Source: lxSrcKdumpConf})
		args, md := c.KdumpArgs()
		add(Setting{Group: "kdump.conf", Key: "/etc/kdump.conf core_collector", Value: c.CoreCollector, Set: c.CoreCollector != "",
			Default: "makedumpfile -l --message-level 7 -d 31 (raw and ssh targets add -F)", Valid: "makedumpfile (or cp, scp) with its options",
			Meaning: fmt.Sprintf("%s: dump level %s; compression %s", lxCollector(args), DumpLevelText(md.DumpLevel), lxIf(md.Compression == "", "none", md.Compression)),
			Source:  lxSrcKdumpConf + ", " + lxSrcMakedump})
		if c.KdumpConfTarget != "" {
			add(Setting{Group: "kdump.conf", Key: "/etc/kdump.conf target", Value: c.KdumpConfTarget, Set: true, Default: "the file system holding path",
				Valid: "raw, nfs, ssh, or a file system type with a device", Meaning: "vmcores are written to this target", Source: lxSrcKdumpConf})
		}
	}

	// Process core dumps.
	cp := Setting{Group: "core dumps", Key: "kernel.core_pattern", Value: c.CorePattern.Raw, Set: c.CorePatternKnown, Default: "core",
		Valid:  "a file name template with % specifiers (at most 128 bytes), or |/absolute/program args",
		Source: lxSrcCore + ", " + lxSrcSysctlCore}
	cp.Meaning = lxIf(c.CorePatternKnown, c.CorePattern.explain(c.CoreUsesPID != 0), "unknown: /proc/sys/kernel/core_pattern was not read")
	add(cp)
	add(Setting{Group: "core dumps", Key: "kernel.core_uses_pid", Value: unknown(c.CoreUsesPIDKnown, strconv.Itoa(c.CoreUsesPID)), Set: c.CoreUsesPIDKnown,
		Default: "0", Valid: "0 or 1",
		Meaning: lxIf(c.CoreUsesPID != 0, lxIf(c.CorePattern.HasPID || c.CorePattern.Pipe, "1, but the pattern already has %p or is a pipe: nothing added", "1: .PID is appended to the core file name"), "0: nothing is appended"),
		Source:  lxSrcCore})
	add(Setting{Group: "core dumps", Key: "fs.suid_dumpable", Value: unknown(c.SuidDumpableKnown, strconv.Itoa(c.SuidDumpable)), Set: c.SuidDumpableKnown,
		Default: "0", Valid: "0 (off), 1 (debug), 2 (suidsafe)", Meaning: lxSuidMeaning(c.SuidDumpable, c.SuidDumpableKnown), Source: lxSrcSuid})
	add(Setting{Group: "core dumps", Key: "RLIMIT_CORE (ulimit -c) of this process", Value: lxIf(c.RlimitCoreKnown, lxLimit(c.RlimitCore)+" (hard "+lxLimit(c.RlimitCoreHard)+")", "unknown"),
		Set: c.RlimitCoreKnown, Default: "inherited; systemd's PID 1 sets infinity", Valid: "bytes or unlimited",
		Meaning: lxIf(c.RlimitCoreKnown && c.RlimitCore == 0, "0: a process started from here writes no core file (pipes are not limited by the kernel, but systemd-coredump honours it)", "processes started from here may dump up to this size"),
		Source:  lxSrcRlimit})
	dl := c.DefaultLimitCORE
	add(Setting{Group: "core dumps", Key: "DefaultLimitCORE= (systemd system.conf)", Value: dl.Value, Set: dl.Value != "",
		Default: "unset: services inherit infinity from PID 1", Valid: "a size, infinity, or soft:hard",
		Meaning: lxIf(dl.Value == "", "services get RLIMIT_CORE infinity unless a unit sets LimitCORE=", "services get RLIMIT_CORE "+dl.Value+" (set in "+dl.File+") unless a unit sets LimitCORE="),
		Source:  lxSrcSystemConf})
	add(Setting{Group: "core dumps", Key: "/proc/self/coredump_filter", Value: lxIf(c.CoredumpFilterKnown, fmt.Sprintf("%08x", c.CoredumpFilter), "unknown"),
		Set: c.CoredumpFilterKnown, Default: "00000033 (anonymous private and shared, ELF headers, private huge pages)", Valid: "a bit mask, bits 0-8",
		Meaning: lxFilterMeaning(c.CoredumpFilter, c.CoredumpFilterKnown), Source: lxSrcCore})

	// systemd-coredump.
	if c.SystemdCoredump || c.CorePattern.ToSystemdCoredump() || len(c.CoredumpFiles) > 0 || !c.Read {
		for _, k := range lxCoredumpKeys {
			v, set := c.Coredump[k.key]
			m := k.meaning
			if set {
				m += " (set in " + v.File + ")"
			}
			add(Setting{Group: "systemd-coredump", Key: "coredump.conf " + k.key, Value: v.Value, Set: set, Default: k.def, Valid: k.valid, Meaning: m, Source: lxSrcCoredumpCfg})
		}
	}
	return out
}

func lxIf(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func lxLimit(n uint64) string {
	if n == math.MaxUint64 {
		return "unlimited"
	}
	return lxHuman(n)
}

func lxSuidMeaning(v int, known bool) string {
	switch {
	case !known:
		return "unknown"
	case v == 0:
		return "0: processes that changed credentials or run set-user-ID binaries do not dump core"
	case v == 1:
		return "1 (debug): everything dumps, owned by the dumping user: insecure"
	case v == 2:
		return "2 (suidsafe): such processes dump, readable by root only; core_pattern must be absolute or a pipe"
	}
	return strconv.Itoa(v) + ": not a documented value"
}

func lxFilterMeaning(v uint64, known bool) string {
	if !known {
		return "unknown"
	}
	bits := []string{"anonymous private", "anonymous shared", "file-backed private", "file-backed shared",
		"ELF headers", "private huge pages", "shared huge pages", "private DAX", "shared DAX"}
	var on []string
	for i, b := range bits {
		if v&(1<<i) != 0 {
			on = append(on, b)
		}
	}
	if len(on) == 0 {
		return "nothing is dumped but the vDSO"
	}
	return "dumps " + strings.Join(on, ", ")
}
