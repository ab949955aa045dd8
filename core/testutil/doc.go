// Package testutil groups helpers for tests anywhere in the module:
// fixture finds the module's testdata/ and the shared corpus, golden
// compares output with files under testdata/golden. They are not internal
// to core because app and CLI tests use them too; nothing outside tests
// imports them.
package testutil
