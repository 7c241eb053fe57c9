#!/usr/bin/env bash
# A one-machine Slurm cluster in a folder of its own, for the tests and for trying `--slurm`
# without a cluster: munged, slurmctld and slurmd (Debian's munge and slurm-wlm) with a generated
# slurm.conf, one node with this machine's CPUs. Needs root (slurmd runs jobs as their user).
#
#   eval "$(scripts/slurm-local.sh start /tmp/cluster)"   # prints: export SLURM_CONF=...
#   sbatch --wrap hostname; squeue
#   scripts/slurm-local.sh stop /tmp/cluster
set -euo pipefail
action=${1:-}
dir=${2:-}
if [ -z "$action" ] || [ -z "$dir" ]; then
  echo "usage: slurm-local.sh start|stop DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
conf=$dir/slurm.conf

stop() {
  local pid
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    rm -f "$pidfile"
  done
}

if [ "$action" = stop ]; then
  stop
  exit 0
fi
[ "$action" = start ] || { echo "slurm-local.sh: unknown action '$action'" >&2; exit 2; }
for tool in munged mungekey slurmctld slurmd sbatch; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "slurm-local.sh: $tool is missing (apt install slurm-wlm munge)" >&2
    exit 1
  }
done
[ "$(id -u)" = 0 ] || { echo "slurm-local.sh: needs root (slurmd)" >&2; exit 1; }
export PATH=$PATH:/usr/sbin
stop
mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
chmod 700 "$dir/munge"
[ -f "$dir/munge/munge.key" ] || mungekey -c -k "$dir/munge/munge.key" -f
munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/seed" --force
host=$(hostname -s)
port=${SLURM_LOCAL_PORT:-16817}
cat >"$conf" <<CONF
ClusterName=fastgda-local
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$conf
slurmctld -f "$conf"
slurmd -f "$conf"
# Ready when the node is idle (or already running jobs).
for _ in $(seq 1 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix|alloc'; then
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  sleep 0.5
done
echo "slurm-local.sh: the node did not come up in 30 s; logs in $dir/log" >&2
exit 1
