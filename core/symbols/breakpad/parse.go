package breakpad

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/crashbench/crashbench/core/model"
)

// DefaultMaxDiagnostics is how many diagnostics a File keeps when
// Options.MaxDiagnostics is zero; further malformed lines are only counted.
const DefaultMaxDiagnostics = 16

// Options tune parsing.
type Options struct {
	// MaxDiagnostics bounds File.Diagnostics; 0 means
	// DefaultMaxDiagnostics, negative keeps none.
	MaxDiagnostics int
	// Strict turns the first malformed line into a *FormatError (tests).
	Strict bool
}

// span is a string held in File.strs.
type span struct{ off, n uint32 }

type funcRec struct {
	rva, size uint64
	name      span
	param     uint32
	multiple  bool
	lines     [2]uint32 // [start, end) in File.lines
	inl       [2]uint32 // [start, end) in File.inlRanges
}

type lineRec struct {
	rva  uint64
	size uint32
	line uint32
	file uint32
}

type inlineRec struct {
	nest, callLine, callFile, origin uint32
}

type inlineRange struct {
	rva  uint64
	size uint64
	rec  uint32 // index in File.inlines
}

type pubRec struct {
	rva      uint64
	name     span
	param    uint32
	multiple bool
}

type cfiInit struct {
	rva, size uint64
	rules     span
	deltas    [2]uint32 // [start, end) in File.cfiDeltas
}

type cfiDelta struct {
	rva   uint64
	rules span
}

type winRec struct {
	rva, codeSize                             uint64
	prolog, epilog, params, saved, locals, mx uint32
	typ                                       WinFrameType
	hasProgram, allocBP                       bool
	program                                   span
}

// Open parses the Breakpad symbol file at path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sf, err := ParseOptions(f, Options{})
	if sf != nil {
		sf.source = path
	}
	return sf, err
}

// NewFile parses the Breakpad symbol file held in r, size bytes long.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	return ParseOptions(io.NewSectionReader(r, 0, size), Options{})
}

// Parse parses a Breakpad symbol file from a stream, reading it once.
func Parse(r io.Reader) (*File, error) { return ParseOptions(r, Options{}) }

// ParseOptions is Parse with options.
func ParseOptions(r io.Reader, opts Options) (*File, error) {
	p := &parser{f: &File{}, opts: opts, curFunc: -1, curCFI: -1}
	p.f.files = make(map[uint32]span)
	p.f.origins = make(map[uint32]span)
	if p.opts.MaxDiagnostics == 0 {
		p.opts.MaxDiagnostics = DefaultMaxDiagnostics
	}
	br := bufio.NewReaderSize(r, 1<<16)
	var long []byte
	var off int64
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 {
			p.lineNo++
			p.off = off
			off += int64(len(line))
			if ferr := p.line(trimEOL(line)); ferr != nil {
				return nil, ferr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &FormatError{Line: p.lineNo, Off: off, What: "read failed", Err: err}
		}
	}
	if !p.sawModule {
		return nil, &FormatError{Line: 1, What: "no MODULE line"}
	}
	p.finish()
	return p.f, nil
}

type parser struct {
	f         *File
	opts      Options
	lineNo    int
	off       int64
	sawModule bool
	curFunc   int // index in f.funcs of the FUNC that line records belong to, -1 none
	curCFI    int // index in f.cfiInits of the last STACK CFI INIT, -1 none
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// bad records a malformed line. It returns a non-nil error only in strict
// mode.
func (p *parser) bad(format string, args ...any) error {
	p.f.Skipped++
	msg := fmt.Sprintf("line %d: ", p.lineNo) + fmt.Sprintf(format, args...)
	if p.opts.Strict {
		return &FormatError{Line: p.lineNo, Off: p.off, What: msg}
	}
	if len(p.f.Diagnostics) < p.opts.MaxDiagnostics {
		p.f.Diagnostics = append(p.f.Diagnostics, model.Diagnostic{Severity: model.Warning, Off: p.off, Msg: msg})
	}
	return nil
}

func (p *parser) str(b []byte) (span, bool) {
	if len(p.f.strs)+len(b) > math.MaxUint32 {
		return span{}, false
	}
	s := span{off: uint32(len(p.f.strs)), n: uint32(len(b))}
	p.f.strs = append(p.f.strs, b...)
	return s, true
}

// cut splits b at its first space.
func cut(b []byte) (field, rest []byte) {
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

func parseDec32(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 10 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if v > math.MaxUint32 {
		return 0, false
	}
	return uint32(v), true
}

func parseHex32(b []byte) (uint32, bool) {
	v, ok := parseHex(b)
	if !ok || v > math.MaxUint32 {
		return 0, false
	}
	return uint32(v), true
}

func (p *parser) line(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if !p.sawModule {
		kw, rest := cut(b)
		if string(kw) != "MODULE" {
			return &FormatError{Line: p.lineNo, Off: p.off, What: "first line is not a MODULE record"}
		}
		return p.module(rest)
	}
	kw, rest := cut(b)
	switch string(kw) {
	case "FILE":
		return p.file(rest)
	case "FUNC":
		return p.function(rest)
	case "INLINE":
		return p.inline(rest)
	case "INLINE_ORIGIN":
		return p.origin(rest)
	case "PUBLIC":
		p.curFunc = -1
		return p.public(rest)
	case "STACK":
		p.curFunc = -1
		kind, rest := cut(rest)
		switch string(kind) {
		case "CFI":
			return p.cfi(rest)
		case "WIN":
			return p.win(rest)
		}
		return p.bad("unknown STACK record %q", truncate(kind))
	case "INFO":
		kind, rest := cut(rest)
		if string(kind) == "CODE_ID" {
			id, file := cut(rest)
			if len(id) == 0 {
				return p.bad("INFO CODE_ID without an id")
			}
			p.f.CodeID, p.f.CodeFile = string(id), string(file)
		}
		return nil // other INFO records (URL, GENERATOR) carry nothing we use
	case "MODULE":
		return p.bad("second MODULE record")
	}
	if isHexDigit(b[0]) { // line records are the only ones without a keyword
		return p.lineRecord(b)
	}
	return p.bad("unknown record %q", truncate(kw))
}

func truncate(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	return string(b)
}

func (p *parser) module(b []byte) error {
	os_, rest := cut(b)
	arch, rest := cut(rest)
	id, name := cut(rest)
	if len(os_) == 0 || len(arch) == 0 || len(id) == 0 {
		return &FormatError{Line: p.lineNo, Off: p.off, What: "MODULE record needs os, arch, id and name"}
	}
	p.sawModule = true
	p.f.Module = Module{OS: string(os_), Arch: string(arch), ID: string(id), Name: string(name)}
	return nil
}

func (p *parser) file(b []byte) error {
	num, name := cut(b)
	n, ok := parseDec32(num)
	if !ok || len(name) == 0 {
		return p.bad("malformed FILE record")
	}
	s, ok := p.str(name)
	if !ok {
		return p.bad("string table full")
	}
	p.f.files[n] = s
	return nil
}

func (p *parser) origin(b []byte) error {
	num, name := cut(b)
	n, ok := parseDec32(num)
	if !ok || len(name) == 0 {
		return p.bad("malformed INLINE_ORIGIN record")
	}
	s, ok := p.str(name)
	if !ok {
		return p.bad("string table full")
	}
	p.f.origins[n] = s
	return nil
}

// optM strips the optional "m" (multiple) flag of FUNC and PUBLIC.
func optM(b []byte) (bool, []byte) {
	if len(b) >= 2 && b[0] == 'm' && b[1] == ' ' {
		return true, b[2:]
	}
	return false, b
}

func (p *parser) function(b []byte) error {
	p.curFunc = -1
	multiple, b := optM(b)
	a, rest := cut(b)
	sz, rest := cut(rest)
	ps, name := cut(rest)
	rva, ok1 := parseHex(a)
	size, ok2 := parseHex(sz)
	param, ok3 := parseHex32(ps)
	if !ok1 || !ok2 || !ok3 || len(name) == 0 {
		return p.bad("malformed FUNC record")
	}
	if rva+size < rva {
		return p.bad("FUNC range overflows")
	}
	s, ok := p.str(name)
	if !ok {
		return p.bad("string table full")
	}
	nl, ni := uint32(len(p.f.lines)), uint32(len(p.f.inlRanges))
	p.f.funcs = append(p.f.funcs, funcRec{rva: rva, size: size, name: s, param: param, multiple: multiple,
		lines: [2]uint32{nl, nl}, inl: [2]uint32{ni, ni}})
	p.curFunc = len(p.f.funcs) - 1
	return nil
}

func (p *parser) lineRecord(b []byte) error {
	if p.curFunc < 0 {
		return p.bad("line record outside a FUNC")
	}
	a, rest := cut(b)
	sz, rest := cut(rest)
	ln, fn := cut(rest)
	rva, ok1 := parseHex(a)
	size, ok2 := parseHex32(sz)
	line, ok3 := parseDec32(ln)
	file, ok4 := parseDec32(fn)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return p.bad("malformed line record")
	}
	if len(p.f.lines) >= math.MaxUint32 {
		return p.bad("too many line records")
	}
	p.f.lines = append(p.f.lines, lineRec{rva: rva, size: size, line: line, file: file})
	p.f.funcs[p.curFunc].lines[1] = uint32(len(p.f.lines))
	return nil
}

func (p *parser) inline(b []byte) error {
	if p.curFunc < 0 {
		return p.bad("INLINE record outside a FUNC")
	}
	var v [4]uint32
	for i := range v {
		var tok []byte
		tok, b = cut(b)
		n, ok := parseDec32(tok)
		if !ok {
			return p.bad("malformed INLINE record")
		}
		v[i] = n
	}
	if len(b) == 0 {
		return p.bad("INLINE record without ranges")
	}
	rec := uint32(len(p.f.inlines))
	start := len(p.f.inlRanges)
	for len(b) > 0 {
		var a, sz []byte
		a, b = cut(b)
		sz, b = cut(b)
		rva, ok1 := parseHex(a)
		size, ok2 := parseHex(sz)
		if !ok1 || !ok2 || rva+size < rva {
			p.f.inlRanges = p.f.inlRanges[:start]
			return p.bad("malformed INLINE range")
		}
		p.f.inlRanges = append(p.f.inlRanges, inlineRange{rva: rva, size: size, rec: rec})
	}
	if len(p.f.inlRanges) >= math.MaxUint32 || len(p.f.inlines) >= math.MaxUint32 {
		p.f.inlRanges = p.f.inlRanges[:start]
		return p.bad("too many INLINE records")
	}
	p.f.inlines = append(p.f.inlines, inlineRec{nest: v[0], callLine: v[1], callFile: v[2], origin: v[3]})
	p.f.funcs[p.curFunc].inl[1] = uint32(len(p.f.inlRanges))
	return nil
}

func (p *parser) public(b []byte) error {
	multiple, b := optM(b)
	a, rest := cut(b)
	ps, name := cut(rest)
	rva, ok1 := parseHex(a)
	param, ok2 := parseHex32(ps)
	if !ok1 || !ok2 || len(name) == 0 {
		return p.bad("malformed PUBLIC record")
	}
	s, ok := p.str(name)
	if !ok {
		return p.bad("string table full")
	}
	p.f.publics = append(p.f.publics, pubRec{rva: rva, name: s, param: param, multiple: multiple})
	return nil
}

func (p *parser) cfi(b []byte) error {
	first, rest := cut(b)
	if string(first) == "INIT" {
		p.curCFI = -1
		a, rest := cut(rest)
		sz, rules := cut(rest)
		rva, ok1 := parseHex(a)
		size, ok2 := parseHex(sz)
		if !ok1 || !ok2 || rva+size < rva {
			return p.bad("malformed STACK CFI INIT record")
		}
		if _, err := ParseRules(string(rules)); err != nil {
			return p.bad("STACK CFI INIT rules: %v", err)
		}
		s, ok := p.str(rules)
		if !ok {
			return p.bad("string table full")
		}
		n := uint32(len(p.f.cfiDeltas))
		p.f.cfiInits = append(p.f.cfiInits, cfiInit{rva: rva, size: size, rules: s, deltas: [2]uint32{n, n}})
		p.curCFI = len(p.f.cfiInits) - 1
		return nil
	}
	if p.curCFI < 0 {
		return p.bad("STACK CFI record without a STACK CFI INIT")
	}
	rva, ok := parseHex(first)
	if !ok {
		return p.bad("malformed STACK CFI record")
	}
	init := &p.f.cfiInits[p.curCFI]
	if rva < init.rva || rva-init.rva >= init.size {
		return p.bad("STACK CFI address outside its INIT range")
	}
	if _, err := ParseRules(string(rest)); err != nil {
		return p.bad("STACK CFI rules: %v", err)
	}
	s, ok := p.str(rest)
	if !ok {
		return p.bad("string table full")
	}
	p.f.cfiDeltas = append(p.f.cfiDeltas, cfiDelta{rva: rva, rules: s})
	init.deltas[1] = uint32(len(p.f.cfiDeltas))
	return nil
}

func (p *parser) win(b []byte) error {
	var v [10]uint64
	for i := range v {
		var tok []byte
		tok, b = cut(b)
		n, ok := parseHex(tok)
		if !ok || (i != 1 && i != 2 && n > math.MaxUint32) {
			return p.bad("malformed STACK WIN record")
		}
		v[i] = n
	}
	if v[0] > uint64(WinFrameData) || v[9] > 1 || v[1]+v[2] < v[1] {
		return p.bad("malformed STACK WIN record")
	}
	r := winRec{typ: WinFrameType(v[0]), rva: v[1], codeSize: v[2], prolog: uint32(v[3]), epilog: uint32(v[4]),
		params: uint32(v[5]), saved: uint32(v[6]), locals: uint32(v[7]), mx: uint32(v[8]), hasProgram: v[9] == 1}
	if r.hasProgram {
		if len(b) == 0 {
			return p.bad("STACK WIN record without its program string")
		}
		s, ok := p.str(b)
		if !ok {
			return p.bad("string table full")
		}
		r.program = s
	} else {
		switch string(b) {
		case "0":
		case "1":
			r.allocBP = true
		default:
			return p.bad("STACK WIN allocates_base_pointer must be 0 or 1")
		}
	}
	p.f.wins = append(p.f.wins, r)
	return nil
}

// finish sorts the tables for binary search. Records usually arrive
// sorted; the checks keep that case linear.
func (p *parser) finish() {
	f := p.f
	if !slices.IsSortedFunc(f.funcs, func(a, b funcRec) int { return cmpU64(a.rva, b.rva) }) {
		slices.SortStableFunc(f.funcs, func(a, b funcRec) int { return cmpU64(a.rva, b.rva) })
	}
	for _, fn := range f.funcs {
		ls := f.lines[fn.lines[0]:fn.lines[1]]
		if !slices.IsSortedFunc(ls, func(a, b lineRec) int { return cmpU64(a.rva, b.rva) }) {
			slices.SortStableFunc(ls, func(a, b lineRec) int { return cmpU64(a.rva, b.rva) })
		}
	}
	if !slices.IsSortedFunc(f.publics, func(a, b pubRec) int { return cmpU64(a.rva, b.rva) }) {
		slices.SortStableFunc(f.publics, func(a, b pubRec) int { return cmpU64(a.rva, b.rva) })
	}
	if !slices.IsSortedFunc(f.cfiInits, func(a, b cfiInit) int { return cmpU64(a.rva, b.rva) }) {
		slices.SortStableFunc(f.cfiInits, func(a, b cfiInit) int { return cmpU64(a.rva, b.rva) })
	}
	for _, in := range f.cfiInits {
		ds := f.cfiDeltas[in.deltas[0]:in.deltas[1]]
		if !slices.IsSortedFunc(ds, func(a, b cfiDelta) int { return cmpU64(a.rva, b.rva) }) {
			slices.SortStableFunc(ds, func(a, b cfiDelta) int { return cmpU64(a.rva, b.rva) })
		}
	}
	if !slices.IsSortedFunc(f.wins, func(a, b winRec) int { return cmpU64(a.rva, b.rva) }) {
		slices.SortStableFunc(f.wins, func(a, b winRec) int { return cmpU64(a.rva, b.rva) })
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
