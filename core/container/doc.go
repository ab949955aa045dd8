// Package container recognises crash dumps that arrive compressed or
// archived (.gz, .xz, .zst, .bz2, .zip, .cab) and unpacks them, streaming,
// into a per-user cache so the rest of the engine can open an ordinary file.
//
// # Detection
//
// A container is recognised by its magic bytes only (see [Detect]), never by
// its file name: dumps are routinely renamed by bug trackers, mail clients and
// upload forms ("core.zst.bin", "attachment-3"), and a wrong extension must
// not change what is opened. A file that is no container is not copied:
// [Unpack] returns it as is.
//
// # Unpacking
//
// [Unpack] decompresses layer after layer (a .zip holding a .gz, a .gz of a
// .zst, ...) until the content is no container, at most [MaxDepth] layers.
// Stream formats are chained in memory; a .zip or .cab found inside another
// container needs random access to its directory, so it is first spooled to a
// temporary file in the cache and deleted afterwards.
//
// The result is written sparsely: output is cut into 64 KiB chunks and an
// all-zero chunk is skipped with a seek instead of written, so a 97 MiB core
// that is mostly zeros (drgn's multithreaded.core) takes 1 MiB of disk and
// unpacks in well under a second. The output is written
// under a temporary name and renamed into place when complete, so a
// cancelled, failed or crashed unpack never leaves a file that looks finished.
// Results are cached by the input's absolute path, size and modification
// time (and the chosen member), so opening the same dump twice decompresses
// it once.
//
// Member names inside archives are only ever reported, never used as file
// names, so hostile names ("../../etc/passwd") cannot escape the cache.
//
// # Libraries
//
// gzip and raw DEFLATE use github.com/klauspost/compress (faster than the
// standard library, same API), zstd github.com/klauspost/compress/zstd, xz
// github.com/ulikunitz/xz, bzip2 compress/bzip2 and zip archive/zip. The
// Cabinet (.cab) reader is written here, from the MS-CAB specification
// ([MS-CAB] CFHEADER, CFFOLDER, CFFILE, CFDATA), because no Go CAB library can
// be fetched through the module proxy this project builds with
// (google/go-cabfile, abemedia/go-cabinet and go-filesystems/cab are refused)
// and the part needed here is small: uncompressed and MSZIP folders. MSZIP is
// "CK" followed by raw DEFLATE per CFDATA block, with the previous 32 KiB of
// output as the dictionary of the next block, which compress/flate's
// NewReaderDict provides. LZX and Quantum folders are reported as
// unsupported ([ErrUnsupported]).
//
// # Robustness
//
// Input is hostile. Corrupt or truncated data gives an [*Error], never a
// panic or a hang. Memory is bounded independently of the input: output
// streams through 64 KiB chunks, CAB counts are capped by the file size, and
// the decoder history a stream may demand (the zstd window, the xz
// dictionary, both of which the decoders allocate up front from a header
// field) is capped by [Options.MaxWindow]. Disk use is bounded by
// [Options.MaxBytes] per file and [Options.MinFree]. Fuzzed by FuzzUnpack.
package container
