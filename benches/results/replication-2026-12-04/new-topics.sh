#!/bin/bash
# Three local brokers (RF 3, min.insync.replicas 2, replica.fetch.wait.max.ms = WAIT_MS), then
# five topics in a row, each created by confluent-kafka, which at once writes one acks=all
# message to each of its 3 partitions (server/tests/clients/python/first_acks_all_writes.py):
# one JSON line per topic with the slowest delivery. The first topic starts the replication
# streams; the later ones arrive while every stream sits in a long poll. Fixed ports 29xxx.
# The brokers' logs stay in the printed directory (their data dirs are removed).
#
#   new-topics.sh BIN_DIR WAIT_MS      (PYTHON: a python with confluent-kafka; default the
#                                        venv .ci/test makes in target/test-clients)
set -u
B=$1; WAIT_MS=$2
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
P=${PYTHON:-$ROOT/target/test-clients/venv/bin/python}
D=$(mktemp -d /var/tmp/p7x-XXXX)
printf '"min.insync.replicas" = 2\n"default.replication.factor" = 3\n"replica.fetch.wait.max.ms" = %s\n' "$WAIT_MS" > $D/r.toml
V=1@127.0.0.1:29093,2@127.0.0.1:29193,3@127.0.0.1:29293
for i in 1 2 3; do
  RUST_LOG=info,sluice_server::replication=debug $B/sluice start --node-id $i --listen 127.0.0.1:29${i}92 --controller-listen 127.0.0.1:29$((i-1))93 --controller-voters $V --data-dir $D/n$i --config $D/r.toml --cores 1 --pin-shards false > $D/node$i.log 2>&1 &
done
for p in 29192 29292 29392; do for t in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break; sleep 0.1; done; done
cd "$ROOT/server/tests/clients/python"
for t in first a b c d; do
  "$P" first_acks_all_writes.py --bootstrap 127.0.0.1:29192 --topic new-$t --partitions 3 --replication-factor 3 --message-timeout-ms 10000
done
pkill -f "$B/sluice start"; wait
rm -rf $D/n1 $D/n2 $D/n3
echo "logs: $D"
