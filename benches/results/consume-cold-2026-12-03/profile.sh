#!/usr/bin/env bash
# profile.sh BIN_DIR NAME: a cold consume (16 partitions, 16 KiB records, page cache dropped) of a
# topic written by a 12 s produce (or the one in $COLD_DATA/cold), with `perf record -g` on the
# broker for 6 s from 1 s into the consume. Output: $OUT_DIR/NAME.{txt,json,perf.data}.
set -euo pipefail
cd "$(dirname "$0")/../../.."  # the repository root, for lib.sh
BIN=$1; OUTP=${OUT_DIR:-/tmp}/$2
source loadgen/scripts/lib.sh
DATA=${COLD_DATA:-$(mktemp -d /var/tmp/sluice-coldhdr-XXXXXX)}
PORT=$(free_port)
cat > $OUTP.toml <<T
listeners = "PLAINTEXT://127.0.0.1:$PORT"
"sluice.batch.cache.bytes" = 4294967296
T
LG=${LOADGEN:-$BIN/sluice-loadgen}
if [ ! -d "$DATA/cold" ]; then
taskset -c 0 $BIN/sluice start --config $OUTP.toml --data-dir $DATA/cold --cores 1 --metrics-listen 127.0.0.1:0 > $OUTP-fill.log 2>&1 &
PID=$!; wait_port $PORT
taskset -c 1 $LG produce --bootstrap 127.0.0.1:$PORT --topic cold --partitions 16 --message-bytes 16384 --acks 1 --quiet --warmup-s 0 --duration-s 12 > $OUTP-fill.txt 2>&1
kill $PID; wait $PID || true; PID=
fi
taskset -c 0 $BIN/sluice start --config $OUTP.toml --data-dir $DATA/cold --cores 1 --metrics-listen 127.0.0.1:0 > $OUTP-broker.log 2>&1 &
PID=$!; wait_port $PORT
sync; echo 3 > /proc/sys/vm/drop_caches
taskset -c 1 $LG consume --bootstrap 127.0.0.1:$PORT --topic cold --partitions 16 --message-bytes 16384 --acks 1 --warmup-s 0 --duration-s 60 --json $OUTP.json > $OUTP.txt 2>&1 &
LGPID=$!
sleep 1
perf record -F 999 -g -p $PID -o $OUTP.perf.data -- sleep 6 > /dev/null 2>&1 || true
wait $LGPID || true
kill $PID; wait $PID || true; PID=
echo "data kept in $DATA"; DATA=
