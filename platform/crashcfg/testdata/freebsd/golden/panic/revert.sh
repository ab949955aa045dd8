#!/bin/sh
# crashbench: undo apply.sh (dump FreeBSD kernel panics with dumpon and savecore)
# For 13.3-RELEASE, amd64, 8 GiB RAM.
# Puts back what apply.sh saved in /var/db/crashbench/backup/freebsd-dump.
set -eu
[ "$(id -u)" -eq 0 ] || { echo "revert.sh: run as root" >&2; exit 1; }
B=/var/db/crashbench/backup/freebsd-dump
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

if [ -e "$B/dumpdir.created" ]; then rmdir /var/crash 2>/dev/null || true; fi

restore /etc/rc.conf
restore /etc/rc.conf.local
case "$(sysrc -n dumpdev 2>/dev/null || true)" in
[Nn][Oo] | '') dumpon off ;;
*) service dumpon start ;;
esac

rm -rf "$B"
echo "Reverted."
