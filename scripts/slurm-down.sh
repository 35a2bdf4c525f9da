#!/usr/bin/env bash
# Stop the one-node Slurm cluster of scripts/slurm-up.sh: cancel its jobs, then stop slurmd,
# slurmctld, slurmdbd, MariaDB and munged, each by the process id in its pid file. Configuration,
# accounting database and job state stay, so slurm-up.sh brings the same cluster back.
set -euo pipefail

RUN=/run/lssat-slurm

say() { echo "slurm-down: $*"; }
[ "$(id -u)" = 0 ] || { echo "slurm-down: needs root (it stops the daemons slurm-up.sh started as root)" >&2; exit 1; }

stop() {  # stop NAME PIDFILE: TERM, then wait up to 30 s for the process to end
    local name=$1 pidfile=$2 pid
    [ -s "$pidfile" ] && pid=$(cat "$pidfile") && kill -0 "$pid" 2>/dev/null || { say "$name was not running"; return 0; }
    kill -TERM "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || { say "stopped $name (pid $pid)"; return 0; }; sleep 0.5; done
    echo "slurm-down: $name (pid $pid) still runs 30 s after TERM; see /var/log/slurm/" >&2
    return 1
}

if command -v scancel >/dev/null && scontrol ping >/dev/null 2>&1; then
    scancel --full --user=root 2>/dev/null || true
fi
status=0
stop slurmd "$RUN/slurmd.pid" || status=1
stop slurmctld "$RUN/slurmctld.pid" || status=1
stop slurmdbd "$RUN/slurmdbd.pid" || status=1
stop MariaDB /run/mysqld/mysqld.pid || status=1
stop munged /run/munge/munged.pid || status=1
exit $status
