package pdb

import (
	"errors"
	"fmt"
)

// msfMagic opens every PDB 7.0 file: the MSF 7.00 SuperBlock's FileMagic.
// See https://llvm.org/docs/PDB/MsfFile.html#the-superblock
const msfMagic = "Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00"

// Fixed stream indices. See https://llvm.org/docs/PDB/index.html#streams
const (
	streamOldDirectory = 0
	streamPDB          = 1 // PDB info stream
	streamTPI          = 2
	streamDBI          = 3
	streamIPI          = 4
)

// nilStream is the stream index that means "no stream" (0xFFFF) in DBI
// fields, and nilStreamSize the directory's size of a deleted stream.
const (
	nilStream     = 0xFFFF
	nilStreamSize = 0xFFFFFFFF
)

// DBI stream constants. See https://llvm.org/docs/PDB/DbiStream.html
const (
	dbiHeaderSize     = 64 // DbiStreamHeader
	modInfoHeaderSize = 64 // ModInfo up to ModuleName
	secContribV60     = 0xeffe0000 + 19970605
	secContribV2      = 0xeffe0000 + 20140516
	sectionHeaderSize = 40 // IMAGE_SECTION_HEADER
)

// Optional debug header stream slots (DbgHeader in LLVM's DbiStream).
const (
	dbgFPO = iota
	dbgException
	dbgFixup
	dbgOmapToSrc
	dbgOmapFromSrc
	dbgSectionHdr
	dbgTokenRidMap
	dbgXdata
	dbgPdata
	dbgNewFPO
	dbgSectionHdrOrig
	dbgCount
)

// CodeView symbol record kinds (SYM_ENUM_e). See
// https://llvm.org/docs/PDB/CodeViewSymbols.html
const (
	sPub32     = 0x110E // S_PUB32
	sLProc32   = 0x110F // S_LPROC32
	sGProc32   = 0x1110 // S_GPROC32
	sLProc32ID = 0x1146 // S_LPROC32_ID
	sGProc32ID = 0x1147 // S_GPROC32_ID
	sLData32   = 0x110C // S_LDATA32
	sGData32   = 0x110D // S_GDATA32
	sLThread32 = 0x1112 // S_LTHREAD32
	sGThread32 = 0x1113 // S_GTHREAD32
	sGManProc  = 0x112A // S_GMANPROC
	sLManProc  = 0x112B // S_LMANPROC

	sEnd           = 0x0006 // S_END
	sThunk32       = 0x1102 // S_THUNK32
	sBlock32       = 0x1103 // S_BLOCK32
	sWith32        = 0x1104 // S_WITH32
	sSepCode       = 0x1132 // S_SEPCODE
	sInlineSite    = 0x114D // S_INLINESITE
	sInlineSiteEnd = 0x114E // S_INLINESITE_END
	sProcIDEnd     = 0x114F // S_PROC_ID_END
	sInlineSite2   = 0x115D // S_INLINESITE2
)

// cvSignatureC13 opens a module symbol stream (CV_SIGNATURE_C13).
const cvSignatureC13 = 4

// C13 debug subsection kinds (DEBUG_S_SUBSECTION_TYPE).
const (
	debugSIgnore       = 0x80000000
	debugSLines        = 0xF2 // DEBUG_S_LINES
	debugSFileChksms   = 0xF4 // DEBUG_S_FILECHKSMS
	debugSInlineeLines = 0xF6 // DEBUG_S_INLINEELINES
	debugSCrossImports = 0xF7 // DEBUG_S_CROSSSCOPEIMPORTS
	debugSCrossExports = 0xF8 // DEBUG_S_CROSSSCOPEEXPORTS
)

// namesSignature opens the /names string table stream.
const namesSignature = 0xEFFEEFFE

// Public symbol flags (CV_PUBSYMFLAGS).
const (
	PubCode     = 0x1 // cvpsfCode
	PubFunction = 0x2 // cvpsfFunction
	PubManaged  = 0x4 // cvpsfManaged
	PubMSIL     = 0x8 // cvpsfMSIL
)

// FormatError reports a PDB that cannot be read: Stream is the MSF stream
// index (-1 for the container itself) and Off the byte offset in that
// stream (in the file when Stream is -1).
type FormatError struct {
	Stream int
	Off    int64
	What   string
	Err    error
}

func (e *FormatError) Error() string {
	var s string
	if e.Stream < 0 {
		s = fmt.Sprintf("pdb: offset %#x: %s", e.Off, e.What)
	} else {
		s = fmt.Sprintf("pdb: stream %d offset %#x: %s", e.Stream, e.Off, e.What)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// Sentinel errors, for errors.Is.
var (
	// ErrUnrecognized says the file is not an MSF 7.00 (PDB 7.0) file;
	// old PDB 2.0 files ("Microsoft C/C++ program database 2.00") are
	// among those.
	ErrUnrecognized = errors.New("pdb: not an MSF 7.00 file")
	// ErrNoStream says a stream the caller asked for is absent.
	ErrNoStream = errors.New("pdb: stream absent")
)

func errAt(stream int, off int64, what string, err error) error {
	return &FormatError{Stream: stream, Off: off, What: what, Err: err}
}
