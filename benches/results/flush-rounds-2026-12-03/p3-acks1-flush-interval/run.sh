#!/bin/bash
# acks=1 at a fixed rate (600k msgs/s = half the quiet max), default flush interval vs 1000 ms.
cd "$(dirname "$0")/../../../.."; source loadgen/scripts/lib.sh
BIN=$1; OUT=$2; RATE=${RATE:-600000}; mkdir -p $OUT
for round in 1 2; do
for interval in 10 1000; do
  DATA=$(mktemp -d /var/tmp/p3fi-XXXX); PORT=$(free_port)
  printf 'log.flush.interval.ms=%s\n' $interval > $DATA/server.properties
  taskset -c 0 $BIN/sluice start --config $DATA/server.properties --listen 127.0.0.1:$PORT --data-dir $DATA/data --cores 1 --metrics-listen 127.0.0.1:0 > $OUT/broker-$interval-$round.log 2>&1 &
  PID=$!; wait_port $PORT
  cmd=(taskset -c 1 $BIN/sluice-loadgen produce --bootstrap 127.0.0.1:$PORT --acks 1 --partitions 16 --message-bytes 1024 --rate $RATE --warmup-s 2 --duration-s 10 --delete-topics --quiet --batch-bytes 16384 --linger-us 100 --json $OUT/interval$interval-$round.json)
  echo "log.flush.interval.ms=$interval: ${cmd[*]}" >> $OUT/commands.txt
  "${cmd[@]}" > $OUT/interval$interval-$round.txt 2>&1
  echo "interval=$interval round=$round: $(grep -E '^1 ' $OUT/interval$interval-$round.txt)"
  stop
done; done
