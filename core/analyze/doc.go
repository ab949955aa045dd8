// Package analyze turns a crash into what a support engineer files and
// searches by: the crash reason, the suspect module, a Socorro-style
// signature that skips the frames every crash shares, and a WinDbg-style
// FAILURE_BUCKET_ID.
//
// The rule lists (irrelevant, prefix and sentinel frames, system modules)
// are data in assets/signature, not code.
package analyze
