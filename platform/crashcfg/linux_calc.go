package crashcfg

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sources of the distribution tables.
const (
	lxSrcRHEL8  = "https://docs.redhat.com/en/documentation/red_hat_enterprise_linux/8/html/managing_monitoring_and_updating_the_kernel/supported-kdump-configurations-and-targets_managing-monitoring-and-updating-the-kernel (Memory requirements for kdump)"
	lxSrcRHEL9  = "https://docs.redhat.com/en/documentation/red_hat_enterprise_linux/9/html/managing_monitoring_and_updating_the_kernel/supported-kdump-configurations-and-targets_managing-monitoring-and-updating-the-kernel (Memory requirements for kdump)"
	lxSrcRHEL10 = "https://docs.redhat.com/en/documentation/red_hat_enterprise_linux/10/html/managing_monitoring_and_updating_the_kernel/supported-kdump-configurations-and-targets (Memory requirements for kdump)"
	lxSrcDebian = "Debian kdump-tools 1:1.8.1 (bookworm), /etc/default/grub.d/kdump-tools.cfg, https://packages.debian.org/bookworm/kdump-tools"
	lxSrcUbuntu = "https://documentation.ubuntu.com/server/how-to/software/kernel-crash-dump/ (Verification: crashkernel=)"
	lxSrcVmcore = "Red Hat, Predicting Vmcore Size, https://access.redhat.com/articles/5676371"
	lxSrcRHELCL = "https://docs.redhat.com/en/documentation/red_hat_enterprise_linux/9/html/managing_monitoring_and_updating_the_kernel/configuring-kdump-on-the-command-line_managing-monitoring-and-updating-the-kernel (kdumpctl estimate, grubby)"
)

// lxCKRow is a distribution's default crashkernel= on an architecture.
type lxCKRow struct {
	distro string // "rhel", "debian", "ubuntu"
	major  int    // release major; 0 for every release
	arch   string // Go arch; "" for every architecture
	value  string
	source string
	note   string
}

// lxCKTable holds the defaults the distributions document. Rocky, Alma,
// CentOS and Oracle Linux ship Red Hat's kexec-tools and use its rows.
var lxCKTable = []lxCKRow{
	{"rhel", 8, "amd64", "1G-4G:192M,4G-64G:256M,64G-:512M", lxSrcRHEL8, "RHEL 8 kernels also take crashkernel=auto, which older RHEL 8 releases used"},
	{"rhel", 8, "s390x", "1G-4G:192M,4G-64G:256M,64G-:512M", lxSrcRHEL8, "the documented table for IBM Z is cut in the copy read; this is kexec-tools' kdump-lib.sh value for x86_64 and s390x"},
	{"rhel", 8, "arm64", "2G-:480M", lxSrcRHEL8, "older kexec-tools releases used 448M"},
	{"rhel", 8, "ppc64le", "2G-4G:384M,4G-16G:512M,16G-64G:1G,64G-128G:2G,128G-:4G", lxSrcRHEL8, "firmware-assisted dump (fadump) needs more"},
	{"rhel", 9, "amd64", "1G-4G:192M,4G-64G:256M,64G-:512M", lxSrcRHEL9, "crashkernel=auto is not supported from RHEL 9 on"},
	{"rhel", 9, "s390x", "1G-4G:192M,4G-64G:256M,64G-:512M", lxSrcRHEL9, "kexec-tools' kdump-lib.sh gives x86_64 and s390x the same value"},
	{"rhel", 9, "arm64", "1G-4G:256M,4G-64G:320M,64G-:576M", lxSrcRHEL9, "for 4k-page kernels; 64k-page kernels (kernel-64k) need 1G-4G:356M,4G-64G:420M,64G-:676M"},
	{"rhel", 9, "ppc64le", "2G-4G:384M,4G-16G:512M,16G-64G:1G,64G-128G:2G,128G-:4G", lxSrcRHEL9, "firmware-assisted dump (fadump) needs more"},
	{"rhel", 10, "amd64", "2G-64G:256M,64G-:512M", lxSrcRHEL10, "kdump-utils adds 64M when AMD SME/SEV is active"},
	{"rhel", 10, "s390x", "2G-64G:256M,64G-:512M", lxSrcRHEL10, "kdump-utils' kdump-lib.sh gives x86_64 and s390x the same value"},
	{"rhel", 10, "arm64", "1G-4G:256M,4G-64G:320M,64G-:576M", lxSrcRHEL10, "for 4k-page kernels (64k: 1G-4G:356M,4G-64G:420M,64G-:676M); kdump-utils' code starts the first range at 2G, the documentation at 1G"},
	{"rhel", 10, "ppc64le", "2G-4G:384M,4G-16G:512M,16G-64G:1G,64G-128G:2G,128G-:4G", lxSrcRHEL10, "firmware-assisted dump (fadump) needs more"},
	{"debian", 0, "amd64", "384M-:128M", lxSrcDebian, "if the capture kernel runs out of memory, raise it (Ubuntu's documentation suggests 384M-:512M)"},
	{"ubuntu", 0, "", "2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M", lxSrcUbuntu, "the table the current Ubuntu Server documentation shows; older releases shipped smaller values (check /etc/default/grub.d/kdump-tools.cfg); ppc64el has its own recommendation"},
}

// lxRelease splits Machine.Release ("rhel 9.4", "debian 12") into the
// distribution and the major version.
func lxRelease(release string) (distro string, major int) {
	id, ver, _ := strings.Cut(strings.ToLower(strings.TrimSpace(release)), " ")
	maj, _, _ := strings.Cut(strings.TrimSpace(ver), ".")
	major, _ = strconv.Atoi(maj)
	return id, major
}

// lxCKLookup finds the table row for m. exact is false when the row is a
// stand-in: another release or distribution's value.
func lxCKLookup(m Machine) (row lxCKRow, exact bool, why string) {
	id, major := lxRelease(m.Release)
	arch := lxGoArch(m.Arch)
	if arch == "" {
		arch = "amd64"
	}
	distro := id
	switch {
	case id == "rhel" || id == "redhat":
		distro = "rhel"
	case DistroFamily(id, "") == "rhel" && id != "fedora":
		distro, why = "rhel", fmt.Sprintf("%s uses Red Hat's kexec-tools: its RHEL %d row", id, major)
	case DistroFamily(id, "") == "debian" && id != "ubuntu":
		distro = "debian"
	}
	find := func(d string, maj int) (lxCKRow, bool) {
		for _, r := range lxCKTable {
			if r.distro == d && (r.major == 0 || r.major == maj) && (r.arch == "" || r.arch == arch) {
				return r, true
			}
		}
		return lxCKRow{}, false
	}
	if r, ok := find(distro, major); ok {
		return r, true, why
	}
	// Fedora and releases without a row follow upstream kdump-utils,
	// RHEL 10's value; an architecture without a row gets amd64's.
	r, ok := find("rhel", 10)
	if !ok {
		arch = "amd64"
		r, _ = find("rhel", 10)
	}
	return r, false, fmt.Sprintf("no documented default for %q on %s: Red Hat's RHEL 10 value for %s is a starting point", m.Release, lxGoArch(m.Arch), r.arch)
}

// CrashkernelValue is the crashkernel= value the plan writes for m: its
// distribution's documented default (see CrashkernelFor).
func CrashkernelValue(m Machine) string {
	r, _, _ := lxCKLookup(m)
	return r.value
}

// CrashkernelFor is how much memory to reserve for the crash kernel on m,
// from the distribution's documented default crashkernel= for its release
// and architecture (Red Hat's tables for RHEL 8, 9 and 10; Debian's
// kdump-tools; Ubuntu's documentation). On RHEL-like machines kdumpctl
// estimate, run on the machine itself, is more accurate: it measures the
// kernel, initramfs and modules. The kernel matches ranges against the
// memory it sees, a little less than what is installed, so a machine with
// exactly 32 GiB may fall in the range below 32G.
func CrashkernelFor(m Machine) Estimate {
	r, exact, why := lxCKLookup(m)
	ck, _ := ParseCrashkernel(r.value)
	n := ck.For(m.RAM)
	e := Estimate{Bytes: n, Estimate: !exact, Source: r.source}
	label := map[string]string{"rhel": "RHEL", "debian": "Debian kdump-tools", "ubuntu": "Ubuntu"}[r.distro]
	if r.major > 0 {
		label += " " + strconv.Itoa(r.major)
	}
	if r.arch != "" {
		label += " (" + r.arch + ")"
	}
	if n > 0 {
		e.Basis = fmt.Sprintf("%s default crashkernel=%s: %s of RAM reserves %s", label, r.value, lxHuman(m.RAM), lxHuman(n))
	} else {
		e.Basis = fmt.Sprintf("%s default crashkernel=%s reserves nothing with %s of RAM: no range holds it, so kdump cannot work there", label, r.value, lxHuman(m.RAM))
	}
	if why != "" {
		e.Basis += " (" + why + ")"
	}
	if r.note != "" {
		e.Basis += "; " + r.note
	}
	if DistroFamily(m.Release, "") == "rhel" {
		e.Basis += "; kdumpctl estimate on the machine is more accurate"
		e.Source += "; " + lxSrcRHELCL
	}
	return e
}

// KdumpctlEstimate says whether the machine at root has kdumpctl, whose
// "estimate" command is Red Hat's preferred way to size crashkernel= (it
// must run as root on that machine). It returns the command to run.
func KdumpctlEstimate(root string) (string, bool) {
	r := lxReader{root: root}
	if r.exists("/usr/bin/kdumpctl") || r.exists("/usr/sbin/kdumpctl") {
		return "kdumpctl estimate", true
	}
	return "", false
}

// VmcoreSize estimates a vmcore's size for ram bytes of memory at a
// makedumpfile dump level, uncompressed. Level 0 copies every page, so the
// vmcore is RAM. Levels that leave out page cache, user data and free
// pages (31 is the default everywhere) keep only kernel memory: Red Hat's
// review of over 1500 vmcores found -d 31 dumps often under 10% of RAM,
// the figure used here, an estimate. For other levels what they save
// depends on what memory held, so RAM is the only safe figure.
func VmcoreSize(ram uint64, dumpLevel int) Estimate {
	e := Estimate{Source: lxSrcMakedump + "; " + lxSrcVmcore}
	switch {
	case dumpLevel <= 0:
		e.Bytes = ram
		e.Basis = fmt.Sprintf("dump level %d copies every page: the vmcore is the size of RAM, %s (compression makes it smaller)", max(dumpLevel, 0), lxHuman(ram))
	case dumpLevel&(4|8|16) == 4|8|16:
		e.Bytes, e.Estimate = ram/10, true
		e.Basis = fmt.Sprintf("dump level %d keeps kernel memory only; Red Hat found -d 31 vmcores often under 10%% of RAM: about %s of %s (an estimate: a kernel memory leak makes it bigger)", dumpLevel, lxHuman(ram/10), lxHuman(ram))
	default:
		e.Bytes, e.Estimate = ram, true
		e.Basis = fmt.Sprintf("dump level %s; what it saves depends on the memory's contents, so up to RAM, %s", DumpLevelText(dumpLevel), lxHuman(ram))
	}
	return e
}

// VmcoreSpace is the free space Red Hat recommends at the kdump target:
// 50% of RAM below 500 GB of RAM (room for five -d 31 vmcores of 10%),
// 30% above. Only free space of at least RAM is sure to hold any vmcore.
func VmcoreSpace(ram uint64) Estimate {
	e := Estimate{Estimate: true, Source: lxSrcVmcore}
	if ram < 500<<30 {
		e.Bytes = ram / 2
		e.Basis = fmt.Sprintf("Red Hat's best practice below 500 GB of RAM: 50%% of RAM (five vmcores of about 10%%), %s; only %s (RAM) is sure to hold any vmcore", lxHuman(e.Bytes), lxHuman(ram))
	} else {
		e.Bytes = ram / 10 * 3
		e.Basis = fmt.Sprintf("Red Hat's best practice above 500 GB of RAM: 30%% of RAM (three vmcores of about 10%%), %s; only %s (RAM) is sure to hold any vmcore", lxHuman(e.Bytes), lxHuman(ram))
	}
	return e
}

// lxDefaultMBps is the disk speed assumed when it is unknown: the same
// figure the Windows calculator assumes (an HDD in Microsoft's table).
const lxDefaultMBps = 100

// lxWriteTime is how long writing n bytes takes at mbps MB/s (MB =
// 2^20 bytes); with mbps <= 0 it assumes lxDefaultMBps. It returns the
// speed it used and whether it was assumed.
func lxWriteTime(n uint64, mbps float64) (time.Duration, string) {
	basis := fmt.Sprintf("write time at the disk's %g MB/s", mbps)
	if mbps <= 0 {
		mbps = lxDefaultMBps
		basis = fmt.Sprintf("write time at an assumed %d MB/s (disk speed unknown)", lxDefaultMBps)
	}
	d := time.Duration(float64(n) / (mbps * (1 << 20)) * float64(time.Second))
	return d.Round(time.Second), basis
}
