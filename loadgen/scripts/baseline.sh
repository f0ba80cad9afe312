#!/usr/bin/env bash
# The loadgen baseline (issue "loadgen"): the full sweep against Sluice with `--cores 1`
# (broker pinned to CPU 0, loadgen to CPU 1) and with `--cores 2` (sharing both CPUs),
# each with the same-run O_DIRECT disk baseline of the broker's data directory, then the
# fixed-rate latency check at half the measured max rate (acks=1, 16 partitions, 1 KiB).
#
#   loadgen/scripts/baseline.sh OUT_DIR [DATA_PARENT]
#
# DATA_PARENT (default /var/tmp) must be on the disk under test (not tmpfs: O_DIRECT).
# Environment: WARMUP_S (2), DURATION_S (5), ACKS, PARTITIONS, SIZES (the issue's lists),
# BIN_DIR (prebuilt sluice and sluice-loadgen; default: build target/release here).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage: baseline.sh OUT_DIR [DATA_PARENT]}
DATA_PARENT=${2:-/var/tmp}
WARMUP_S=${WARMUP_S:-2}
DURATION_S=${DURATION_S:-5}
ACKS=${ACKS:-0,1,all}
PARTITIONS=${PARTITIONS:-1,16,256,1024}
SIZES=${SIZES:-100,1024,16384}
# Latency-oriented client settings for the fixed-rate check (Java's default batch size; a
# short linger so that batching does not dominate the latency being measured).
RATE_FLAGS=${RATE_FLAGS:---batch-bytes 16384 --linger-us 100}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# BIN_DIR: use binaries built elsewhere (e.g. from a clean `git archive` of one commit).
if [ -z "${BIN_DIR:-}" ]; then
  cargo build --release -p sluice-server -p sluice-loadgen
  BIN_DIR=target/release
fi
SLUICE=$BIN_DIR/sluice
LOADGEN=$BIN_DIR/sluice-loadgen

source loadgen/scripts/lib.sh

start_broker() { # cores pin
  local cores=$1 pin=$2
  DATA=$(mktemp -d "$DATA_PARENT/sluice-baseline-XXXXXX")
  PORT=$(free_port)
  taskset -c "$pin" "$SLUICE" start --listen "127.0.0.1:$PORT" --data-dir "$DATA/data" --cores "$cores" \
    > "$OUT/broker-cores$cores.log" 2>&1 &
  PID=$!
  wait_port "$PORT" && return 0
  echo "broker did not start"; cat "$OUT/broker-cores$cores.log"; exit 1
}

pressure() { for r in cpu io; do echo "   $r pressure: $(head -1 /proc/pressure/$r 2>/dev/null)" >> "$OUT/commands.txt"; done; }

run_config() { # cores broker_cpus loadgen_cpus
  local cores=$1 bpin=$2 lpin=$3
  # One fresh broker per acks value: a broker failure in one group cannot void the others.
  for acks in ${ACKS//,/ }; do
    start_broker "$cores" "$bpin"
    echo "== cores=$cores acks=$acks: $(uptime)" | tee -a "$OUT/commands.txt"
    pressure
    local cmd=(taskset -c "$lpin" "$LOADGEN" sweep --bootstrap "127.0.0.1:$PORT"
      --acks "$acks" --partitions "$PARTITIONS" --message-bytes "$SIZES"
      --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --delete-topics --quiet
      --baseline-disk "$DATA" --baseline-net --label "sluice --cores $cores"
      --out-dir "$OUT/cores-$cores-acks-$acks" --json "$OUT/sweep-cores$cores-acks$acks.json")
    echo "${cmd[*]}" >> "$OUT/commands.txt"
    "${cmd[@]}" | tee "$OUT/sweep-cores$cores-acks$acks.txt" || echo "sweep exited non-zero (see table)"
    if ! kill -0 "$PID" 2>/dev/null; then
      echo "   broker died during cores=$cores acks=$acks (log: broker-cores$cores.log)" | tee -a "$OUT/commands.txt"
      cp "$OUT/broker-cores$cores.log" "$OUT/broker-cores$cores-acks$acks-died.log"
    fi
    stop
  done

  # Fixed rate at half the max rate of the same acks level (16 partitions, 1 KiB), on a fresh
  # broker: P3's latency at 50% load, coordinated omission corrected by loadgen's schedule.
  local max rate_acks
  for rate_acks in 1 all; do
    max=$(python3 -c "import json; r=json.load(open('$OUT/sweep-cores$cores-acks$rate_acks.json'))
c=[c for c in r['cells'] if c['partitions']==16 and c['message_bytes']==1024][0]
print(int((c.get('produce') or {}).get('msgs_per_s', 0)))" 2>/dev/null || echo 0)
    [ "$max" -gt 0 ] || continue
    start_broker "$cores" "$bpin"
    local half=$((max / 2)) suffix=""
    [ "$rate_acks" = 1 ] || suffix="-acks$rate_acks"
    cmd=(taskset -c "$lpin" "$LOADGEN" produce --bootstrap "127.0.0.1:$PORT" --acks "$rate_acks" --partitions 16
      --message-bytes 1024 --rate "$half" --warmup-s "$WARMUP_S" --duration-s 10 --delete-topics --quiet
      $RATE_FLAGS
      --label "sluice --cores $cores acks=$rate_acks, half of $max msgs/s" --out-dir "$OUT/cores-$cores-rate$suffix"
      --json "$OUT/rate-cores$cores$suffix.json")
    echo "${cmd[*]}" >> "$OUT/commands.txt"
    "${cmd[@]}" | tee "$OUT/rate-cores$cores$suffix.txt" || echo "rate run exited non-zero"
    stop
  done
  echo "== cores=$cores done: $(uptime)" | tee -a "$OUT/commands.txt"
  pressure
}

: > "$OUT/commands.txt"
run_config 1 0 1
run_config 2 0,1 0,1
echo "results in $OUT"
