package platform

import "runtime"

// NoDisplay says why a window cannot be opened here, "" when it can. On
// X11 and Wayland systems a session without DISPLAY or WAYLAND_DISPLAY (a
// server, ssh without -X) has no display, and GLFW would panic instead of
// failing; Windows and macOS always have their window server.
func NoDisplay(getenv func(string) string) string {
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "android":
		return ""
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return "no display to open the workbench on (DISPLAY and WAYLAND_DISPLAY are not set)"
	}
	return ""
}
