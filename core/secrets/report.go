package secrets

import (
	"fmt"
	"strconv"
	"strings"
)

// Summary says in one line what was scanned and what was found, as the
// CLI and the workbench print it: "Scanned 12.0 MiB of process memory in
// 40 region(s): 3 secret(s) found".
func (r *Report) Summary() string {
	var b strings.Builder
	switch {
	case r.Regions == 0:
		b.WriteString("This dump holds no memory: nothing was scanned")
	case r.Scanned == 0:
		b.WriteString("None of the memory could be read: nothing was scanned")
	default:
		fmt.Fprintf(&b, "Scanned %s of %s in %d region(s)", FormatBytes(r.Scanned), r.Space, r.Regions)
		if r.Unreadable > 0 {
			fmt.Fprintf(&b, " (%s could not be read)", FormatBytes(r.Unreadable))
		}
		if r.Total == 0 {
			b.WriteString(": no secrets found")
		} else {
			fmt.Fprintf(&b, ": %d secret(s) found", r.Total)
		}
	}
	if !r.Complete {
		b.WriteString("; the scan did not finish, this is partial")
	}
	return b.String()
}

// CountsLine lists the counts per kind in Kinds order: "2 jwt, 1 aws-access-key".
func (r *Report) CountsLine() string {
	var parts []string
	for _, k := range Kinds() {
		if n := r.Counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

// Printable keeps a value on one line: a PEM block's newlines and any
// control characters are escaped, Go style.
func Printable(v string) string {
	for _, c := range v {
		if c < ' ' || c == 0x7f {
			q := strconv.Quote(v)
			return q[1 : len(q)-1]
		}
	}
	return v
}

// FormatBytes formats a byte count for people: "4.0 MiB".
func FormatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Where names the module and region holding the secret, and its encoding
// when it is not ASCII: "app.exe, stack (utf-16le)"; empty when unknown.
func (f Finding) Where() string {
	var parts []string
	for _, p := range []string{f.Module, f.Region} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	w := strings.Join(parts, ", ")
	if f.Encoding != ASCII && f.Encoding != "" {
		w = strings.TrimSpace(w + " (" + string(f.Encoding) + ")")
	}
	return w
}
