//go:build !cgo || ci

package platform

// NativePicker reports ErrNoNativeDialog: sqweek/dialog needs cgo (and GTK
// on Linux), and `-tags ci` builds must link no desktop libraries.
func NativePicker() (FilePicker, error) { return nil, ErrNoNativeDialog }
