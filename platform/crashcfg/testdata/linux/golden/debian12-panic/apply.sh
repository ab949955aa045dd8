#!/bin/sh
# crashbench: capture kernel panics with kdump
# For debian 12, amd64, 15.8 GiB RAM.
# Changes:
#   crashkernel= (kernel command line): (unset) -> 384M-:128M
#   package kdump-tools: not installed -> installed
#   /etc/default/kdump-tools USE_KDUMP: (unset) -> 1
#   kdump-tools.service: not installed -> enabled
# Review it, then run it as root. It saves what it replaces in
# /var/lib/crashbench/backup/linux-kdump; revert.sh puts it back.
set -eu
[ "$(id -u)" -eq 0 ] || { echo "apply.sh: run as root" >&2; exit 1; }
B=/var/lib/crashbench/backup/linux-kdump
mkdir -p "$B"
chmod 700 "$B"

# save FILE: keep FILE (or a note that it did not exist) in the backup,
# once: a second run keeps the first backup.
save() {
	n=$(printf %s "$1" | tr / _)
	if [ -e "$B/$n" ] || [ -e "$B/$n.absent" ]; then return 0; fi
	if [ -e "$1" ]; then cp -p "$1" "$B/$n"; else : >"$B/$n.absent"; fi
}
# keep NAME COMMAND...: keep the output of COMMAND in the backup as NAME, once.
keep() {
	n=$1
	shift
	[ -e "$B/$n" ] || "$@" >"$B/$n"
}
# setvar FILE VAR VALUE: set VAR=VALUE in a shell-style file, replacing
# the line that sets it (or the commented-out one), else appending it.
setvar() {
	if grep -Eq "^[#[:space:]]*$2=" "$1"; then
		sed -i -E "s|^[#[:space:]]*$2=.*|$2=$3|" "$1"
	else
		printf '%s=%s\n' "$2" "$3" >>"$1"
	fi
}

# Install kdump-tools (kdump-config, kdump-tools.service, makedumpfile).
command -v kdump-config >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y kdump-tools

# /etc/default/kdump-tools (kdump-tools(5)).
save /etc/default/kdump-tools
setvar /etc/default/kdump-tools USE_KDUMP 1

# Reserve memory for the crash kernel. grub.d files are read in name order
# after /etc/default/grub, and the kernel uses the last crashkernel=, so this one wins.
save /etc/default/grub.d/99-crashbench-crashkernel.cfg
mkdir -p /etc/default/grub.d
cat >/etc/default/grub.d/99-crashbench-crashkernel.cfg <<'EOF'
# crashbench: memory for the kdump capture kernel (kernel-parameters.txt, kdump.rst)
GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=384M-:128M"
EOF
update-grub

# Start kdump-tools.service at every boot.
keep kdump-tools.service.enabled sh -c 'systemctl is-enabled kdump-tools.service 2>/dev/null || true'
systemctl enable kdump-tools.service

echo 'Done. Reboot so that crashkernel= reserves the memory, then check: kdump-config show (or crashbench config check).'
