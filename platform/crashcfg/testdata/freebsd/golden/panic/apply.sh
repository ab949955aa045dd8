#!/bin/sh
# crashbench: dump FreeBSD kernel panics with dumpon and savecore
# For 13.3-RELEASE, amd64, 8 GiB RAM.
# Changes:
#   rc.conf dumpdev: NO -> AUTO
#   rc.conf savecore_enable: NO -> YES
#   directory /var/crash: missing -> created (mode 700)
# Review it, then run it as root. It saves what it replaces in
# /var/db/crashbench/backup/freebsd-dump; revert.sh puts it back.
set -eu
[ "$(id -u)" -eq 0 ] || { echo "apply.sh: run as root" >&2; exit 1; }
B=/var/db/crashbench/backup/freebsd-dump
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

# rc.conf variables (rc.conf(5)), with sysrc(8), in the file that sets each
# (saved first).
save /etc/rc.conf
sysrc -f /etc/rc.conf dumpdev=AUTO
save /etc/rc.conf.local
sysrc -f /etc/rc.conf.local savecore_enable=YES
# Configure the dump device now, as rc.d/dumpon does at boot.
service dumpon start

# The dump directory: dumps hold all kernel memory, so root only.
if [ ! -d /var/crash ]; then
	: >"$B/dumpdir.created"
	mkdir -p /var/crash
	chmod 700 /var/crash
fi

echo 'Done. The next panic is dumped to swap and saved by savecore at boot into /var/crash.'
