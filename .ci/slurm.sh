#!/usr/bin/env bash
# CI: run a sharded PSA as a real SLURM job array on a single-node cluster started here, and check
# that the merged shards reproduce the unsharded run byte for byte, that a failed array task makes
# `allseq merge` refuse (naming the missing draws), and that re-running only the failed index
# recovers.
#
# Starts from a clean Debian machine running as root without systemd; installs SLURM and munge if
# they are missing. Everything SLURM writes (state, spool, pid and log files) and every PSA output
# lives in a scratch folder. Measured facts and pitfalls: shared/notes/slurm.md.
# Run after `cargo build --release` (it builds only when target/release/allseq is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
start=$SECONDS

SCENARIO=scenarios/adult_rr_ball.toml
DRAWS=32
PATIENTS=300
SHARDS=8
FAIL=3 # the array index made to fail and then re-run
CSVS="psa_params.csv psa_long.csv psa_cost.csv psa_effect.csv ceac.csv evpi.csv"

step() { echo "== slurm: $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (starts munge and the SLURM daemons)"

if [ ! -x target/release/allseq ]; then
    step "cargo build --release (target/release/allseq is missing)"
    cargo build --release
fi
ALLSEQ=$(realpath target/release/allseq)

# ---------------------------------------------------------------------------------------------
step "install slurmctld slurmd slurm-client munge"
if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
    && command -v munged >/dev/null && command -v munge >/dev/null; then
    echo "already installed: $(slurmctld -V)"
else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
    echo "installed: $(slurmctld -V)"
fi

# ---------------------------------------------------------------------------------------------
S=$(mktemp -d /tmp/allseq-slurm.XXXXXX) # SLURM state, spool, pid and log files
W=$S/work                               # PSA outputs and job logs
mkdir -p "$S/state" "$S/spool" "$W"
chmod 755 "$S"
MUNGE_STARTED=0
PASSED=0

print_logs() {
    local f
    for f in "$S/slurmctld.log" "$S/slurmd.log" "$W"/logs/*; do
        [ -f "$f" ] || continue
        echo "----- $f (last 60 lines)"
        tail -n 60 "$f"
    done
    if command -v sinfo >/dev/null && [ -n "${SLURM_CONF:-}" ]; then
        echo "----- sinfo -R"
        timeout 5 sinfo -R 2>&1 || true
    fi
}

stop_pidfile() { # stop the daemon whose pid is in $1 and wait (up to 10 s) until it is gone
    local pid n
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || return 0
    for n in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "warning: pid $pid ($1) still running after 10 s; sending SIGKILL" >&2
    kill -9 "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    if [ "$rc" -ne 0 ]; then
        echo "== slurm: FAILED (exit $rc); logs follow; scratch kept in $S" >&2
        print_logs >&2
    fi
    stop_pidfile "$S/slurmd.pid"
    stop_pidfile "$S/slurmctld.pid"
    if [ "$MUNGE_STARTED" -eq 1 ]; then
        stop_pidfile /run/munge/munged.pid
    fi
    if [ "$rc" -eq 0 ] && [ "$PASSED" -eq 1 ]; then
        rm -rf "$S"
        echo "SLURM CI step passed in $((SECONDS - start)) s"
    fi
    exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
step "write slurm.conf in $S"
cat >"$S/slurm.conf" <<EOF
ClusterName=allseq-ci
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
# The default proctrack/cgroup fails silently here: the node drains and tasks "succeed" unrun.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
# Allocate CPUs, not whole nodes, so that the array tasks run side by side.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
# CPUs=8 on 2 cores: config_overrides makes slurmd accept the configured (not detected) CPUs.
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
# Without these, sbatch --wait polls for tens of seconds.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=2
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
EOF
export SLURM_CONF=$S/slurm.conf

# ---------------------------------------------------------------------------------------------
step "start munge"
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    echo "munged already running; using it"
else
    if [ ! -s /etc/munge/munge.key ]; then
        install -d -o munge -g munge -m 0700 /etc/munge
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile=/etc/munge/munge.key
        else
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        fi
        chown munge:munge /etc/munge/munge.key
        chmod 0400 /etc/munge/munge.key
    fi
    install -d -o munge -g munge -m 0755 /run/munge
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged
    MUNGE_STARTED=1
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.1
    done
    munge -n | unmunge >/dev/null || die "munge does not work"
fi

step "start slurmctld and slurmd"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
state=
for _ in $(seq 300); do
    state=$(timeout 5 sinfo -h -N -n localhost -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.1
done
[ "$state" = idle ] || die "node localhost is not idle after 30 s (state: '${state:-none}')"
sinfo

# ---------------------------------------------------------------------------------------------
step "unsharded reference: allseq psa $SCENARIO --draws $DRAWS --patients $PATIENTS"
"$ALLSEQ" psa "$SCENARIO" --draws "$DRAWS" --patients "$PATIENTS" --out "$W/whole" --quiet
for f in $CSVS; do
    [ -s "$W/whole/$f" ] || die "reference run wrote no $f"
done

same_as_whole() { # every CSV of the merged directory $1 equals the unsharded reference
    local f
    for f in $CSVS; do
        cmp "$W/whole/$f" "$1/$f" || die "$1/$f differs from the unsharded $W/whole/$f"
    done
    echo "all CSVs in $1 are identical to the unsharded run ($CSVS)"
}

# ---------------------------------------------------------------------------------------------
step "generate the array script: allseq slurm-script ... --shards $SHARDS"
mkdir -p "$W/logs" # a missing --output directory makes every task fail with no log
"$ALLSEQ" slurm-script "$SCENARIO" --draws "$DRAWS" --patients "$PATIENTS" --shards "$SHARDS" \
    --out "$W/psa" --logs "$W/logs" --allseq "$ALLSEQ" >"$W/psa.sbatch"
cat "$W/psa.sbatch"
grep -qx "#SBATCH --array=0-$((SHARDS - 1))" "$W/psa.sbatch" \
    || die "the script does not have #SBATCH --array=0-$((SHARDS - 1))"

# Submits (a re-run of) the array and waits for it; sets SUB_RC and JOB.
submit() {
    SUB_RC=0
    (cd "$REPO" && ALLSEQ_NO_MERGE_JOB=1 sbatch --wait --export=ALL "$@" "$W/psa.sbatch") \
        >"$W/sbatch.out" 2>&1 || SUB_RC=$?
    cat "$W/sbatch.out"
    JOB=$(sed -n 's/^Submitted batch job \([0-9][0-9]*\).*/\1/p' "$W/sbatch.out" | head -n 1)
    [ -n "$JOB" ] || die "sbatch did not submit a job"
}

step "submit the array: sbatch --wait (all $SHARDS tasks)"
t0=$SECONDS
submit
[ "$SUB_RC" -eq 0 ] || die "sbatch --wait exited $SUB_RC"
echo "array job $JOB finished in $((SECONDS - t0)) s"
# Exit codes can lie (a silently failing plugin reports success): check the outputs themselves.
for i in $(seq 0 $((SHARDS - 1))); do
    [ -s "$W/psa/shard-$i/manifest.json" ] || die "shard $i wrote no manifest.json"
    [ -f "$W/logs/psa_${JOB}_$i.out" ] || die "array task $i wrote no log"
done
echo "all $SHARDS shards wrote a manifest"

step "merge in this shell (the merge command written in the script's header)"
merge_cmd=$(sed -n 's/^# Merge: *//p' "$W/psa.sbatch")
[ -n "$merge_cmd" ] || die "no '# Merge:' line in the script"
echo "$merge_cmd"
eval "$merge_cmd"
same_as_whole "$W/psa/merged"

# ---------------------------------------------------------------------------------------------
lo=$((FAIL * DRAWS / SHARDS))
hi=$(((FAIL + 1) * DRAWS / SHARDS - 1))
step "failure: array task $FAIL (draws $lo-$hi) fails for real; re-run only --array=$FAIL"
rm -rf "$W/psa/shard-$FAIL"
touch "$W/psa/shard-$FAIL" # its --out is now a regular file: the task cannot write there
submit --array="$FAIL"
echo "sbatch --wait exited $SUB_RC"
[ "$SUB_RC" -ne 0 ] || die "sbatch --wait reported success for a failing task"
[ ! -e "$W/psa/shard-$FAIL/manifest.json" ] || die "the failed shard has a manifest"
log=$W/logs/psa_${JOB}_$FAIL.out
[ -f "$log" ] || die "the failed task wrote no log ($log)"
grep -qi error "$log" || die "the failed task's log shows no error"
echo "task $FAIL failed as intended; its log says: $(grep -i error "$log" | head -n 1)"

merge_refuses() { # $1: fresh output directory; the rest: shard directories
    local out=$1 rc=0
    shift
    "$ALLSEQ" merge "$@" --out "$out" >"$W/merge.out" 2>&1 || rc=$?
    cat "$W/merge.out"
    [ "$rc" -ne 0 ] || die "allseq merge accepted shards with draws $lo-$hi missing"
    if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
        die "the refused merge wrote into $out: $(ls -A "$out" | tr '\n' ' ')"
    fi
}

step "allseq merge refuses all $SHARDS shard paths (shard-$FAIL is not a shard)"
all=()
for i in $(seq 0 $((SHARDS - 1))); do all+=("$W/psa/shard-$i"); done
merge_refuses "$W/refused-all" "${all[@]}"
grep -q -- "$lo-$hi" "$W/merge.out" || die "the merge error does not name the missing draws $lo-$hi"

step "allseq merge refuses the shards that exist, naming draws $lo-$hi"
present=()
for i in $(seq 0 $((SHARDS - 1))); do
    [ "$i" -eq "$FAIL" ] || present+=("$W/psa/shard-$i")
done
merge_refuses "$W/refused-present" "${present[@]}"
grep -q -- "$lo-$hi" "$W/merge.out" || die "the merge error does not name the missing draws $lo-$hi"

step "recovery: fix shard $FAIL's output path and re-run only --array=$FAIL"
rm -f "$W/psa/shard-$FAIL"
submit --array="$FAIL"
[ "$SUB_RC" -eq 0 ] || die "sbatch --wait --array=$FAIL exited $SUB_RC"
[ -s "$W/psa/shard-$FAIL/manifest.json" ] || die "the re-run shard $FAIL wrote no manifest.json"
"$ALLSEQ" merge "${all[@]}" --out "$W/recovered"
same_as_whole "$W/recovered"

# ---------------------------------------------------------------------------------------------
step "the script's own merge step: submit the whole array again without ALLSEQ_NO_MERGE_JOB"
rm -rf "$W/psa/merged"
(cd "$REPO" && env -u ALLSEQ_NO_MERGE_JOB sbatch --wait --export=ALL,ALLSEQ_NO_MERGE_JOB= "$W/psa.sbatch")
# Task 0 submitted the merge with afterok on the array; wait for the queue to empty.
for _ in $(seq 600); do
    [ -z "$(squeue -h 2>/dev/null)" ] && break
    sleep 0.1
done
[ -z "$(squeue -h)" ] || die "jobs still queued after 60 s: $(squeue -h)"
[ -s "$W/psa/merged/manifest.json" ] || die "the merge job wrote nothing (logs: $(ls "$W/logs"))"
same_as_whole "$W/psa/merged"

step "all checks passed; stopping the daemons"
PASSED=1 # the EXIT trap stops the daemons, removes the scratch folder and prints the verdict
