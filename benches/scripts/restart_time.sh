#!/usr/bin/env bash
# Broker restart time after a clean shutdown (SIGTERM), for two builds on the same data:
# fills a 4-partition topic with sluice-loadgen (acks=1, 1 KiB, DURATION_S seconds), stops the
# broker cleanly, then restarts it ROUNDS times with each build, dropping the page cache
# before each start (root), and prints how long each took to accept connections.
#
#   benches/scripts/restart_time.sh A_BIN_DIR B_BIN_DIR [DATA_DIR]
#
# Each BIN_DIR holds `sluice`; B_BIN_DIR also `sluice-loadgen`. DATA_DIR (default
# /var/tmp/sluice-restart-data) is deleted first and at the end.
set -euo pipefail
A_BIN=${1:?usage: restart_time.sh A_BIN_DIR B_BIN_DIR [DATA_DIR]}
B_BIN=${2:?usage: restart_time.sh A_BIN_DIR B_BIN_DIR [DATA_DIR]}
DATA=${3:-/var/tmp/sluice-restart-data}
DURATION_S=${DURATION_S:-6}
ROUNDS=${ROUNDS:-2}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ulimit -l unlimited 2>/dev/null || true
BROKER_PID=
cleanup() {
  if [ -n "$BROKER_PID" ]; then kill "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT
rm -rf "$DATA"
start() {
  "$1/sluice" start --listen "127.0.0.1:$PORT" --data-dir "$DATA" --cores 1 --metrics-listen 127.0.0.1:0 \
    > "$DATA.log" 2>&1 &
  BROKER_PID=$!
}
wait_up() {
  local t0 t1
  t0=$(date +%s%N)
  for _ in $(seq 6000); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    sleep 0.01
  done
  t1=$(date +%s%N)
  echo "scale=3; ($t1 - $t0) / 1000000000" | bc
}
stop() { kill -TERM "$BROKER_PID"; wait "$BROKER_PID" || true; BROKER_PID=; }

start "$B_BIN"; wait_up > /dev/null
"$B_BIN/sluice-loadgen" produce --bootstrap "127.0.0.1:$PORT" --topic restart --acks 1 --partitions 4 \
  --message-bytes 1024 --warmup-s 0 --duration-s "$DURATION_S" --quiet | sed -n 3p
stop
echo "data: $(du -sh "$DATA" | cut -f1) in 4 partitions"
for round in $(seq "$ROUNDS"); do
  for label in A B; do
    bin=$A_BIN; [ "$label" = B ] && bin=$B_BIN
    sync
    echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || echo "(page cache not dropped: not root)"
    start "$bin"
    echo "round $round $label ($bin): accepting after $(wait_up) s"
    stop
  done
done
