#!/usr/bin/env bash
# DeleteTopics answer time for a topic with many partitions and data, for two builds: each
# round starts a fresh broker (--cores 1), fills PARTITIONS partitions with sluice-loadgen
# (acks=1, 1 KiB, DURATION_S seconds), then times `sluice topic delete` until its answer.
#
#   benches/scripts/delete_topic_time.sh A_BIN_DIR B_BIN_DIR [DATA_PARENT]
#
# Environment: PARTITIONS (256), DURATION_S (5), ROUNDS (2).
set -euo pipefail
A_BIN=${1:?usage: delete_topic_time.sh A_BIN_DIR B_BIN_DIR [DATA_PARENT]}
B_BIN=${2:?usage: delete_topic_time.sh A_BIN_DIR B_BIN_DIR [DATA_PARENT]}
DATA_PARENT=${3:-/var/tmp}
PARTITIONS=${PARTITIONS:-256}
DURATION_S=${DURATION_S:-5}
ROUNDS=${ROUNDS:-2}
ulimit -l unlimited 2>/dev/null || true
BROKER_PID=
DATA=
cleanup() {
  if [ -n "$BROKER_PID" ]; then kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
  BROKER_PID=
  if [ -n "$DATA" ]; then rm -rf "$DATA"; fi
  DATA=
}
trap cleanup EXIT
for round in $(seq "$ROUNDS"); do
  for label in A B; do
    bin=$A_BIN; [ "$label" = B ] && bin=$B_BIN
    DATA=$(mktemp -d "$DATA_PARENT/sluice-delete-XXXXXX")
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$bin/sluice" start --listen "127.0.0.1:$PORT" --data-dir "$DATA/data" --cores 1 \
      --metrics-listen 127.0.0.1:0 > "$DATA/broker.log" 2>&1 &
    BROKER_PID=$!
    for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.02; done
    "$B_BIN/sluice-loadgen" produce --bootstrap "127.0.0.1:$PORT" --topic doomed --acks 1 \
      --partitions "$PARTITIONS" --message-bytes 1024 --warmup-s 0 --duration-s "$DURATION_S" --quiet > /dev/null
    size=$(du -sh "$DATA/data" | cut -f1)
    t0=$(date +%s%N)
    "$bin/sluice" topic delete doomed --bootstrap "127.0.0.1:$PORT" --timeout-ms 300000 > /dev/null
    t1=$(date +%s%N)
    echo "round $round $label ($bin): DeleteTopics of $PARTITIONS partitions, $size: $(echo "scale=3; ($t1 - $t0) / 1000000000" | bc) s"
    cleanup
  done
done
