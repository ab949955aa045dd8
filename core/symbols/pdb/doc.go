// Package pdb reads Microsoft PDB 7.0 (MSF 7.00) program databases far
// enough to name frames and show types: the info stream (GUID, age, the symbol-store
// key), the DBI stream (modules, section contributions, section map, the
// optional debug header's section headers and OMAP), the S_PUB32 publics
// of the global symbol record stream and the S_GPROC32/S_LPROC32 (and
// _ID) procedures and C13 line records of the module symbol streams,
// joined into a symbols.Table.
//
// The format follows LLVM's description, https://llvm.org/docs/PDB/index.html
// (MsfFile, PdbStream, DbiStream, PublicStream, ModiStream,
// CodeViewSymbols; the C13 subsections after LLVM's CodeView
// DebugLinesSubsection and DebugChecksumsSubsection). It is hand-written:
// no maintained Go PDB parser exists (the Go ones found are small,
// unversioned or unmaintained; the kept
// parsers are Rust's pdb crate, LLVM and DIA), and frame naming needs
// only a few hundred lines.
//
// # Use
//
//	f, err := pdb.Open("amdppm.pdb")
//	f.ID()                       // "1C19FDDB27BB3399D9B45973EFEAFCF31"
//	tab, err := f.Table()        // a symbols.Table
//	s, ok := tab.LookupRVA(0x334c) // WriteIoMemRawEx at 0x32dc
//
// and for a session, a symbols.Provider over symbol-store directories:
//
//	p := pdb.NewProvider(pdb.Finder{Roots: []string{dir}})
//	tab, err := p.Load(ctx, module) // module.DebugFile, module.DebugID
//
// which opens <dir>/<pdbname>/<DebugID>/<pdbname> or a flat
// <dir>/<pdbname> whose ID matches the module's DebugID.
//
// # Ages
//
// ID uses the DBI stream's age, which is the age in the image's RSDS
// record and so the symbol-store key, not the info stream's (amdppm.pdb:
// info Age 3, DBI Age 1, key age 1).
//
// # Names and addresses
//
// Procedures carry undecorated names and code sizes and win over the
// public at the same address. Publics carry linker (decorated) names:
// PublicName turns MSVC decorations into qualified names with package
// msvc ("??0CTest@@QAE@XZ" → "CTest::CTest", string literals →
// "`string'"); x86 C decorations ("_main", "@f@8") are kept as they are,
// as WinDbg shows them. A lookup outside every procedure
// falls back to the nearest preceding public in the same section with no
// procedure between them.
//
// Segment:offset addresses become RVAs through the section headers; with
// an OMAP-from-source table they are translated through the original
// section headers and OMAP (Microsoft's rewritten system binaries,
// Breakpad's omap tests). Procedure sizes are translated through OMAP by
// their last byte, which is right for reordered but not for code
// stretched by injected content.
//
// # Lines
//
// LookupRVA fills Symbol.File and Line from the C13 line information of
// the module holding the address (the procedure's module, else the module
// of the section contribution holding it): the DEBUG_S_LINES record at or
// before the address within its contribution and the symbol, its file
// named through DEBUG_S_FILECHKSMS and the /names string table, as stored
// (MSVC keeps full, often lower-cased paths). Of records sharing an
// address, an address at them gets the first and one after them the last,
// as in LLVM. A module's lines are decoded on the first lookup that lands
// in it, so Open and Table stay as fast as before; File.Lines decodes
// one module's records. Columns are not kept.
//
// Inlined code comes from the S_INLINESITE (and S_INLINESITE2) records
// nested in each procedure. Each site's binary annotations are run from
// the inlinee's first line in the module's DEBUG_S_INLINEELINES, giving
// its code ranges (offsets from the procedure's start) and the inlined
// function's line in each. LookupRVA fills Symbol.Inlined at an address,
// innermost first, with the sites whose ranges hold it (the chain follows
// the sites' parent pointers). File and Line are then the innermost
// site's line; each Inline's CallFile/CallLine is its parent's line
// there, and for the outermost site that is the procedure's own C13 line
// (Symbol.OuterLine). Inline.Addr is the start of the site's contiguous
// range holding the address. Inlinees are named from the IPI stream: an
// LF_FUNC_ID is qualified by its LF_STRING_ID scope, and an LF_MFUNC_ID
// by its class's TPI name. Cross-module ids (high bit set) go through the
// module's DEBUG_S_CROSSSCOPEIMPORTS and the exporting module's
// DEBUG_S_CROSSSCOPEEXPORTS. MSVC's "?A0x…" anonymous namespaces become
// "`anonymous namespace'". Inline sites are decoded with a module's
// lines, on the first lookup in it.
//
// # Types
//
// File.Types (and Table.Types, as a ctype.Source) reads the TPI stream's
// type records into the format-neutral ctype model for dt-style display:
// structures, classes and interfaces (LF_STRUCTURE/LF_CLASS/LF_INTERFACE
// and their LF_*2 forms), unions, enums with their enumerators, pointers,
// modifiers, arrays, bitfields, base classes and the built-in types below
// 0x1000, which get their C names ("unsigned long", "wchar_t",
// "unsigned __int64", "HRESULT"). One pass indexes the named types,
// keeping a definition over a forward reference; a forward reference used
// as a member's type resolves to the definition by unique name. Types are
// built lazily per lookup and memoised by type index, so cyclic graphs (a
// structure pointing to itself) are shared, not copied. A field list's
// LF_INDEX continuations are followed, bounded, and a leaf the package
// does not model becomes a Base type named "<LF_...>" rather than an
// error. ByIndex gives the type of an index that a symbol record names.
//
// # Data
//
// File.Globals reads the data symbols: S_GDATA32 and S_LDATA32 and their
// thread-local forms S_GTHREAD32 and S_LTHREAD32, from the global symbol
// record stream and from the module streams (file-scope statics, and
// functions' static locals, marked InProc, as rizin lists them too).
// S_CONSTANT records, values rather than addresses, are skipped;
// thread-local data has no RVA (its offset is into the TLS block) and
// stays out of the Table. The Table names data between procedures and
// publics: a procedure wins at its own start, a global's undecorated name
// wins over the public at the same address, and LookupRVA of an address
// inside a global gives the global with its size, which comes from its
// type (Types.ByIndex) on the first lookup that lands on it, so Table
// builds no types. A global whose type gives no size covers its first
// byte; past a global's end the address is named by the nearest
// preceding global or public in the section, as for publics. Symbols
// lists globals too (and so reads the types of all of them).
// Table.GlobalType gives a global's type and RVA by name, for dt.
//
// # x86 frames
//
// Table.WinFrame gives the STACK WIN record for an address, from the
// FrameData ("new FPO") stream first and else from the old FPO stream's
// FPO_DATA records, converted as Breakpad's dump_syms writes STACK WIN 0
// lines: locals, parameters and saved registers as dword counts times 4,
// the prolog size, no program string, and the fUseBP bit as
// AllocatesBasePointer (the x86 walker then runs Breakpad's synthesised
// FPO program). Only frame type 0 (FPO) records answer, as in Breakpad's
// processor. Both kinds of record are translated through OMAP when the
// PDB has it (start and last byte); DIA's splitting of records at
// basic-block reordering is not reproduced.
//
// Not read: C11 lines, columns and the publics and globals hash tables
// (the records are found by walking the symbol record stream).
//
// # Robustness
//
// Every count is checked against the stream or file size before it is
// allocated, module streams are read at most once and in all no more
// bytes than the file holds, and decoding uses bin.Cursor; corrupt files
// give *FormatError or ErrUnrecognized, never a panic (FuzzNewFile).
package pdb
