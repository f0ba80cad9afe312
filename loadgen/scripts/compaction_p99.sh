#!/usr/bin/env bash
# Produce latency while the log cleaner runs, against no cleaning (issue 15), in one run on one
# node. Each run starts a fresh broker (pinned to CPU 0, --cores 1, so the cleaner shares the
# shard with the producer) and fills a compacted topic `backlog` with keyed overwrites while
# its cleaning is held back (min.compaction.lag.ms far in the future). Then:
#   N (no cleaning): loadgen produces at a fixed rate to another topic; backlog stays dirty;
#   C (cleaning):    backlog's min.compaction.lag.ms is set to 0 first, so the cleaner works
#                    through it while loadgen produces the same load.
# ROUNDS rounds of N and C in alternating order. The cleaner's passes ended and bytes read
# during each window and backlog's dirty ratio at its end come from the metrics endpoint (the
# counters move when a pass ends): no pass ended and a ratio still at 1 means the cleaner was
# busy for the whole window.
#
#   loadgen/scripts/compaction_p99.sh BIN_DIR OUT_DIR [DATA_PARENT]
#
# Environment: DUTY (the broker's sluice.log.cleaner.duty.percent; unset: its default),
# ROUNDS (3), BACKLOG_S (25: seconds of unpaced keyed produce into backlog), KEYS (2000),
# RATE (10000 messages/s), PARTITIONS (4), MESSAGE_BYTES (1024), ACKS (all), WARMUP_S (2),
# DURATION_S (10).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:?usage: compaction_p99.sh BIN_DIR OUT_DIR [DATA_PARENT]}
OUT=${2:?usage: compaction_p99.sh BIN_DIR OUT_DIR [DATA_PARENT]}
DATA_PARENT=${3:-/var/tmp}
ROUNDS=${ROUNDS:-3}
BACKLOG_S=${BACKLOG_S:-25}
KEYS=${KEYS:-2000}
RATE=${RATE:-10000}
PARTITIONS=${PARTITIONS:-4}
MESSAGE_BYTES=${MESSAGE_BYTES:-1024}
ACKS=${ACKS:-all}
WARMUP_S=${WARMUP_S:-2}
DURATION_S=${DURATION_S:-10}
HOLD_MS=100000000000
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
: > "$OUT/commands.txt"

source loadgen/scripts/lib.sh

metric() { # metrics_port name [topic]: the sum of the samples
  curl -s "http://127.0.0.1:$1/metrics" | awk -v name="$2" -v topic="${3:-}" '
    index($0, name) == 1 && (topic == "" || index($0, "topic=\"" topic "\"") > 0) {
      sum += $NF; seen = 1 }
    END { if (seen) printf "%.6f\n", sum; else print "0" }'
}

cli() { # port args...
  local port=$1; shift
  echo "$BIN/sluice $* --bootstrap 127.0.0.1:$port" >> "$OUT/commands.txt"
  "$BIN/sluice" "$@" --bootstrap "127.0.0.1:$port" > /dev/null
}

run_one() { # label round
  local label=$1 round=$2 port mport
  DATA=$(mktemp -d "$DATA_PARENT/sluice-compaction-XXXXXX")
  port=$(free_port)
  mport=$(free_port)
  printf '"log.cleaner.backoff.ms" = 100\n' > "$DATA/broker.toml"
  if [ -n "${DUTY:-}" ]; then printf '"sluice.log.cleaner.duty.percent" = %s\n' "$DUTY" >> "$DATA/broker.toml"; fi
  local broker=(taskset -c 0 "$BIN/sluice" start --listen "127.0.0.1:$port" --data-dir "$DATA/d"
    --cores 1 --metrics-listen "127.0.0.1:$mport" --config "$DATA/broker.toml")
  echo "${broker[*]}" >> "$OUT/commands.txt"
  "${broker[@]}" > "$OUT/broker-$label-$round.log" 2>&1 &
  PID=$!
  wait_port "$port"
  cli "$port" topic create backlog --partitions 1 --config cleanup.policy=compact \
    --config segment.bytes=67108864 --config "min.compaction.lag.ms=$HOLD_MS"
  local fill=(taskset -c 1 "$BIN/sluice-loadgen" produce --bootstrap "127.0.0.1:$port"
    --topic backlog --partitions 1 --acks 1 --keyed --key-count "$KEYS"
    --message-bytes "$MESSAGE_BYTES" --warmup-s 0 --duration-s "$BACKLOG_S" --quiet
    --label "backlog $label $round" --json "$OUT/backlog-$label-$round.json")
  echo "${fill[*]}" >> "$OUT/commands.txt"
  "${fill[@]}" > "$OUT/backlog-$label-$round.txt" 2>&1
  local passes_before read_before
  passes_before=$(metric "$mport" sluice_log_cleaner_passes_total)
  read_before=$(metric "$mport" sluice_log_cleaner_read_bytes_total)
  if [ "$label" = C ]; then
    cli "$port" topic alter-config backlog --set min.compaction.lag.ms=0
  fi
  local cmd=(taskset -c 1 "$BIN/sluice-loadgen" produce --bootstrap "127.0.0.1:$port"
    --acks "$ACKS" --partitions "$PARTITIONS" --message-bytes "$MESSAGE_BYTES"
    --rate "$RATE" --warmup-s "$WARMUP_S" --duration-s "$DURATION_S" --quiet
    --label "$label round $round" --json "$OUT/$label-$round.json")
  echo "${cmd[*]}" >> "$OUT/commands.txt"
  "${cmd[@]}" > "$OUT/$label-$round.txt" 2>&1 || echo "   $label round $round: loadgen exited non-zero" | tee -a "$OUT/commands.txt"
  # The cleaner's counters move when a pass ends; backlog's dirty ratio drops then too. A
  # ratio still at 1 with no pass ended means the one pass ran through the whole window.
  local passes_after read_after dirty_end
  passes_after=$(metric "$mport" sluice_log_cleaner_passes_total)
  read_after=$(metric "$mport" sluice_log_cleaner_read_bytes_total)
  dirty_end=$(metric "$mport" sluice_log_cleaner_dirty_ratio backlog)
  echo "$label $round passes_ended=$(python3 -c "print(int($passes_after - $passes_before))") cleaner_read_bytes=$(python3 -c "print(int($read_after - $read_before))") backlog_dirty_ratio_at_end=$dirty_end" | tee -a "$OUT/cleaner.txt"
  stop
}

for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then order="N C"; else order="C N"; fi
  for label in $order; do
    echo "round $round: $label"
    run_one "$label" "$round"
  done
done
python3 - "$OUT" "$ROUNDS" <<'EOF' | tee "$OUT/summary.md"
import json, sys, statistics
out, rounds = sys.argv[1], int(sys.argv[2])
def lat(label, r):
    with open(f"{out}/{label}-{r}.json") as f:
        return json.load(f)["cells"][0]["produce_latency"]
print("| round | N p50 ms | N p99 ms | C p50 ms | C p99 ms | C/N p99 |")
print("|---|---|---|---|---|---|")
ratios = []
for r in range(1, rounds + 1):
    n, c = lat("N", r), lat("C", r)
    ratios.append(c["p99_us"] / n["p99_us"])
    print(f"| {r} | {n['p50_us']/1e3:.1f} | {n['p99_us']/1e3:.1f} | {c['p50_us']/1e3:.1f} "
          f"| {c['p99_us']/1e3:.1f} | {ratios[-1]:.2f} |")
print(f"\nmedian C/N p99: {statistics.median(ratios):.2f} (goal <= 1.5)")
EOF
