package linux

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// LogRecord is one record of the kernel log.
type LogRecord struct {
	Seq      uint64 // sequence number (printk_info.seq; the index for log_buf)
	TS       uint64 // nanoseconds since boot (local_clock)
	CallerID uint32 // printk_info.caller_id: 0x80000000|cpu or the task's pid; 0 if absent
	Text     []byte // the message without its prefix; may hold '\n'
	// Subsystem and Device are printk_info.dev_info (dev_printk and
	// friends: "pci", "+pci:0000:00:01.0"); empty for plain printk.
	Subsystem, Device string
}

// Lines formats the record as makedumpfile --dump-dmesg does: the first
// line is "[%5d.%06d] text"; each '\n' inside the text starts a new line
// indented by the width of that prefix.
func (r LogRecord) Lines() []string {
	prefix := fmt.Sprintf("[%5d.%06d] ", r.TS/1e9, r.TS%1e9/1000)
	var out []string
	line := []byte(prefix)
	text := r.Text
	for len(text) > 0 {
		c := text[0]
		switch {
		case c == '\n':
			out = append(out, string(line))
			line = bytes.Repeat([]byte{' '}, len(prefix))
			text = text[1:]
			continue
		case c >= 0x20 && c < 0x7f, c == '\t', c == '\v', c == '\f', c == '\r':
			line = append(line, c)
		case c >= 0x80:
			// UTF-8 passes through as dmesg prints it; broken bytes are escaped.
			if ru, n := utf8.DecodeRune(text); ru != utf8.RuneError || n > 1 {
				line = append(line, text[:n]...)
				text = text[n:]
				continue
			}
			line = append(line, fmt.Sprintf("\\x%02x", c)...)
		default:
			line = append(line, fmt.Sprintf("\\x%02x", c)...)
		}
		text = text[1:]
	}
	return append(out, string(line))
}

// Limits on the log structures, far above what kernels allow
// (CONFIG_LOG_BUF_SHIFT <= 25, log_buf_len= up to a few hundred MiB).
const (
	maxDescBits  = 22
	maxDataBits  = 28
	maxStructLen = 1 << 12
	// maxBadRecords unreadable descriptors with no good one end the walk.
	maxBadRecords = 1024
)

// Log returns the kernel log formatted as makedumpfile --dump-dmesg prints
// it (see LogRecord.Lines). It implements model.LogReader. When the log is
// damaged part-way it returns the lines read so far with the error.
func (k *Kernel) Log() ([]string, error) {
	recs, err := k.LogRecords()
	var out []string
	for _, r := range recs {
		out = append(out, r.Lines()...)
	}
	return out, err
}

// LogRecords returns the records of the kernel log, oldest first: from the
// lockless printk ring buffer (Linux 5.10 and later, SYMBOL(prb)) or from
// the variable-length record buffer of Linux 3.5 to 5.9 (SYMBOL(log_buf)
// with SIZE(printk_log) or SIZE(log)).
func (k *Kernel) LogRecords() ([]LogRecord, error) {
	if _, ok := k.Symbol("prb"); ok {
		return k.prbRecords()
	}
	if _, ok := k.Symbol("log_buf"); ok {
		return k.logBufRecords()
	}
	return nil, errors.New("linux: VMCOREINFO has neither SYMBOL(prb) nor SYMBOL(log_buf): no kernel log")
}

// vi returns the VMCOREINFO numbers named by keys ("OFFSET(x.y)",
// "SIZE(x)"), or an error naming the first missing one.
func (k *Kernel) vi(keys ...string) ([]uint64, error) {
	out := make([]uint64, len(keys))
	for i, key := range keys {
		s, ok := k.info[key]
		if !ok {
			return nil, fmt.Errorf("linux: VMCOREINFO lacks %s", key)
		}
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 || v > maxStructLen {
			return nil, fmt.Errorf("linux: VMCOREINFO %s=%q is not a plausible offset or size", key, s)
		}
		out[i] = uint64(v)
	}
	return out, nil
}

// Descriptor states (kernel/printk/printk_ringbuffer.h).
const (
	descCommitted = 1
	descFinalized = 2
	idMask        = 1<<62 - 1 // DESC_ID_MASK for a 64-bit long
	emptyLineLpos = 0x3       // EMPTY_LINE_LPOS (Linux 6.10+): an empty line with no data block
)

// prbRecords reads the lockless ring buffer: the descriptors from tail_id
// to head_id, keeping those committed or finalized, each with its
// printk_info and its text block.
func (k *Kernel) prbRecords() ([]LogRecord, error) {
	prbSym, _ := k.Symbol("prb")
	o, err := k.vi(
		"SIZE(printk_ringbuffer)", "OFFSET(printk_ringbuffer.desc_ring)", "OFFSET(printk_ringbuffer.text_data_ring)",
		"OFFSET(prb_desc_ring.count_bits)", "OFFSET(prb_desc_ring.descs)", "OFFSET(prb_desc_ring.infos)",
		"OFFSET(prb_desc_ring.head_id)", "OFFSET(prb_desc_ring.tail_id)",
		"OFFSET(prb_data_ring.size_bits)", "OFFSET(prb_data_ring.data)",
		"SIZE(prb_desc)", "OFFSET(prb_desc.state_var)", "OFFSET(prb_desc.text_blk_lpos)",
		"OFFSET(prb_data_blk_lpos.begin)", "OFFSET(prb_data_blk_lpos.next)",
		"SIZE(printk_info)", "OFFSET(printk_info.seq)", "OFFSET(printk_info.ts_nsec)", "OFFSET(printk_info.text_len)",
	)
	if err != nil {
		return nil, err
	}
	rbSize, dr, tr := o[0], o[1], o[2]
	countBitsOff, descsOff, infosOff, headOff, tailOff := o[3], o[4], o[5], o[6], o[7]
	sizeBitsOff, dataOff := o[8], o[9]
	descSize, svOff, lposOff, beginOff, nextOff := o[10], o[11], o[12], o[13], o[14]
	infoSize, seqOff, tsOff, lenOff := o[15], o[16], o[17], o[18]
	callerOff, hasCaller := k.Offset("printk_info.caller_id")
	dev := k.devInfoLayout(infoSize)

	check := func(what string, off, n, size uint64) error {
		if off+n > size {
			return fmt.Errorf("linux: VMCOREINFO offset of %s (%d) lies outside its structure (%d bytes)", what, off, size)
		}
		return nil
	}
	for _, c := range []struct {
		what      string
		off, n, s uint64
	}{
		{"desc_ring.count_bits", dr + countBitsOff, 4, rbSize}, {"desc_ring.descs", dr + descsOff, 8, rbSize},
		{"desc_ring.infos", dr + infosOff, 8, rbSize}, {"desc_ring.head_id", dr + headOff, 8, rbSize},
		{"desc_ring.tail_id", dr + tailOff, 8, rbSize}, {"text_data_ring.size_bits", tr + sizeBitsOff, 4, rbSize},
		{"text_data_ring.data", tr + dataOff, 8, rbSize}, {"prb_desc.state_var", svOff, 8, descSize},
		{"prb_desc.text_blk_lpos.begin", lposOff + beginOff, 8, descSize}, {"prb_desc.text_blk_lpos.next", lposOff + nextOff, 8, descSize},
		{"printk_info.seq", seqOff, 8, infoSize}, {"printk_info.ts_nsec", tsOff, 8, infoSize}, {"printk_info.text_len", lenOff, 2, infoSize},
	} {
		if err := check(c.what, c.off, c.n, c.s); err != nil {
			return nil, err
		}
	}
	if hasCaller && (callerOff < 0 || uint64(callerOff)+4 > infoSize) {
		hasCaller = false
	}

	prb, err := k.u64(prbSym)
	if err != nil {
		return nil, fmt.Errorf("linux: reading the prb pointer at %#x: %w", prbSym, err)
	}
	rb, err := k.readBytes(prb, rbSize, maxStructLen, "struct printk_ringbuffer")
	if err != nil {
		return nil, err
	}
	countBits := le.Uint32(rb[dr+countBitsOff:])
	sizeBits := le.Uint32(rb[tr+sizeBitsOff:])
	if countBits > maxDescBits || sizeBits > maxDataBits || sizeBits < 3 {
		return nil, fmt.Errorf("linux: printk ring buffer with 2^%d descriptors and 2^%d data bytes is implausible", countBits, sizeBits)
	}
	count, dsize := uint64(1)<<countBits, uint64(1)<<sizeBits
	descs, infos := le.Uint64(rb[dr+descsOff:]), le.Uint64(rb[dr+infosOff:])
	data := le.Uint64(rb[tr+dataOff:])
	head, tail := le.Uint64(rb[dr+headOff:])&idMask, le.Uint64(rb[dr+tailOff:])&idMask
	if (head-tail)&idMask >= count {
		return nil, fmt.Errorf("linux: printk ring buffer tail id %#x and head id %#x are more than %d apart", tail, head, count)
	}

	var recs []LogRecord
	desc := make([]byte, descSize)
	info := make([]byte, infoSize)
	var firstErr error
	bad, textBytes := 0, uint64(0)
	for id := tail; ; id = (id + 1) & idMask {
		if bad > maxBadRecords && len(recs) == 0 {
			break
		}
		r, ok, err := k.prbRecord(id, count, dsize, descs, infos, data, desc, info,
			svOff, lposOff+beginOff, lposOff+nextOff, seqOff, tsOff, lenOff, uint64(callerOff), hasCaller)
		if ok && err == nil {
			dev.read(&r, info)
		}
		if err != nil {
			bad++
			if firstErr == nil {
				firstErr = err
			}
		} else if ok {
			// Live records' blocks do not overlap: more text than the
			// ring holds means the descriptors are corrupt.
			if textBytes += uint64(len(r.Text)); textBytes > dsize {
				return recs, fmt.Errorf("linux: printk records hold more text than the %d-byte ring", dsize)
			}
			recs = append(recs, r)
		}
		if id == head {
			break
		}
	}
	if len(recs) == 0 && firstErr != nil {
		return nil, fmt.Errorf("linux: no readable printk record (%d unreadable): %w", bad, firstErr)
	}
	return recs, nil
}

func (k *Kernel) prbRecord(id, count, dsize, descs, infos, data uint64, desc, info []byte,
	svOff, beginOff, nextOff, seqOff, tsOff, lenOff, callerOff uint64, hasCaller bool) (LogRecord, bool, error) {
	slot := id % count
	if err := k.read(desc, descs+slot*uint64(len(desc))); err != nil {
		return LogRecord{}, false, err
	}
	sv := le.Uint64(desc[svOff:])
	if sv&idMask != id {
		return LogRecord{}, false, nil
	}
	if st := sv >> 62; st != descCommitted && st != descFinalized {
		return LogRecord{}, false, nil
	}
	rawBegin, rawNext := le.Uint64(desc[beginOff:]), le.Uint64(desc[nextOff:])
	if err := k.read(info, infos+slot*uint64(len(info))); err != nil {
		return LogRecord{}, false, err
	}
	r := LogRecord{Seq: le.Uint64(info[seqOff:]), TS: le.Uint64(info[tsOff:])}
	if hasCaller {
		r.CallerID = le.Uint32(info[callerOff:])
	}
	if rawBegin == emptyLineLpos && rawNext == emptyLineLpos {
		return r, true, nil
	}
	begin, next := rawBegin%dsize, rawNext%dsize
	if begin == next {
		return LogRecord{}, false, nil // no data (FAILED_LPOS or a data-less record)
	}
	if begin > next {
		begin = 0 // the block wrapped: its data is at the start of the ring
	}
	begin += 8 // the block starts with the descriptor id
	if begin > next {
		return LogRecord{}, false, nil
	}
	n := min(uint64(le.Uint16(info[lenOff:])), next-begin)
	r.Text = make([]byte, n)
	if err := k.read(r.Text, data+begin); err != nil {
		return LogRecord{}, false, err
	}
	return r, true, nil
}

// logBufRecords reads the variable-length record buffer of Linux 3.5-5.9:
// struct printk_log records from log_first_idx to log_next_idx, a record
// of length 0 meaning "continue at index 0".
func (k *Kernel) logBufRecords() ([]LogRecord, error) {
	typ := "printk_log"
	if _, ok := k.Size(typ); !ok {
		typ = "log"
	}
	o, err := k.vi("SIZE("+typ+")", "OFFSET("+typ+".ts_nsec)", "OFFSET("+typ+".len)", "OFFSET("+typ+".text_len)")
	if err != nil {
		return nil, fmt.Errorf("%w (only the record-based log_buf of Linux 3.5 and later is supported)", err)
	}
	hdr, tsOff, lenOff, tlenOff := o[0], o[1], o[2], o[3]
	if tsOff+8 > hdr || lenOff+2 > hdr || tlenOff+2 > hdr {
		return nil, fmt.Errorf("linux: VMCOREINFO offsets of struct %s lie outside its %d bytes", typ, hdr)
	}
	var addrs [4]uint64
	for i, s := range []string{"log_buf", "log_buf_len", "log_first_idx", "log_next_idx"} {
		v, ok := k.Symbol(s)
		if !ok {
			return nil, fmt.Errorf("linux: VMCOREINFO lacks SYMBOL(%s)", s)
		}
		addrs[i] = v
	}
	buf, err := k.u64(addrs[0])
	if err != nil {
		return nil, fmt.Errorf("linux: reading log_buf: %w", err)
	}
	var vals [3]uint32
	for i := range vals {
		if vals[i], err = k.u32(addrs[i+1]); err != nil {
			return nil, fmt.Errorf("linux: reading the log indices: %w", err)
		}
	}
	size, idx, next := uint64(vals[0]), uint64(vals[1]), uint64(vals[2])
	if size == 0 || size > 1<<maxDataBits || idx >= size || next >= size {
		return nil, fmt.Errorf("linux: log_buf_len %d, log_first_idx %d, log_next_idx %d are implausible", size, idx, next)
	}
	h := make([]byte, hdr)
	var recs []LogRecord
	wrapped := false
	for seq := uint64(0); idx != next; seq++ {
		if seq > size/hdr+1 {
			return recs, fmt.Errorf("linux: log_buf records do not lead from log_first_idx to log_next_idx")
		}
		if idx+hdr > size {
			return recs, fmt.Errorf("linux: log_buf record at index %d overruns the buffer (%d bytes)", idx, size)
		}
		if err := k.read(h, buf+idx); err != nil {
			return recs, fmt.Errorf("linux: reading the log record at index %d: %w", idx, err)
		}
		l := uint64(le.Uint16(h[lenOff:]))
		if l == 0 {
			if wrapped {
				return recs, fmt.Errorf("linux: log_buf wraps twice")
			}
			wrapped, idx = true, 0
			continue
		}
		if l < hdr || idx+l > size {
			return recs, fmt.Errorf("linux: log_buf record at index %d has length %d", idx, l)
		}
		tl := min(uint64(le.Uint16(h[tlenOff:])), l-hdr)
		r := LogRecord{Seq: seq, TS: le.Uint64(h[tsOff:]), Text: make([]byte, tl)}
		if err := k.read(r.Text, buf+idx+hdr); err != nil {
			return recs, fmt.Errorf("linux: reading the log text at index %d: %w", idx, err)
		}
		recs = append(recs, r)
		idx += l
	}
	return recs, nil
}

// devInfo locates struct dev_printk_info inside printk_info.
type devInfo struct {
	ok                             bool
	subOff, subLen, devOff, devLen uint64
}

func (k *Kernel) devInfoLayout(infoSize uint64) devInfo {
	o, err := k.vi("OFFSET(printk_info.dev_info)", "OFFSET(dev_printk_info.subsystem)", "OFFSET(dev_printk_info.device)")
	if err != nil {
		return devInfo{}
	}
	subLen, ok1 := k.decimal("LENGTH(printk_info_subsystem)")
	devLen, ok2 := k.decimal("LENGTH(printk_info_device)")
	if !ok1 || !ok2 || subLen <= 0 || devLen <= 0 || subLen > maxStructLen || devLen > maxStructLen {
		return devInfo{}
	}
	d := devInfo{ok: true, subOff: o[0] + o[1], subLen: uint64(subLen), devOff: o[0] + o[2], devLen: uint64(devLen)}
	if d.subOff+d.subLen > infoSize || d.devOff+d.devLen > infoSize {
		return devInfo{}
	}
	return d
}

func (d devInfo) read(r *LogRecord, info []byte) {
	if !d.ok {
		return
	}
	cstr := func(b []byte) string {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		return string(b)
	}
	r.Subsystem = cstr(info[d.subOff : d.subOff+d.subLen])
	r.Device = cstr(info[d.devOff : d.devOff+d.devLen])
}
