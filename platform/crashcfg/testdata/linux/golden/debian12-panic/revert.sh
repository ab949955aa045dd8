#!/bin/sh
# crashbench: undo apply.sh (capture kernel panics with kdump)
# For debian 12, amd64, 15.8 GiB RAM.
# Puts back what apply.sh saved in /var/lib/crashbench/backup/linux-kdump.
set -eu
[ "$(id -u)" -eq 0 ] || { echo "revert.sh: run as root" >&2; exit 1; }
B=/var/lib/crashbench/backup/linux-kdump
[ -d "$B" ] || { echo "revert.sh: no backup in $B: apply.sh has not run" >&2; exit 1; }

# restore FILE: put back the saved FILE, or remove it if it did not exist.
restore() {
	n=$(printf %s "$1" | tr / _)
	if [ -e "$B/$n.absent" ]; then
		rm -f "$1"
	elif [ -e "$B/$n" ]; then
		cp -p "$B/$n" "$1"
	fi
}

if [ -e "$B/kdump-tools.service.enabled" ] && [ "$(cat "$B/kdump-tools.service.enabled")" != enabled ]; then
	systemctl disable kdump-tools.service || true
fi

restore /etc/default/grub.d/99-crashbench-crashkernel.cfg
update-grub

restore /etc/default/kdump-tools

# kdump-tools stays installed: apt-get remove kdump-tools to remove it.

rm -rf "$B"
echo "Reverted."
