package workspace

// migrations are the schema's history: migrations[i] takes a database
// from user_version i to i+1. Never edit a step that has shipped; append
// a new one.
var migrations = []string{
	// 1: dumps, the files they were found as, and what analysis read.
	`
CREATE TABLE dumps (
	id                 INTEGER PRIMARY KEY,
	sha256             TEXT    NOT NULL UNIQUE,
	path               TEXT    NOT NULL, -- the first path this content was indexed from
	size               INTEGER NOT NULL,
	mtime              INTEGER NOT NULL, -- file modification time, Unix nanoseconds
	status             TEXT    NOT NULL, -- ok | partial (no analysis) | error (could not be read)
	error              TEXT,
	format             TEXT,
	variant            TEXT,
	container          TEXT,
	os_family          TEXT,
	os_version         TEXT,
	os_build           TEXT,
	os_release         TEXT,
	arch               TEXT,
	cpus               INTEGER,
	crash_time         INTEGER, -- Unix seconds, from the dump
	uptime             INTEGER,
	process_name       TEXT,
	pid                INTEGER,
	command_line       TEXT,
	crash_kind         TEXT,
	crash_code         INTEGER,
	crash_name         TEXT,
	crash_address      TEXT,
	crash_parameters   TEXT, -- space-separated hex
	crash_message      TEXT,
	crash_thread       INTEGER,
	reason             TEXT,
	faulting_module    TEXT,
	faulting_frame     TEXT,
	probably_caused_by TEXT,
	signature          TEXT,
	bucket_id          TEXT,
	bucket_key         TEXT, -- what Buckets groups by; NULL for non-crashes
	indexed_at         INTEGER NOT NULL
);
CREATE TABLE files (
	path       TEXT    PRIMARY KEY,
	size       INTEGER NOT NULL,
	mtime      INTEGER NOT NULL,
	sha256     TEXT,
	status     TEXT    NOT NULL, -- dump | duplicate | not-dump | error
	error      TEXT,
	dump_id    INTEGER REFERENCES dumps(id) ON DELETE SET NULL,
	indexed_at INTEGER NOT NULL
);
CREATE TABLE modules (
	dump_id    INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
	idx        INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	path       TEXT,
	version    TEXT,
	timestamp  INTEGER,
	checksum   INTEGER,
	debug_file TEXT,
	debug_id   TEXT,
	build_id   TEXT,
	code_id    TEXT,
	base       TEXT,
	size       INTEGER,
	unloaded   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (dump_id, idx)
) WITHOUT ROWID;
CREATE TABLE threads (
	dump_id INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
	idx     INTEGER NOT NULL,
	tid     INTEGER NOT NULL,
	name    TEXT,
	crashed INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (dump_id, idx)
) WITHOUT ROWID;
CREATE TABLE frames (
	dump_id    INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
	thread_idx INTEGER NOT NULL,
	idx        INTEGER NOT NULL,
	module     TEXT,
	function   TEXT,
	offset     TEXT,
	file       TEXT,
	line       INTEGER,
	trust      TEXT,
	PRIMARY KEY (dump_id, thread_idx, idx)
) WITHOUT ROWID;
CREATE TABLE processes (
	dump_id INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
	idx     INTEGER NOT NULL,
	pid     INTEGER,
	ppid    INTEGER,
	name    TEXT NOT NULL,
	PRIMARY KEY (dump_id, idx)
) WITHOUT ROWID;
`,
	// 2: what users add: notes and tags.
	`
CREATE TABLE notes (
	id         INTEGER PRIMARY KEY,
	dump_id    INTEGER REFERENCES dumps(id) ON DELETE CASCADE,
	bucket_key TEXT, -- a note on a whole bucket when dump_id is NULL
	text       TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE tags (
	dump_id INTEGER NOT NULL REFERENCES dumps(id) ON DELETE CASCADE,
	tag     TEXT    NOT NULL,
	PRIMARY KEY (dump_id, tag)
) WITHOUT ROWID;
`,
	// 3: watched folders and the user's bucket merges and splits.
	`
CREATE TABLE watched_folders (
	path     TEXT PRIMARY KEY,
	added_at INTEGER NOT NULL
);
CREATE TABLE bucket_overrides (
	id         INTEGER PRIMARY KEY,
	kind       TEXT    NOT NULL CHECK (kind IN ('merge', 'split')),
	bucket_key TEXT,    -- merge: every dump of this bucket ...
	dump_id    INTEGER REFERENCES dumps(id) ON DELETE CASCADE, -- split: this dump ...
	target_key TEXT    NOT NULL, -- ... goes to this bucket
	created_at INTEGER NOT NULL
);
`,
	// 4: full-text search, one row per dump (rowid = dumps.id).
	`
CREATE VIRTUAL TABLE search USING fts5(
	path, process, crash, signature, modules, versions, functions,
	tokenize = 'unicode61'
);
CREATE TRIGGER dumps_search_delete AFTER DELETE ON dumps BEGIN
	DELETE FROM search WHERE rowid = old.id;
END;
`,
	// 5: indexes for grouping, dedupe and filters.
	`
CREATE INDEX dumps_bucket ON dumps(bucket_key);
CREATE INDEX files_dump ON files(dump_id);
CREATE INDEX modules_name ON modules(name COLLATE NOCASE);
CREATE INDEX notes_dump ON notes(dump_id);
CREATE INDEX overrides_bucket ON bucket_overrides(bucket_key);
CREATE INDEX overrides_dump ON bucket_overrides(dump_id);
`,
	// 6: what the reader found damaged in a dump that still opened
	// (one "severity: message" line each), so malformed dumps are
	// recorded with what is wrong with them.
	`ALTER TABLE dumps ADD COLUMN diagnostics TEXT;`,
}
