// Package symsrv fetches PE images and PDBs from Microsoft symbol servers,
// the HTTP stores behind WinDbg's symbol path entries
// (srv*CACHE*https://msdl.microsoft.com/download/symbols):
//
//	GET <server>/<name>/<key>/<name>       the file itself
//	GET <server>/<name>/<key>/<name>_      the file in a CAB archive (amdppm.pd_)
//	GET <server>/<name>/<key>/file.ptr     "PATH:<location>": the file is elsewhere
//
// The key of an image is its TimeDateStamp as %08X followed by its
// SizeOfImage as %x (amdppm.sys/C9C030003b000/amdppm.sys); the key of a
// PDB is the GUID of its CodeView (RSDS) record as 32 upper-case hex
// digits followed by the age as %X
// (amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb). See
// https://learn.microsoft.com/windows-hardware/drivers/debugger/symbol-path
// and https://learn.microsoft.com/windows-hardware/drivers/debugger/advanced-symsrv-use.
//
// Why hand-written: no maintained Go symbol-server client exists. The
// maintained consumers are Rust (the symsrv crate of the samply profiler,
// isr-dl-windows), Python (pdbparse's symchk.py) and C# (Microsoft's
// dotnet-symbol); the Go code found is single-purpose command-line tools
// (pdbfetch) that download one PDB next to an executable, without a
// cache, compressed files or file.ptr. The protocol is one GET per file,
// the CAB reader is already in core/container, and core may use only the
// standard library plus a short list of libraries anyway.
//
// # Client
//
// [Client.Fetch] follows core/symbols/debuginfod: it tries each server in
// turn and keeps what it downloads in a cache directory that is itself a
// symbol store, <cache>/<name>/<key>/<name> (key as the caller spelled
// it), so image.Finder, the session's local-store lookup and other tools
// (WinDbg, rizin, dump_syms) read the cache as a plain store. Downloads go
// to a temporary file renamed into place only once complete, so a
// cancelled or failed download leaves nothing behind. A file no server
// has is remembered for MissTTL (10 minutes by default) with a hidden
// marker file beside where the file would be; servers that fail in other
// ways are not asked again for the same file for MissTTL either (in
// memory only). Downloads are bounded in size (MaxSize) and abandoned
// when no data arrives for Timeout. Requests carry the User-Agent
// symsrv.dll sends ([UserAgent]); some servers refuse others.
//
// Key case: Microsoft's server is case-insensitive, static mirrors (a
// store tree served by any web server, such as rizin's test store) are
// not, and stores differ in how they spelled the key when they were
// written (symstore.exe writes %08X%x; rizin's mirror has the image keys
// in lower case). Fetch therefore asks for the key as given, then in
// upper case, then in lower case, skipping spellings equal to one already
// tried. For each spelling it asks for the file, then the compressed
// file, then file.ptr.
//
// Compressed files (the last character of the name replaced by '_') are
// Cabinet archives made by makecab; they are unpacked with
// core/container.Unpack (uncompressed and MSZIP folders; LZX folders are
// reported as unsupported). file.ptr is supported in its PATH: form only
// (PATH:<local or UNC path> or PATH:http(s)://...), one level deep; the
// MSG: form (a message instead of a file) counts as a miss.
//
// Fetched files are checked lightly: a .pdb must start with an MSF
// signature and an .exe/.dll/.sys/... with "MZ", so an HTML error page
// served with status 200 is not cached as a symbol file. The GUID, age,
// TimeDateStamp and SizeOfImage are not verified against the key; the
// callers (image.Finder, the PDB finder) check what they open.
//
// # Symbol paths
//
// [ParsePath] splits a WinDbg symbol path into local folders and stores
// (read by the caller directly) and [Server] entries (a cache and server
// URLs), which [NewClients] turns into clients tried in path order.
//
// # Use from the session
//
// A finder takes a plain function, as elfsym.Finder.Fetch takes
// debuginfod's Client.Fetch, so it needs no net/http:
//
//	locals, servers, err := symsrv.ParsePath(sympath) // err: notes for bad entries
//	fetch := symsrv.NewClients(servers).Fetch          // func(ctx, name, key string) (string, error)
//
// image.Finder, after its Dirs (locals first) fail, calls
// fetch(ctx, "amdppm.sys", fmt.Sprintf("%08X%x", stamp, size)); a PDB
// finder calls fetch(ctx, "amdppm.pdb", guid+age) with the name from the
// RSDS record reduced to its base name. errors.Is(err, ErrNotFound) is an
// ordinary absence; other errors are worth one note per server. Ask only
// when a frame needs a module, not for every module at open time: a miss
// costs up to nine requests per server the first time.
//
// This package and debuginfod are the only packages in core that import
// net/http: finders take a plain function, and Fetch is one.
//
// Limits: a compressed file is unpacked through container.Unpack, which
// also applies its free-space rule (container.DefaultMinFree left on the
// cache's file system). A server answering anything but 200, 404 or 410
// (a 403 from a bucket that hides missing objects, a 5xx) is taken as
// failing: it is not asked for the other spellings and forms, and the
// file is not asked for again for MissTTL (in memory, per Client).
package symsrv
