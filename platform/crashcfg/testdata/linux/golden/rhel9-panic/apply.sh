#!/bin/sh
# crashbench: capture kernel panics with kdump
# For rhel 9.4, amd64, 64 GiB RAM.
# Changes:
#   crashkernel= (kernel command line): (not read) -> 1G-4G:192M,4G-64G:256M,64G-:512M
#   package kexec-tools: (not read) -> installed
#   /etc/kdump.conf core_collector: (not read) -> makedumpfile -l --message-level 7 -d 31
#   kdump.service: (not read) -> enabled
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
# setopt FILE KEY VALUE: set "KEY VALUE" in kdump.conf, replacing the
# line that sets KEY (commented-out examples are left alone), else appending.
setopt() {
	if grep -Eq "^$2[[:space:]]" "$1"; then
		sed -i -E "s|^$2[[:space:]].*|$2 $3|" "$1"
	else
		printf '%s %s\n' "$2" "$3" >>"$1"
	fi
}

# Install kexec-tools (kdumpctl, kdump.service, makedumpfile).
command -v kdumpctl >/dev/null 2>&1 || dnf install -y kexec-tools

# /etc/kdump.conf (kdump.conf(5)).
save /etc/kdump.conf
setopt /etc/kdump.conf core_collector 'makedumpfile -l --message-level 7 -d 31'

# Reserve memory for the crash kernel on every installed kernel (grubby(8)).
# The value in use now is kept for revert.sh.
keep crashkernel sh -c 'grubby --info=DEFAULT | sed -n "s/^args=.*crashkernel=\([^ \"]*\).*/\1/p"'
grubby --update-kernel=ALL --args="crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"

# Start kdump.service at every boot.
keep kdump.service.enabled sh -c 'systemctl is-enabled kdump.service 2>/dev/null || true'
systemctl enable kdump.service

echo 'Done. Reboot so that crashkernel= reserves the memory, then check: kdumpctl status (or crashbench config check).'
