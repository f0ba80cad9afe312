#!/usr/bin/env bash
# Consumer throughput (issue 16, goal P4), two builds A/B interleaved:
#   cached: a topic just produced (it fits the batch cache) read from its start, against the
#           same-run loopback TCP baseline (--baseline-net);
#   cold:   a topic read from its start right after a broker restart (batch cache empty) and
#           `echo 3 > /proc/sys/vm/drop_caches` (page cache empty): every byte comes from the
#           segment files through sendfile, against the same-run O_DIRECT read rate of the same
#           disk (--baseline-disk DATA_PARENT, which also holds the broker's data).
# Broker --cores 1 pinned to CPU 0, loadgen pinned to CPU 1. Needs root (drop_caches).
#
#   loadgen/scripts/consume_cold_vs_cached.sh BIN_A BIN_B OUT_DIR [DATA_PARENT]
#
# BIN_A and BIN_B hold a release `sluice`; loadgen is BIN_B's `sluice-loadgen`. Environment:
# ROUNDS (3), PARTITIONS (16), MESSAGE_BYTES (16384), CACHED_FILL_S (3: seconds of produce that
# fill the cached topic, which must stay under CACHE_BYTES), COLD_FILL_S (12), CACHE_BYTES
# (4 GiB), MODES ("cached cold").
#
# Output in OUT_DIR: commands.txt, {cached,cold}-{a,b}-N.json (loadgen), broker-*.log and
# summary.md (per-run MB/s and ratios to the baselines).
set -euo pipefail
cd "$(dirname "$0")/../.."
USAGE="usage: consume_cold_vs_cached.sh BIN_A BIN_B OUT_DIR [DATA_PARENT]"
BIN_A=$(cd "${1:?$USAGE}" && pwd)
BIN_B=$(cd "${2:?$USAGE}" && pwd)
OUT=${3:?$USAGE}
DATA_PARENT=${4:-/var/tmp}
ROUNDS=${ROUNDS:-3}
PARTITIONS=${PARTITIONS:-16}
MESSAGE_BYTES=${MESSAGE_BYTES:-16384}
CACHED_FILL_S=${CACHED_FILL_S:-3}
COLD_FILL_S=${COLD_FILL_S:-12}
CACHE_BYTES=${CACHE_BYTES:-4294967296}
MODES=${MODES:-cached cold}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOADGEN=$BIN_B/sluice-loadgen
: > "$OUT/commands.txt"

source loadgen/scripts/lib.sh

DATA=$(mktemp -d "$DATA_PARENT/sluice-consume-XXXXXX")
PORT=$(free_port)
cat > "$OUT/broker.toml" <<EOF
listeners = "PLAINTEXT://127.0.0.1:$PORT"
"sluice.batch.cache.bytes" = $CACHE_BYTES
EOF

log() { echo "$*" >> "$OUT/commands.txt"; }

start_broker() { # bin_dir data_dir log_name
  local cmd=(taskset -c 0 "$1/sluice" start --config "$OUT/broker.toml" --data-dir "$2"
    --cores 1 --metrics-listen 127.0.0.1:0)
  log "${cmd[*]}"
  "${cmd[@]}" > "$OUT/broker-$3.log" 2>&1 &
  PID=$!
  wait_port "$PORT"
}

stop_broker() {
  kill "$PID"
  wait "$PID" || true
  PID=
}

loadgen() { # mode(produce|consume) topic json_name extra-args...
  local mode=$1 topic=$2 name=$3
  shift 3
  local cmd=(taskset -c 1 "$LOADGEN" "$mode" --bootstrap "127.0.0.1:$PORT" --topic "$topic"
    --partitions "$PARTITIONS" --message-bytes "$MESSAGE_BYTES" --acks 1 --quiet
    --label "$name" --json "$OUT/$name.json" "$@")
  log "${cmd[*]}"
  "${cmd[@]}" > "$OUT/$name.txt" 2>&1 || log "   $name: loadgen exited non-zero"
}

drop_caches() {
  log "sync; echo 3 > /proc/sys/vm/drop_caches"
  sync
  echo 3 > /proc/sys/vm/drop_caches
}

# The cold topic is written once (by B) and read by both builds after each restart.
if [[ " $MODES " == *" cold "* ]]; then
  start_broker "$BIN_B" "$DATA/cold" fill-cold
  loadgen produce cold fill-cold --warmup-s 0 --duration-s "$COLD_FILL_S"
  stop_broker
  log "cold topic on disk: $(du -sh "$DATA/cold" | cut -f1)"
fi

run_cached() { # ab bin round
  rm -rf "$DATA/cached"
  start_broker "$2" "$DATA/cached" "cached-$1-$3"
  loadgen produce cached "fill-cached-$1-$3" --warmup-s 0 --duration-s "$CACHED_FILL_S"
  log "cached topic on disk: $(du -sb "$DATA/cached" | cut -f1) bytes (cache $CACHE_BYTES)"
  loadgen consume cached "cached-$1-$3" --warmup-s 0 --duration-s 60 --baseline-net
  stop_broker
}

run_cold() { # ab bin round
  start_broker "$2" "$DATA/cold" "cold-$1-$3"
  drop_caches
  loadgen consume cold "cold-$1-$3" --warmup-s 0 --duration-s 60 --baseline-disk "$DATA_PARENT"
  stop_broker
}

for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="a b"; else order="b a"; fi
  for mode in $MODES; do
    for ab in $order; do
      if [ "$ab" = a ]; then bin=$BIN_A; else bin=$BIN_B; fi
      echo "round $round: $mode $ab ($(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/commands.txt"
      "run_$mode" "$ab" "$bin" "$round"
    done
  done
done
stop

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def cell(name):
    try:
        report = json.load(open(os.path.join(out, f"{name}.json")))
        return report, report["cells"][0]
    except Exception:
        return None, None
lines = ["| run | consume MB/s | baseline MB/s | ratio |", "|---|---|---|---|"]
ratios = {}
for mode, base in (("cached", "net"), ("cold", "disk")):
    for r in range(1, rounds + 1):
        for ab in ("a", "b"):
            report, c = cell(f"{mode}-{ab}-{r}")
            if not c or not (c.get("consume") or {}).get("mb_per_s"):
                continue
            mb = c["consume"]["mb_per_s"]
            if base == "net":
                b = report["net_baseline"]["mb_per_s"]
            else:
                b = report["disk_baseline"]["read_mb_per_s"]
            ratios.setdefault((mode, ab), []).append(mb / b)
            lines.append(f"| {mode} {ab} round {r} | {mb:.1f} | {base} {b:.1f} | {mb / b:.3f} |")
lines.append("")
for (mode, ab), rs in sorted(ratios.items()):
    lines.append(f"median {mode} {ab}: {statistics.median(rs):.3f} ({len(rs)} runs)")
text = "\n".join(lines) + "\n"
open(os.path.join(out, "summary.md"), "w").write(text)
print(text)
PY
