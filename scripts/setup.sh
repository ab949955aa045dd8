#!/usr/bin/env bash
# Installs what building and testing Crashbench needs, and only what is
# missing: Debian packages for cgo, OpenGL/X11 and GTK (Fyne and the native
# file dialog), Xvfb and screenshot tools for the GUI smoke test, glibc's
# debug file (libc6-dbg: the tests name libc frames of cores written on
# Debian 12 as gdb does), makedumpfile and lzop (the vmcore tests make the
# other compressions of the corpus vmcore with them, and the benchmark
# compares with makedumpfile --dump-dmesg), desktop-file-utils, xdg-utils
# and shared-mime-info (crashbench --register and its test), and the Go
# modules. Safe to
# re-run. When it cannot install something it says what.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  gcc pkg-config
  libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev
  libgtk-3-dev
  xvfb x11-utils xdotool x11-apps imagemagick xauth
  libc6-dbg
  makedumpfile lzop
  desktop-file-utils xdg-utils shared-mime-info
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "setup: missing packages and not root: run  apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "setup: could not install: ${missing[*]}; install them with apt-get and re-run" >&2
    exit 1
  fi
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "setup: no Go toolchain found: install Go 1.26 (https://go.dev/dl/) into /usr/local/go, or apt-get install golang-go (1.21 or newer fetches Go 1.26 by itself through GOTOOLCHAIN)" >&2
    exit 1
  fi
fi

go mod download
