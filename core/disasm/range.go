package disasm

import (
	"errors"

	"github.com/crashbench/crashbench/core/mem"
)

// Range decodes count instructions starting at start, as WinDbg's u does.
// Bytes that do not decode become one-byte placeholders (Inst.Bad) so the
// listing goes on. It stops cleanly at memory that cannot be read: it
// returns the instructions decoded so far together with the reader's
// *mem.FaultError.
func Range(r mem.Reader, d Decoder, start uint64, count int) ([]Inst, error) {
	if count <= 0 {
		return nil, nil
	}
	ml := maxLen(d)
	buf := make([]byte, min(count, 1<<16)*ml)
	n, rerr := r.ReadMemory(buf, start)
	n = min(max(n, 0), len(buf))
	if n < len(buf) && rerr == nil {
		rerr = &mem.FaultError{Addr: start + uint64(n), Kind: mem.ReadFailed}
	}
	code := buf[:n]
	var out []Inst
	off := 0
	for len(out) < count {
		if off >= len(code) {
			return out, rerr
		}
		in, err := d.Decode(code[off:], start+uint64(off))
		if err != nil {
			if rerr != nil && len(code)-off < ml {
				// Probably an instruction cut short by unreadable memory.
				return out, rerr
			}
			step := 1
			if ml == 4 {
				step = 4
				if len(code)-off < 4 {
					return out, rerr
				}
			}
			out = append(out, Inst{Addr: start + uint64(off), Len: step, Bytes: append([]byte(nil), code[off:off+step]...), Mnemonic: "???"})
			off += step
			continue
		}
		out = append(out, in)
		off += in.Len
	}
	return out, nil
}

// ErrNoBackward is returned by Backward when no start before end decodes
// into an instruction stream that lands exactly on end.
var ErrNoBackward = errors.New("disasm: no instruction stream ends at this address")

// Backward decodes count instructions that end exactly at end, as WinDbg's
// ub does. For fixed-length instruction sets it simply steps back. For x86
// it tries every start offset within reach, keeps those whose stream
// lands exactly on end, and returns the tail most of them agree on,
// preferring the longest run when they tie. When memory before end cannot
// be read it uses the readable part; with none it returns the
// *mem.FaultError.
func Backward(r mem.Reader, d Decoder, end uint64, count int) ([]Inst, error) {
	if count <= 0 {
		return nil, nil
	}
	ml := maxLen(d)
	if ml == 4 { // fixed width
		start := end - uint64(4*count)
		if start > end {
			start = 0
		}
		end -= end % 4
		start -= start % 4
		k := int((end - start) / 4)
		if k == 0 {
			return nil, ErrNoBackward
		}
		ins, err := Range(r, d, start, k)
		if err != nil && len(ins) == 0 {
			return nil, err
		}
		return ins, nil
	}
	window := uint64(min(count, 1<<12)*ml + ml)
	if window > end {
		window = end
	}
	lo := end - window
	buf := make([]byte, window)
	// Find the readable suffix ending at end, byte by byte from the end
	// only when the whole window cannot be read.
	first := 0
	if n, err := r.ReadMemory(buf, lo); err != nil || n < len(buf) {
		first = len(buf)
		var fault error = err
		for first > 0 {
			if n, err := r.ReadMemory(buf[first-1:first], lo+uint64(first-1)); err != nil || n != 1 {
				if err != nil {
					fault = err
				}
				break
			}
			first--
		}
		if first == len(buf) {
			if fault == nil {
				fault = &mem.FaultError{Addr: end - 1, Kind: mem.ReadFailed}
			}
			return nil, fault
		}
	}
	// Decode once per offset; each start then just follows the chain.
	type cand struct{ ins []Inst }
	decoded := make([]*Inst, len(buf))
	tried := make([]bool, len(buf))
	at := func(off int) *Inst {
		if !tried[off] {
			tried[off] = true
			if in, err := d.Decode(buf[off:], lo+uint64(off)); err == nil {
				decoded[off] = &in
			}
		}
		return decoded[off]
	}
	var cands []cand
	for s := first; s < len(buf); s++ {
		off := s
		n := 0
		for off < len(buf) {
			in := at(off)
			if in == nil {
				break
			}
			off += in.Len
			n++
		}
		if off != len(buf) || n == 0 {
			continue
		}
		run := make([]Inst, 0, n)
		for off = s; off < len(buf); off += decoded[off].Len {
			run = append(run, *decoded[off])
		}
		cands = append(cands, cand{run})
	}
	if len(cands) == 0 {
		return nil, ErrNoBackward
	}
	tailKey := func(run []Inst) uint64 {
		t := run[max(0, len(run)-count)]
		return t.Addr<<8 | uint64(min(len(run), count))
	}
	votes := map[uint64]int{}
	for _, c := range cands {
		votes[tailKey(c.ins)]++
	}
	best := cands[0]
	for _, c := range cands[1:] {
		vb, vc := votes[tailKey(best.ins)], votes[tailKey(c.ins)]
		if vc > vb || vc == vb && len(c.ins) > len(best.ins) {
			best = c
		}
	}
	return best.ins[max(0, len(best.ins)-count):], nil
}
