#!/usr/bin/env bash
# Produce throughput through a 3-broker cluster (replication factor 1, three `sluice` processes)
# against a single node, on one loadgen cell, as a ratio measured in one run: PAIRS rounds,
# each running the cell once against a single node (A) and once against the cluster (B), the
# order alternating every round, fresh processes and data dirs per run. Every broker process
# (the single node, or all three cluster members) is pinned to CPU 0 and loadgen to CPU 1, so
# both setups get the same CPU; the cluster pays for its three processes, its controller
# quorum and the routing of each partition to its leader's process.
#
#   loadgen/scripts/cluster_vs_single.sh BIN_DIR OUT_DIR [DATA_PARENT]
#
# BIN_DIR holds `sluice` and `sluice-loadgen` (e.g. target/release). Environment: PAIRS (3),
# ACKS (1), PARTITIONS (16), MESSAGE_BYTES (1024), WARMUP_S (2), DURATION_S (8).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:?usage: cluster_vs_single.sh BIN_DIR OUT_DIR [DATA_PARENT]}
OUT=${2:?usage: cluster_vs_single.sh BIN_DIR OUT_DIR [DATA_PARENT]}
DATA_PARENT=${3:-/var/tmp}
PAIRS=${PAIRS:-3}
ACKS=${ACKS:-1}
PARTITIONS=${PARTITIONS:-16}
MESSAGE_BYTES=${MESSAGE_BYTES:-1024}
WARMUP_S=${WARMUP_S:-2}
DURATION_S=${DURATION_S:-8}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

source loadgen/scripts/lib.sh

run_one() { # label round
  local label=$1 round=$2 bootstrap
  DATA=$(mktemp -d "$DATA_PARENT/sluice-cluster-XXXXXX")
  if [ "$label" = A ]; then
    local port; port=$(free_port)
    taskset -c 0 "$BIN/sluice" start --listen "127.0.0.1:$port" --data-dir "$DATA/single" \
      --cores 1 --metrics-listen 127.0.0.1:0 > "$OUT/broker-A-$round.log" 2>&1 &
    PIDS+=($!)
    wait_port "$port"
    bootstrap=127.0.0.1:$port
  else
    local ports=() controllers=() voters=""
    for id in 1 2 3; do
      ports+=("$(free_port)"); controllers+=("$(free_port)")
      voters+="${voters:+,}$id@127.0.0.1:${controllers[$((id - 1))]}"
    done
    for id in 1 2 3; do
      taskset -c 0 "$BIN/sluice" start --node-id "$id" --listen "127.0.0.1:${ports[$((id - 1))]}" \
        --controller-listen "127.0.0.1:${controllers[$((id - 1))]}" --controller-voters "$voters" \
        --data-dir "$DATA/node$id" --cores 1 --metrics-listen 127.0.0.1:0 \
        > "$OUT/broker-B-$round-node$id.log" 2>&1 &
      PIDS+=($!)
    done
    for port in "${ports[@]}"; do wait_port "$port"; done
    bootstrap="127.0.0.1:${ports[0]}"
  fi
  local cmd=(taskset -c 1 "$BIN/sluice-loadgen" produce --bootstrap "$bootstrap"
    --acks "$ACKS" --partitions "$PARTITIONS" --message-bytes "$MESSAGE_BYTES"
    --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --quiet --baseline-disk "$DATA"
    --label "$label round $round" --json "$OUT/$label-$round.json")
  echo "${cmd[*]}" >> "$OUT/commands.txt"
  "${cmd[@]}" > "$OUT/$label-$round.txt" 2>&1 || echo "   $label round $round: loadgen exited non-zero" | tee -a "$OUT/commands.txt"
  stop
}

{ echo "# cluster_vs_single.sh $*"; echo "# A=single node, B=3-broker cluster; PAIRS=$PAIRS ACKS=$ACKS PARTITIONS=$PARTITIONS MESSAGE_BYTES=$MESSAGE_BYTES DURATION_S=$DURATION_S"; } > "$OUT/commands.txt"
for round in $(seq "$PAIRS"); do
  echo "== round $round: $(uptime)" | tee -a "$OUT/commands.txt"
  if [ $((round % 2)) = 1 ]; then run_one A "$round"; run_one B "$round"; else run_one B "$round"; run_one A "$round"; fi
done
python3 "$(dirname "$0")/summarize_ab.py" "$OUT" "$PAIRS" | tee "$OUT/summary.md"
