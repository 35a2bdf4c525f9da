#!/usr/bin/env bash
# Bring up a one-node Slurm cluster with accounting on this Debian machine, to try and test
# `lssat sweep --launcher slurm` without a real cluster (docs/running.md, "Try the cluster path on
# one machine"). Needs root. Installs slurm-wlm, slurmdbd, munge and mariadb-server when missing,
# writes /etc/slurm/slurm.conf (this host, its cores and memory) and slurmdbd.conf, starts munge,
# MariaDB, slurmdbd, slurmctld and slurmd by hand (no systemd needed), registers the cluster and
# waits until `sinfo` shows the node idle. Run it again at any time: what runs is left running.
# scripts/slurm-down.sh stops what this script started.
set -euo pipefail

CLUSTER=${LSSAT_SLURM_CLUSTER:-lssat}
PARTITION=${LSSAT_SLURM_PARTITION:-debug}
# the accounting database is reachable from this machine only (MariaDB listens on its socket)
DB_PASSWORD=${LSSAT_SLURM_DB_PASSWORD:-slurm-local-only}
PACKAGES=(slurm-wlm slurmdbd munge mariadb-server mariadb-client)
RUN=/run/lssat-slurm          # the Slurm daemons' pid files (MariaDB's: /run/mysqld, munged's: /run/munge)
LOG=/var/log/slurm

say() { echo "slurm-up: $*"; }
fail() { echo "slurm-up: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (it installs packages and starts daemons); run: sudo $0"

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || fail "no apt-get: install ${missing[*]} with this system's package manager, then run again"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # no init system here: the packages' own attempts to start their services are refused
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    apt-get update -qq || fail "apt-get update failed; check the package sources"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || fail "apt-get install ${missing[*]} failed"
    rm -f /usr/sbin/policy-rc.d
fi

host=$(hostname -s)
mkdir -p "$RUN" "$LOG" /etc/slurm /var/spool/slurmctld /var/spool/slurmd

# ---------------------------------------------------------------- configuration
# slurmd -C reports this node as slurmd sees it (cores, sockets, memory)
node=$(slurmd -C | head -n 1)
case "$node" in NodeName=*) ;; *) fail "slurmd -C did not describe this node: $node" ;; esac
# KillWait: a job that ignores scancel's TERM (submitit's jobs do) is killed 2 s later, not 30
cat > /etc/slurm/slurm.conf.new <<EOF
# written by lssat's scripts/slurm-up.sh: a one-node cluster on $host, every address on loopback
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobCompType=jobcomp/none
MailProg=/bin/true
KillWait=2
MinJobAge=300
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
cat > /etc/slurm/slurmdbd.conf.new <<EOF
# written by lssat's scripts/slurm-up.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASSWORD
StorageLoc=slurm_acct_db
EOF
changed=
for file in slurm.conf slurmdbd.conf; do
    if cmp -s "/etc/slurm/$file.new" "/etc/slurm/$file"; then
        rm "/etc/slurm/$file.new"
    else
        mv "/etc/slurm/$file.new" "/etc/slurm/$file"
        changed="$changed $file"
    fi
done
chmod 600 /etc/slurm/slurmdbd.conf   # it holds the database password
[ -z "$changed" ] || say "wrote$changed in /etc/slurm"

# ---------------------------------------------------------------- daemons
started=()
running() {  # running PIDFILE NAME: the pid file names a live process of that name (not a reused pid)
    [ -s "$1" ] && [ "$(cat "/proc/$(cat "$1")/comm" 2>/dev/null)" = "$2" ]
}
wait_for() {  # wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq $((seconds * 2))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    fail "$what did not come up in ${seconds} s; see $LOG/ and /var/log/mysql/"
}

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key && chown munge:munge /etc/munge/munge.key; }
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged --force
    wait_for 20 munged sh -c 'munge -n | unmunge'
    started+=(munged)
fi

if ! mysqladmin ping >/dev/null 2>&1; then
    install -d -o mysql -g mysql /run/mysqld
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
    nohup mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid >>"$LOG/mariadb.log" 2>&1 &
    wait_for 60 MariaDB mysqladmin ping
    started+=(mariadb)
fi
mysql -u root <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
EOF

if ! running "$RUN/slurmdbd.pid" slurmdbd; then
    slurmdbd
    wait_for 60 slurmdbd sacctmgr -n list cluster
    started+=(slurmdbd)
fi
if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
    sacctmgr -i add cluster "$CLUSTER" >/dev/null
    say "registered cluster $CLUSTER with slurmdbd"
fi

if ! running "$RUN/slurmctld.pid" slurmctld; then
    slurmctld
    wait_for 60 slurmctld scontrol ping
    started+=(slurmctld)
elif [ -n "$changed" ]; then
    scontrol reconfigure && say "the running slurmctld and slurmd re-read slurm.conf"
fi
if ! running "$RUN/slurmd.pid" slurmd; then
    slurmd
    started+=(slurmd)
fi

# ---------------------------------------------------------------- the node idle
for _ in $(seq 120); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -n 1)
    case "$state" in
        idle|mixed|allocated) break ;;
        down*|drain*|*drained) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
done
case "$state" in idle|mixed|allocated) ;; *) fail "node $host is '$state' after 60 s; see $LOG/slurmd.log and $LOG/slurmctld.log" ;; esac

if [ ${#started[@]} -gt 0 ]; then say "started ${started[*]}"; else say "everything was running already"; fi
say "cluster $CLUSTER: node $host $state in partition $PARTITION ($(sinfo -h -n "$host" -o '%c cores, %m MB'))"
