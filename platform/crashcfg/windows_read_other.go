//go:build !windows

package crashcfg

// ReadWindows reads the crash-dump settings of the Windows machine it
// runs on. Elsewhere there is no registry: it returns ErrNoRegistry.
func ReadWindows() (WindowsConfig, Machine, error) {
	return WindowsConfig{}, Machine{OS: Windows}, ErrNoRegistry
}
