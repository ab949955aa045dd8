// Package signature embeds the crash-signature rule lists as data, so they
// can be reviewed and extended without touching code (the Socorro idea).
// Each file holds one Go regular expression per line; blank lines and
// lines starting with # are ignored. core/analyze reads them; a user file
// may extend them later.
package signature

import _ "embed"

// Irrelevant matches frames left out of a signature entirely: the
// machinery of raising, waiting and aborting that every crash shares.
//
//go:embed irrelevant.txt
var Irrelevant string

// Prefix matches frames that are too generic to stand alone (allocators,
// string functions, terminate handlers): they are kept and joined with the
// next frame by " | ".
//
//go:embed prefix.txt
var Prefix string

// Sentinel matches frames where a signature starts even if frames above
// them would otherwise be used (pure-virtual-call and stack-check
// handlers report the bug at the caller of their caller).
//
//go:embed sentinel.txt
var Sentinel string

// System matches the file names of operating-system and runtime modules,
// which are not blamed for a crash when a frame of another module exists.
//
//go:embed system.txt
var System string
