# xvfb.sh, sourced by the scripts that run the workbench headless.
# start_xvfb GEOMETRY starts a private Xvfb on a display number it picks
# itself (-displayfd), so that two scripts running at once (CI's smoke test
# beside make screenshots) never share or kill each other's display; it
# sets xvfb (the pid) and xvfb_display (":N") and waits until it answers.
start_xvfb() {
	local f
	f=$(mktemp)
	Xvfb -displayfd 3 -screen 0 "$1" -nolisten tcp 3>"$f" >/dev/null 2>&1 &
	xvfb=$!
	for _ in $(seq 200); do [ -s "$f" ] && break; sleep 0.05; done
	xvfb_display=":$(tr -d '[:space:]' <"$f")"
	rm -f "$f"
	if [ "$xvfb_display" = ":" ]; then
		echo "Xvfb did not start" >&2
		return 1
	fi
	for _ in $(seq 50); do DISPLAY=$xvfb_display xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
}
