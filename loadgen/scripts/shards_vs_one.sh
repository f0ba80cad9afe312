#!/usr/bin/env bash
# One client against the broker started two ways: `--cores 1` (one shard, on CPU 0) and the
# default shard count (one shard per core), for one or two builds, the runs of a round
# interleaved (the order rotates every round) so a shared machine's drift hits every layout
# alike. The loadgen runs the same way in every run (LOADGEN_CPUS, default every CPU: not
# pinned), and the broker is never pinned by taskset (its shards pin themselves), so the only
# difference between the layouts is the shard count. Prints a table per run and the median of
# the per-round ratios default / --cores 1 for each build (and B / A per layout).
#
#   loadgen/scripts/shards_vs_one.sh OUT_DIR A_BIN_DIR [B_BIN_DIR] [DATA_PARENT]
#
# A_BIN_DIR (and B_BIN_DIR) hold `sluice`; the loadgen is the last build's `sluice-loadgen`.
# Environment: ROUNDS (3), ACKS (1), PARTITIONS (16), MESSAGE_BYTES (1024), WARMUP_S (2),
# DURATION_S (8), LOADGEN_CPUS (0-$(nproc)-1), EXTRA (more loadgen flags).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: shards_vs_one.sh OUT_DIR A_BIN_DIR [B_BIN_DIR] [DATA_PARENT]}
A_BIN=${2:?usage: shards_vs_one.sh OUT_DIR A_BIN_DIR [B_BIN_DIR] [DATA_PARENT]}
B_BIN=${3:-}
DATA_PARENT=${4:-/var/tmp}
ROUNDS=${ROUNDS:-3}
ACKS=${ACKS:-1}
PARTITIONS=${PARTITIONS:-16}
MESSAGE_BYTES=${MESSAGE_BYTES:-1024}
WARMUP_S=${WARMUP_S:-2}
DURATION_S=${DURATION_S:-8}
LOADGEN_CPUS=${LOADGEN_CPUS:-0-$(($(nproc) - 1))}
EXTRA=${EXTRA:-}
LOADGEN=${B_BIN:-$A_BIN}/sluice-loadgen
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

source loadgen/scripts/lib.sh

run_one() { # build bin_dir layout round
  local build=$1 bin=$2 layout=$3 round=$4 port cores=()
  [ "$layout" = one ] && cores=(--cores 1)
  DATA=$(mktemp -d "$DATA_PARENT/sluice-shards-XXXXXX")
  port=$(free_port)
  "$bin/sluice" start --listen "127.0.0.1:$port" --data-dir "$DATA/data" "${cores[@]}" \
    --metrics-listen 127.0.0.1:0 > "$OUT/broker-$build-$layout-$round.log" 2>&1 &
  PID=$!
  wait_port "$port"
  local cmd=(taskset -c "$LOADGEN_CPUS" "$LOADGEN" produce --bootstrap "127.0.0.1:$port"
    --acks "$ACKS" --partitions "$PARTITIONS" --message-bytes "$MESSAGE_BYTES"
    --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --quiet --baseline-disk "$DATA"
    --label "$build $layout round $round" --json "$OUT/$build-$layout-$round.json")
  # shellcheck disable=SC2206
  [ -n "$EXTRA" ] && cmd+=($EXTRA)
  echo "$bin/sluice start ${cores[*]} ; ${cmd[*]}" >> "$OUT/commands.txt"
  "${cmd[@]}" > "$OUT/$build-$layout-$round.txt" 2>&1 ||
    echo "   $build $layout round $round: loadgen exited non-zero" | tee -a "$OUT/commands.txt"
  stop
}

RUNS=("A $A_BIN one" "A $A_BIN default")
[ -n "$B_BIN" ] && RUNS+=("B $B_BIN one" "B $B_BIN default")
{ echo "# shards_vs_one.sh $*"; echo "# ROUNDS=$ROUNDS ACKS=$ACKS PARTITIONS=$PARTITIONS MESSAGE_BYTES=$MESSAGE_BYTES DURATION_S=$DURATION_S LOADGEN_CPUS=$LOADGEN_CPUS EXTRA=$EXTRA"; } > "$OUT/commands.txt"
for round in $(seq "$ROUNDS"); do
  echo "== round $round: $(uptime)" | tee -a "$OUT/commands.txt"
  count=${#RUNS[@]}
  for i in $(seq 0 $((count - 1))); do
    # shellcheck disable=SC2086
    run_one ${RUNS[$(((i + round) % count))]} "$round"
  done
done
python3 "$(dirname "$0")/summarize_shards.py" "$OUT" "$ROUNDS" | tee "$OUT/summary.md"
