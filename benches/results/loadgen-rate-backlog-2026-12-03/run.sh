#!/bin/bash
cd "$(dirname "$0")/../../.."; source loadgen/scripts/lib.sh
BIN=$1; OUT=$2; mkdir -p $OUT
for round in 1 2 3; do
  DATA=$(mktemp -d /var/tmp/p3fi-XXXX); PORT=$(free_port)
  taskset -c 0 $BIN/sluice start --listen 127.0.0.1:$PORT --data-dir $DATA/data --cores 1 --metrics-listen 127.0.0.1:0 > $OUT/broker-$round.log 2>&1 &
  PID=$!; wait_port $PORT
  taskset -c 1 $BIN/sluice-loadgen produce --bootstrap 127.0.0.1:$PORT --acks 1 --partitions 16 --message-bytes 1024 --rate 600000 --warmup-s 2 --duration-s 10 --delete-topics --quiet --batch-bytes 16384 --linger-us 100 > $OUT/lg-$round.txt 2>&1 &
  LG=$!
  sleep 6
  perf record -q -g -p $LG -o $OUT/perf-$round.data -- sleep 4 >/dev/null 2>&1
  wait $LG
  echo "round $round: $(grep -E '^1 ' $OUT/lg-$round.txt | awk '{print $4, $6}') $(grep 'loadgen CPU' $OUT/lg-$round.txt)"
  stop
done
