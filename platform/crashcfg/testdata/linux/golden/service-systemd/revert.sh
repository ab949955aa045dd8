#!/bin/sh
# crashbench: undo apply.sh (keep core dumps of crashing processes with systemd-coredump)
# For debian 12, amd64, 63.6 GiB RAM.
# Puts back what apply.sh saved in /var/lib/crashbench/backup/linux-cores.
set -eu
[ "$(id -u)" -eq 0 ] || { echo "revert.sh: run as root" >&2; exit 1; }
B=/var/lib/crashbench/backup/linux-cores
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

restore /etc/systemd/system.conf.d/99-crashbench-core.conf
systemctl daemon-reexec

restore /etc/systemd/coredump.conf.d/99-crashbench.conf

rm -rf "$B"
echo "Reverted."
