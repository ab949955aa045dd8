#!/bin/sh
# crashbench: keep core dumps of crashing processes with systemd-coredump
# For debian 12, amd64, 63.6 GiB RAM.
# Changes:
#   coredump.conf ProcessSizeMax: 16G -> 64G
#   coredump.conf ExternalSizeMax: 8G -> 64G
#   DefaultLimitCORE (systemd system.conf): 0:infinity -> infinity
# Review it, then run it as root. It saves what it replaces in
# /var/lib/crashbench/backup/linux-cores; revert.sh puts it back.
set -eu
[ "$(id -u)" -eq 0 ] || { echo "apply.sh: run as root" >&2; exit 1; }
B=/var/lib/crashbench/backup/linux-cores
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

# systemd-coredump limits (coredump.conf(5)): drop-ins apply in name order,
# this one late, so it overrides the others. systemd-coredump runs anew for each crash:
# nothing to restart.
save /etc/systemd/coredump.conf.d/99-crashbench.conf
mkdir -p /etc/systemd/coredump.conf.d
cat >/etc/systemd/coredump.conf.d/99-crashbench.conf <<'EOF'
# crashbench: keep cores of processes as big as RAM
[Coredump]
ProcessSizeMax=64G
ExternalSizeMax=64G
EOF

# Let services dump core (systemd-system.conf(5)).
save /etc/systemd/system.conf.d/99-crashbench-core.conf
mkdir -p /etc/systemd/system.conf.d
cat >/etc/systemd/system.conf.d/99-crashbench-core.conf <<'EOF'
[Manager]
DefaultLimitCORE=infinity
EOF
systemctl daemon-reexec

echo 'Done. Test it: sleep 100 & kill -SEGV $! ; coredumpctl list sleep'
