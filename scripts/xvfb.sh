# xvfb.sh, sourced by the scripts that run the workbench headless.
# start_xvfb GEOMETRY starts a private Xvfb and sets xvfb (the pid) and
# xvfb_display (":N") once the server answers. N is random in 100-999 and
# not held by another server (its lock file), so that two scripts running
# at once (CI's smoke test beside make screenshots) neither share nor kill
# each other's display, and a number just released by a dying server is
# not taken again at once (Xvfb -displayfd does that, and the client then
# sometimes reached no server). A server that does not answer, or exits
# (another took N meanwhile), is replaced by one on another number.
# -noreset: an X server resets when its last client leaves, and during the
# reset it refuses connections; the probe here is such a client, and the
# workbench started just after it then failed to open the display.
start_xvfb() {
	local n
	for _ in 1 2 3 4 5; do
		n=$((100 + RANDOM % 900))
		[ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] && continue
		Xvfb ":$n" -screen 0 "$1" -nolisten tcp -noreset >/dev/null 2>&1 &
		xvfb=$!
		xvfb_display=":$n"
		for _ in $(seq 100); do
			kill -0 "$xvfb" 2>/dev/null || break
			DISPLAY=$xvfb_display xdpyinfo >/dev/null 2>&1 && return 0
			sleep 0.1
		done
		kill "$xvfb" 2>/dev/null
		wait "$xvfb" 2>/dev/null
	done
	echo "Xvfb did not start (5 tries)" >&2
	return 1
}
