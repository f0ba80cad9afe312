#!/usr/bin/env bash
# A/B of two broker builds on one loadgen cell, for "ratio to the previous build" figures on a
# noisy machine: PAIRS rounds, each running the cell once against build A and once against
# build B (the order alternates every round so drift hits both alike), a fresh broker and data
# dir per run, one loadgen binary (B's) for every run. Prints and writes a per-round table and
# the median B/A ratios of throughput and latency percentiles.
#
#   loadgen/scripts/ab.sh A_BIN_DIR B_BIN_DIR OUT_DIR [DATA_PARENT]
#
# A_BIN_DIR/B_BIN_DIR hold `sluice` (and B_BIN_DIR `sluice-loadgen`), e.g. a build of the
# previous commit copied aside and target/release. DATA_PARENT (default /var/tmp) must be on the
# disk under test. Environment: PAIRS (3), CORES (1; broker pinned to CPU 0 and loadgen to CPU 1
# when 1), ACKS (1), PARTITIONS (16), MESSAGE_BYTES (1024), WARMUP_S (2), DURATION_S (8),
# RATE (empty: as fast as possible; a number: fixed rate, latency from intended send times),
# EXTRA (more loadgen flags, e.g. "--batch-bytes 16384 --linger-us 100").
set -euo pipefail
cd "$(dirname "$0")/../.."
A_BIN=${1:?usage: ab.sh A_BIN_DIR B_BIN_DIR OUT_DIR [DATA_PARENT]}
B_BIN=${2:?usage: ab.sh A_BIN_DIR B_BIN_DIR OUT_DIR [DATA_PARENT]}
OUT=${3:?usage: ab.sh A_BIN_DIR B_BIN_DIR OUT_DIR [DATA_PARENT]}
DATA_PARENT=${4:-/var/tmp}
PAIRS=${PAIRS:-3}
CORES=${CORES:-1}
ACKS=${ACKS:-1}
PARTITIONS=${PARTITIONS:-16}
MESSAGE_BYTES=${MESSAGE_BYTES:-1024}
WARMUP_S=${WARMUP_S:-2}
DURATION_S=${DURATION_S:-8}
RATE=${RATE:-}
EXTRA=${EXTRA:-}
LOADGEN=$B_BIN/sluice-loadgen
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ "$CORES" = 1 ]; then BROKER_CPUS=0; LOADGEN_CPUS=1; else BROKER_CPUS=0-$((CORES - 1)); LOADGEN_CPUS=0-$((CORES - 1)); fi

source loadgen/scripts/lib.sh

run_one() { # label bin_dir round
  local label=$1 bin=$2 round=$3 port
  DATA=$(mktemp -d "$DATA_PARENT/sluice-ab-XXXXXX")
  port=$(free_port)
  taskset -c "$BROKER_CPUS" "$bin/sluice" start --listen "127.0.0.1:$port" --data-dir "$DATA/data" \
    --cores "$CORES" --metrics-listen 127.0.0.1:0 > "$OUT/broker-$label-$round.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  local cmd=(taskset -c "$LOADGEN_CPUS" "$LOADGEN" produce --bootstrap "127.0.0.1:$port"
    --acks "$ACKS" --partitions "$PARTITIONS" --message-bytes "$MESSAGE_BYTES"
    --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --quiet --baseline-disk "$DATA"
    --label "$label round $round" --json "$OUT/$label-$round.json")
  [ -n "$RATE" ] && cmd+=(--rate "$RATE")
  # shellcheck disable=SC2206
  [ -n "$EXTRA" ] && cmd+=($EXTRA)
  echo "${cmd[*]}" >> "$OUT/commands.txt"
  "${cmd[@]}" > "$OUT/$label-$round.txt" 2>&1 || echo "   $label round $round: loadgen exited non-zero" | tee -a "$OUT/commands.txt"
  stop
}

{ echo "# ab.sh $*"; echo "# A=$A_BIN B=$B_BIN PAIRS=$PAIRS CORES=$CORES ACKS=$ACKS PARTITIONS=$PARTITIONS MESSAGE_BYTES=$MESSAGE_BYTES DURATION_S=$DURATION_S RATE=$RATE EXTRA=$EXTRA"; } > "$OUT/commands.txt"
for round in $(seq "$PAIRS"); do
  echo "== round $round: $(uptime)" | tee -a "$OUT/commands.txt"
  if [ $((round % 2)) = 1 ]; then
    run_one A "$A_BIN" "$round"; run_one B "$B_BIN" "$round"
  else
    run_one B "$B_BIN" "$round"; run_one A "$A_BIN" "$round"
  fi
done
python3 "$(dirname "$0")/summarize_ab.py" "$OUT" "$PAIRS" | tee "$OUT/summary.md"
