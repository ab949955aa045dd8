#!/usr/bin/env bash
# gui-smoke.sh BINARY DUMP SHOT: starts BINARY on DUMP under a private Xvfb,
# waits for its window, saves a screenshot to SHOT, and fails if no window
# titled Crashbench appears within 60 s.
set -euo pipefail
bin=$1 dump=$2 shot=$3
source "$(dirname "$0")/xvfb.sh"
start_xvfb 1920x1200x24
display=$xvfb_display
app=""
cleanup() { [ -n "$app" ] && kill "$app" 2>/dev/null; kill "$xvfb" 2>/dev/null; wait 2>/dev/null || true; }
private=$(mktemp -d) # every directory the app writes to, removed at exit
trap 'cleanup; rm -rf "$private"' EXIT
export DISPLAY=$display
# A private runtime dir: a workbench the user already runs must not take the
# files over (one workbench per user, see platform/instance.go).
XDG_RUNTIME_DIR=$private/runtime
# Nor may the smoke test index into the user's workspace or change their
# settings (recent files, the last workspace).
XDG_DATA_HOME=$private/data
XDG_CONFIG_HOME=$private/config
mkdir -m 700 "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
export XDG_RUNTIME_DIR XDG_DATA_HOME XDG_CONFIG_HOME
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
"$bin" "$dump" >/tmp/crashbench-gui-smoke.log 2>&1 &
app=$!
for _ in $(seq 600); do
  if xdotool search --name '^Crashbench' >/dev/null 2>&1; then
    sleep 2 # let the summary load and render
    import -window root "$shot"
    echo "gui-smoke: window up; screenshot in $shot"
    exit 0
  fi
  if ! kill -0 "$app" 2>/dev/null; then
    echo "gui-smoke: the app exited before showing a window:" >&2
    cat /tmp/crashbench-gui-smoke.log >&2
    exit 1
  fi
  sleep 0.1
done
echo "gui-smoke: no Crashbench window after 60 s" >&2
exit 1
