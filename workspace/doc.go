// Package workspace is Crashbench's index of many dumps: a SQLite
// database (database/sql with mattn/go-sqlite3, built with the
// sqlite_fts5 tag) that records what each dump is and how it crashed, so
// that recurring crashes can be grouped and dumps found by module,
// version, symbol or signature without opening them again.
//
// # Design
//
// Index walks files and folders (recursively) and looks at every regular
// file. A file whose path, size and modification time are already in the
// files table is skipped without being read. Any other file is hashed
// (SHA-256) by one of IndexOptions.Workers workers; content the index
// already holds is recorded as one more path of the same dump without
// being parsed. New content is opened with session.Open and analysed
// with (*session.Session).AnalysisReport, under a per-dump timeout
// (default 60 s) and offline by default (symbol servers and debuginfod
// are not asked, their caches are read; IndexOptions.Online changes
// that), so no server can hold up ingest. A file that session.Open says
// is not a dump (dump.ErrUnrecognized: READMEs, .sym, .pdb, oracle
// .txt files, executables) is recorded as "not-dump"; a file that looks
// like a dump but cannot be read is recorded as a dump with status
// "error" and its error; a file that cannot be read at all is recorded
// with status "error". None of these stop the run. A dump whose analysis
// fails keeps its header facts (status "partial").
//
// # Duplicates
//
// Dumps are identified by content: the same bytes under two paths are one
// dumps row and two files rows. The dump's path is the first of its
// files in path order ("duplicate" marks the others), whatever order the
// workers finished in; its analysis comes from the copy that was read
// first, which matters only when copies sit beside different symbol
// folders. IndexResult counts each extra copy as a duplicate.
// When a file's content changes, its old dump moves to its next path or,
// with none left, is deleted with everything recorded about it.
//
// # Schema
//
// The schema is versioned with PRAGMA user_version; migrations lists the
// steps, each applied in its own transaction with the version bump, and
// tests migrate a database from every earlier version.
//
//   - dumps: one row per distinct content: sha256, the path, size and
//     mtime, status (ok, partial, error) and error, format, variant,
//     container, OS, arch, CPUs, crash time and uptime, process name,
//     pid and command line, crash kind, code, name, address, parameters,
//     message and thread, the analysis' reason, faulting module and
//     frame, probable cause, signature and bucket id, and bucket_key,
//     what Buckets groups by (NULL for dumps that record no crash).
//   - files: every file seen: path, size, mtime, sha256, status (dump,
//     duplicate, not-dump, error), error, the dump it holds.
//   - modules (name, path, version, timestamp, checksum, debug file and
//     id, build id, code id, base, size, unloaded), threads (id, name,
//     crashed) and the top 10 frames of each thread (module, function,
//     offset, file, line, how the frame was found), and for kernel dumps
//     processes (pid, ppid, name).
//   - notes and tags, watched_folders, bucket_overrides (the user's
//     merges of whole buckets and splits of single dumps).
//   - search: an FTS5 table, one row per dump, over its path, process
//     names, crash and bug-check names, signature and bucket id, module
//     names and debug files, module versions and frame function names.
//
// Memory contents, registers and whole stacks are never stored: the
// database holds what is needed to group and find dumps (about 2 KB per
// small minidump); everything else is read from the dump when opened.
//
// # Concurrency and crash safety
//
// The database runs in WAL mode with foreign keys on, synchronous=NORMAL
// and a busy timeout, so readers (the workbench, search) never wait for
// the indexer. Workers only read; one writer goroutine writes each file's
// outcome in its own IMMEDIATE transaction. A process killed mid-run
// (SIGKILL) leaves whole dumps only (a power cut may also lose the last
// commits, never half of one), and the next run picks up the files that
// were not committed, since those are not in the files table. Cancelling the context stops the run between
// files; what was committed stays.
//
// # Buckets and search
//
// Buckets groups crash dumps by bucket_key: the analysis' bucket id (a
// WinDbg-style FAILURE_BUCKET_ID: problem class, exception code, faulting
// module!function), the bucket id plus the signature's module-relative
// location (app.exe@0x1018) when the faulting function has no symbol, or
// the signature when there is no bucket id. Frames are module-relative,
// so the same crash in runs with different process ids and load
// addresses (ASLR) lands in one bucket. Each bucket says why its dumps
// are together. Search matches words against the FTS table and takes
// module:, version:, since:, until:, bucket:, status: and tag: filters.
//
// # Correlations, timeline, notes and tags
//
// Correlations is Socorro's correlations tab for one bucket: for every
// module name (case-insensitive) and every (module, version) pair, the
// share of the bucket's dumps that load it against the share of all
// crash dumps in the index that do (the bucket's own included; dumps
// that record no crash are not counted; unloaded modules do not count).
// A module or version is kept when the bucket's share is at least twice
// the overall share or at least 25 points above it; the largest
// difference of shares comes first. Timeline counts crashes per UTC day
// and bucket (the dump's crash time, else the file's mtime), days
// without crashes omitted. Both, like Buckets, apply the user's merges
// and splits. Users' notes (AddNote, Notes) and tags (Tag, Untag, Tags;
// single words, compared case-insensitively) belong to a dump and go
// with it.
package workspace
