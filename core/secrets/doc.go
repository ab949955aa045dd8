// Package secrets scans a dump's memory for what it would leak if shared:
// private keys, cloud access keys, tokens and passwords (issue 12, item 6).
//
// Scan reads the regions it is given in chunks (with an overlap, so a
// secret that straddles a chunk edge is still seen whole) and runs a set
// of detectors over each chunk, once as bytes and once over the runs of
// UTF-16LE text the chunk holds (Windows keeps most strings that way).
// Each finding carries its kind, address, length and region, and a
// redacted preview; the value itself only when Options.Show asks for it.
//
// # Detection
//
// Each detector starts from a literal anchor ("-----BEGIN ", "AKIA",
// "eyJ", "://", "password=") and checks the structure around it: a PEM
// block needs a PRIVATE KEY label, a base64 body and its END line (or a
// long body), a JWT's header must decode to a JSON object with "alg", a
// URL needs scheme://user:pass@host, a password must not look like a
// placeholder ("%s", "{0}", "****"). All anchors are found in one pass
// over the chunk (a bit set of their first two bytes rejects nearly every
// position at once), which keeps the scan at hundreds of MB/s where a
// regular expression per kind would crawl over gigabytes of memory; the
// structural checks keep random binary from matching: a clean dump of
// random bytes reports nothing.
//
// When detectors overlap (a JWT in an "Authorization: Bearer" header),
// the most specific kind wins and the others are dropped, so one secret
// is counted once; Kinds lists the order.
//
// # Robustness
//
// Safe on corrupt and hostile memory: every match is bounded in length,
// the findings kept per kind are bounded (Options.MaxPerKind; the counts
// go on), unreadable pages are skipped one by one and a region that
// keeps faulting is abandoned with a note, and the scan stops when
// its context is cancelled, returning what it found so far.
package secrets
