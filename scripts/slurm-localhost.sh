#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the job-array test of
# `flameconv batch` (Tests/flameconvTests/BatchSlurmTests.swift) and for trying
# the README's example by hand. Run as root; scripts/install-deps.sh installs
# slurmctld, slurmd, slurm-client and munge.
#
#   scripts/slurm-localhost.sh start   # munged, slurmctld, slurmd; waits until the node is idle
#   scripts/slurm-localhost.sh stop    # stops the three daemons it started (by their pid files)
#
# Everything lives in $FLAMECONV_SLURM_DIR (default /tmp/flameconv-slurm): the
# configuration (slurm.conf), state, spool, logs, pid files and munge's socket.
# Commands reach this cluster with SLURM_CONF=$FLAMECONV_SLURM_DIR/slurm.conf,
# which `start` prints last.
#
# The configuration is the least Slurm runs with: one node "localhost" with
# this machine's CPUs, one partition, processes tracked by /proc
# (proctrack/linuxproc, task/none: no cgroups, which a container may lack),
# no accounting.
set -euo pipefail

dir="${FLAMECONV_SLURM_DIR:-/tmp/flameconv-slurm}"
conf="$dir/slurm.conf"
socket="$dir/munge/munge.socket"

log() { echo "slurm-localhost: $*" >&2; }

stop_pidfile() {
    local file="$1"
    [ -f "$file" ] || return 0
    local pid
    pid="$(cat "$file")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop() {
    stop_pidfile "$dir/slurmd.pid"
    stop_pidfile "$dir/slurmctld.pid"
    stop_pidfile "$dir/munge/munged.pid"
    log "stopped"
}

start() {
    [ "$(id -u)" -eq 0 ] || { log "run me as root (the daemons start as root)"; exit 1; }
    for tool in munged slurmctld slurmd sinfo sbatch; do
        command -v "$tool" >/dev/null || { log "$tool is missing: run scripts/install-deps.sh"; exit 1; }
    done
    # A cluster left from an earlier run is stopped first: its state is not ours to trust.
    stop >/dev/null 2>&1 || true
    mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
    chmod 700 "$dir/munge"

    # munge: a key of our own, a socket of our own.
    if [ ! -s "$dir/munge/munge.key" ]; then
        dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
        chmod 400 "$dir/munge/munge.key"
    fi
    munged --force --key-file="$dir/munge/munge.key" --socket="$socket" \
        --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"

    local cpus
    cpus="$(nproc)"
    cat >"$conf" <<CONF
ClusterName=flameconv
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$conf"
    slurmctld -c -f "$conf"
    slurmd -N localhost -f "$conf"

    # Ready when the node is idle.
    for _ in $(seq 120); do
        if [ "$(sinfo -h -n localhost -o %t 2>/dev/null)" = "idle" ]; then
            log "up: $cpus CPUs on node localhost"
            echo "SLURM_CONF=$conf"
            return 0
        fi
        sleep 0.5
    done
    log "the node did not become idle in 60 s; sinfo says: $(sinfo 2>&1 || true)"
    tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
    stop
    exit 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
