package fbsd

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/model"
)

var _ model.LogReader = (*File)(nil)

// The message-buffer section is the kernel's struct msgbuf ring
// (sys/kern/subr_msgbuf.c) as minidumpsys writes it: the msg_size bytes at
// msgbufp->msg_ptr, the header's msgbufsize. The struct itself, with the
// msg_wseq/msg_rseq sequence numbers that say where the ring starts, is not
// in the section (dmesg -M and kgdb read it through the kernel symbol
// msgbufp instead), so the write position is inferred:
//
//   - A ring that has not wrapped still holds the zeros msgbuf_init cleared
//     it with after its text: the oldest byte is the one after the longest
//     run of NULs (circularly), and NULs are dropped, as dmesg does.
//   - A full ring has no NULs. Its newest text is the one minidumpsys
//     printed just before writing the section, "Dumping N out of M MB:"
//     (no newline yet), so the ring starts right after that message; when
//     it occurs more than once (a retried dump) the one not followed by
//     progress dots or a newline is taken.
//   - Otherwise the ring is shown in storage order from offset 0, and its
//     first and last lines may be two halves of one.
//
// Lines that log(9) prefixed with a kernel-facility syslog priority ("<6>")
// lose the prefix, as in dmesg; other priorities are kept verbatim.

var dumpingRE = regexp.MustCompile(`Dumping [0-9]+ out of [0-9]+ MB:`)

// MessageBuffer returns the kernel message buffer's text, oldest first (see
// the ordering rule above). A section cut short by the end of the file
// yields the bytes present and a *FormatError.
func (f *File) MessageBuffer() (string, error) {
	if f.lay == nil {
		return "", &FormatError{Off: 0, What: fmt.Sprintf("message buffer of %q minidumps", f.magic), Err: ErrUnsupported}
	}
	off, _, _, _, _ := f.sections()
	raw := f.readSection(off, uint64(f.hdr.msgbufsize))
	var err error
	if uint64(len(raw)) < uint64(f.hdr.msgbufsize) {
		err = &FormatError{Off: int64(off) + int64(len(raw)), What: fmt.Sprintf("message buffer (%#x of %#x bytes present)", len(raw), f.hdr.msgbufsize), Err: io.ErrUnexpectedEOF}
	}
	return unwrapRing(raw), err
}

// unwrapRing orders the ring's bytes oldest first and drops NULs.
func unwrapRing(raw []byte) string {
	n := len(raw)
	start := 0
	if bytes.IndexByte(raw, 0) >= 0 {
		// The end of the longest run of NULs, circularly.
		best, run := -1, 0
		for i := 0; i < 2*n; i++ {
			if raw[i%n] == 0 {
				run++
				if run > best && run <= n {
					best, start = run, (i+1)%n
				}
			} else {
				run = 0
			}
		}
	} else if n > 0 {
		doubled := append(raw[:n:n], raw...)
		good, any := -1, -1
		for _, m := range dumpingRE.FindAllIndex(doubled, -1) {
			if m[0] >= n {
				break
			}
			end := m[1] % n
			any = end
			if next := raw[end]; next != '.' && next != '\n' {
				good = end
			}
		}
		if good >= 0 {
			start = good
		} else if any >= 0 {
			start = any
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, part := range [][]byte{raw[start:], raw[:start]} {
		for _, c := range part {
			if c != 0 {
				b.WriteByte(c)
			}
		}
	}
	return stripPriorities(b.String())
}

// stripPriorities removes "<N>" prefixes of kernel facility (N < 8) at the
// start of lines.
func stripPriorities(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if len(l) < 3 || l[0] != '<' {
			continue
		}
		end := strings.IndexByte(l, '>')
		if end < 2 || end > 4 {
			continue
		}
		if pri, err := strconv.Atoi(l[1:end]); err == nil && pri >= 0 && pri < 8 {
			lines[i] = l[end+1:]
		}
	}
	return strings.Join(lines, "")
}

// Log returns the message buffer split into lines (without their
// newlines; invalid UTF-8 replaced). The error is MessageBuffer's.
func (f *File) Log() ([]string, error) {
	text, err := f.MessageBuffer()
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil, err
	}
	return strings.Split(text, "\n"), err
}

// PanicString returns the message of the last "panic: ..." line of the
// log, without the "panic: " prefix (what the kernel's panicstr held), or
// "" when the log has none.
func (f *File) PanicString() string {
	lines, _ := f.Log()
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if msg, ok := strings.CutPrefix(l, "panic: "); ok {
			return strings.TrimSpace(msg)
		}
	}
	return ""
}
