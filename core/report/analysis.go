package report

// Thread is a thread with its registers and stack (analyze --json).
type Thread struct {
	ID        uint64            `json:"id"`
	Name      string            `json:"name,omitempty"`
	Crashed   bool              `json:"crashed,omitempty"`
	Registers map[string]string `json:"registers,omitempty"`
	Frames    []Frame           `json:"frames,omitempty"`
}

// Frame is one stack frame, innermost first.
type Frame struct {
	Index    int    `json:"index"`
	PC       string `json:"pc"`
	SP       string `json:"sp,omitempty"`
	Module   string `json:"module,omitempty"`
	Function string `json:"function,omitempty"`
	Offset   string `json:"offset,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Trust    string `json:"trust,omitempty"`
	// Inlined lists the calls inlined at pc, innermost first (an
	// extension of the contract); file and line above are then the
	// position in function itself.
	Inlined []Inline `json:"inlined,omitempty"`
}

// Inline is a call inlined at a frame's pc.
type Inline struct {
	Function string `json:"function"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
}

// Module is one loaded or unloaded module.
type Module struct {
	Base      string `json:"base"`
	Size      uint64 `json:"size"`
	Name      string `json:"name"`
	Path      string `json:"path,omitempty"`
	Version   string `json:"version,omitempty"`
	Timestamp int64  `json:"timestamp,omitempty"`
	BuildID   string `json:"build_id,omitempty"`
	CodeID    string `json:"code_id,omitempty"`
	DebugFile string `json:"debug_file,omitempty"`
	DebugID   string `json:"debug_id,omitempty"`
	Unloaded  bool   `json:"unloaded,omitempty"`
	Symbols   string `json:"symbols,omitempty"` // where its symbols came from, when loaded
}

// Analysis is what !analyze concludes.
type Analysis struct {
	// Reason says what happened in one line: the crash name, the address
	// and, for signals, what the si_code means ("SIGSEGV / SEGV_MAPERR at
	// 0x10: address not mapped to object"). An extension of the contract.
	Reason string `json:"reason,omitempty"`
	// Description and Arguments explain a bug check as Microsoft documents
	// it ("Arg1: ffffffffc0000005, The exception code that wasn't
	// handled"); CausedByReason says why probably_caused_by was chosen.
	// Extensions of the contract.
	Description      string   `json:"description,omitempty"`
	Arguments        []string `json:"arguments,omitempty"`
	CausedByReason   string   `json:"caused_by_reason,omitempty"`
	FaultingModule   string   `json:"faulting_module,omitempty"`
	FaultingFrame    string   `json:"faulting_frame,omitempty"`
	ProbablyCausedBy string   `json:"probably_caused_by,omitempty"`
	Signature        string   `json:"signature,omitempty"`
	BucketID         string   `json:"bucket_id,omitempty"`
}
