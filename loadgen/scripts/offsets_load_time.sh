#!/usr/bin/env bash
# Group coordinator load time after many commits: compaction (this tree) against the
# snapshot-and-truncate workaround it replaced (a release binary built before it), in one run.
# For each binary: a fresh broker (--cores 1, one offsets partition), COMMITS commits of
# PARTITIONS partitions by confluent-kafka, a pause until the cleaner has passed (compaction)
# or nothing (snapshots), a clean restart, and the "group coordinator loaded" time it logs;
# then the committed offsets are checked with a fetch by the same script's client.
#
#   loadgen/scripts/offsets_load_time.sh OUT_DIR PYTHON LABEL=BIN_DIR [LABEL=BIN_DIR ...]
#
# Environment: COMMITS (10000), PARTITIONS (64), ROUNDS (2), EXTRA_CONFIG (TOML lines added to
# every broker's config, e.g. '"sluice.offsets.segment.bytes" = 1048576').
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:?usage}; PY=${2:?usage}; shift 2
COMMITS=${COMMITS:-10000}
PARTITIONS=${PARTITIONS:-64}
ROUNDS=${ROUNDS:-2}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
: > "$OUT/commands.txt"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PID=; DATA=
stop() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; PID=; }
trap 'stop; [ -n "$DATA" ] && rm -rf "$DATA"' EXIT
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
wait_loaded() { # log
  for _ in $(seq 600); do grep -q "group coordinator loaded" "$1" && return 0; sleep 0.1; done; return 1; }
start() { # label bin log
  "$2/sluice" start --listen "127.0.0.1:$PORT" --data-dir "$DATA/d" --cores 1 \
    --metrics-listen "127.0.0.1:$MPORT" --config "$DATA/broker.toml" > "$3" 2>&1 &
  PID=$!
  wait_port "$PORT"
  wait_loaded "$3"
}
for round in $(seq "$ROUNDS"); do
  for pair in "$@"; do
    label=${pair%%=*}; bin=${pair#*=}
    DATA=$(mktemp -d /var/tmp/sluice-offsets-XXXXXX)
    PORT=$(free_port); MPORT=$(free_port)
    printf '"offsets.topic.num.partitions" = 1\n"log.cleaner.backoff.ms" = 100\n%s\n' "${EXTRA_CONFIG:-}" > "$DATA/broker.toml"
    echo "$bin/sluice start --cores 1 (offsets.topic.num.partitions=1, log.cleaner.backoff.ms=100, ${EXTRA_CONFIG:-})" >> "$OUT/commands.txt"
    start "$label" "$bin" "$OUT/$label-$round-first.log"
    echo "$PY loadgen/scripts/offsets_commit_many.py 127.0.0.1:$PORT $COMMITS $PARTITIONS" >> "$OUT/commands.txt"
    "$PY" loadgen/scripts/offsets_commit_many.py "127.0.0.1:$PORT" "$COMMITS" "$PARTITIONS" | tee "$OUT/$label-$round-commits.txt"
    # Let a cleaner pass finish (compaction) before the restart: passes stop growing.
    last=-1
    for _ in $(seq 100); do
      now=$(curl -s "http://127.0.0.1:$MPORT/metrics" | awk '/^sluice_log_cleaner_passes_total/ {s+=$NF} END {print s+0}')
      [ "$now" = "$last" ] && [ "$now" != 0 ] && break
      last=$now; sleep 1
    done
    bytes=$(cat "$DATA"/d/__consumer_offsets-0/*.log | wc -c)
    stop
    start "$label" "$bin" "$OUT/$label-$round-restart.log"
    ms=$(grep "group coordinator loaded" "$OUT/$label-$round-restart.log" | sed -E 's/.*elapsed_ms=([0-9]+).*/\1/')
    echo "$label round $round: offsets partition $bytes bytes of .log files (active one pre-allocated), load $ms ms, cleaner passes $last" | tee -a "$OUT/summary.txt"
    stop; rm -rf "$DATA"; DATA=
  done
done
