package crashcfg

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unicode"
)

// Config is one machine's crash-dump configuration, whatever its OS: the
// CLI and the wizard work through it.
type Config struct {
	OS      OS
	Windows *WindowsConfig
	Linux   *LinuxConfig
	FreeBSD *FreeBSDConfig
}

// ThisOS is the OS the helpers run on, or "" for one they do not know.
func ThisOS() OS {
	switch runtime.GOOS {
	case "windows":
		return Windows
	case "linux":
		return Linux
	case "freebsd":
		return FreeBSD
	}
	return ""
}

// ReadThis reads the configuration of the machine we run on; root is the
// filesystem root for Linux and FreeBSD ("/", or a copy of a machine's
// files).
func ReadThis(root string) (Config, Machine, error) {
	switch ThisOS() {
	case Windows:
		c, m, err := ReadWindows()
		return Config{OS: Windows, Windows: &c}, m, err
	case Linux:
		c, m, err := ReadLinux(root)
		return Config{OS: Linux, Linux: &c}, m, err
	case FreeBSD:
		c, m, err := ReadFreeBSD(root, FreeBSDSysctl)
		return Config{OS: FreeBSD, FreeBSD: &c}, m, err
	}
	return Config{}, Machine{}, fmt.Errorf("crashcfg: %s is not Windows, Linux or FreeBSD", runtime.GOOS)
}

// Planned is the configuration of a machine that is not this one: every
// setting at its default, for planning from what the user entered.
func Planned(o OS) (Config, error) {
	switch o {
	case Windows:
		return Config{OS: o, Windows: &WindowsConfig{}}, nil
	case Linux:
		return Config{OS: o, Linux: &LinuxConfig{}}, nil
	case FreeBSD:
		return Config{OS: o, FreeBSD: &FreeBSDConfig{}}, nil
	}
	return Config{}, fmt.Errorf("crashcfg: unknown OS %q (windows, linux or freebsd)", o)
}

// Settings lists every crash-dump setting with its value and meaning.
func (c Config) Settings() []Setting {
	switch {
	case c.Windows != nil:
		return WindowsSettings(*c.Windows)
	case c.Linux != nil:
		return LinuxSettings(*c.Linux)
	case c.FreeBSD != nil:
		return FreeBSDSettings(*c.FreeBSD)
	}
	return nil
}

// Plan recommends the change for goal g on machine m.
func (c Config) Plan(m Machine, g Goal) (Plan, error) {
	switch {
	case c.Windows != nil:
		return PlanWindows(m, *c.Windows, g)
	case c.Linux != nil:
		return PlanLinux(m, *c.Linux, g)
	case c.FreeBSD != nil:
		return PlanFreeBSD(m, *c.FreeBSD, g)
	}
	return Plan{}, fmt.Errorf("crashcfg: no configuration")
}

// Check runs the preflight: will the next crash be captured?
func (c Config) Check(m Machine) []Check {
	switch {
	case c.Windows != nil:
		return CheckWindows(m, *c.Windows)
	case c.Linux != nil:
		return CheckLinux(m, *c.Linux)
	case c.FreeBSD != nil:
		return CheckFreeBSD(m, *c.FreeBSD)
	}
	return nil
}

// ParseSize reads a size as people write it: "64GiB", "64G", "512 MB",
// "1.5T", or plain bytes. K, M, G and T are binary (1024-based), as RAM
// and crashkernel= sizes are.
func ParseSize(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToUpper(strings.TrimSpace(s[i:]))
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q: want a number with K, M, G or T", s)
	}
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I")
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}
	sh, ok := shift[unit]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit", s)
	}
	return uint64(v * float64(uint64(1)<<sh)), nil
}

// FormatSize writes bytes the way ParseSize reads them, e.g. "64 GiB".
func FormatSize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), units[u])
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}
